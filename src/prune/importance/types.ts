/**
 * The importance interface (after Torch-Pruning's Importance): a criterion declares which activation
 * aggregates it needs, then scores every pruning unit, one score per filter (higher = keep), with the
 * time it took.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { AxisWindow, LabelStack } from '../../info/spatial_mi.js';
import type { PruningUnit } from '../graph/graph.js';

/** Where activations are read for a conv: its raw output, after its BN, or after its ReLU. */
export type TapPoint = 'conv' | 'bn' | 'relu';

/**
 * How a layer's maps are brought onto another lattice before quantisation: a max-pool factor, or
 * windows per axis (a child conv's stride, padding and kernel centre, with pooling around it).
 */
export type Pool = number | { y: AxisWindow; x: AxisWindow };

/** Key of a label stack in the store. */
export const labelKey = (layer: string, pool: Pool): string =>
  typeof pool === 'number'
    ? `${layer}@${pool}`
    : `${layer}@${[pool.y, pool.x].map((a) => `${a.size}/${a.stride}/${a.offset}/${a.out}`).join('x')}`;

export interface UnitTaps {
  /** What brings the self tap's maps onto the child tap's lattice (1 when they are equal). */
  pool: Pool;
  /** layer read for the unit's own filters */
  self: string;
  /** layer read for the consumer conv's filters (null when the consumer is the classifier) */
  child: string | null;
}

/** What a criterion needs from the activation pass. */
export interface Needs {
  /** label maps of `layer`, max-pooled by `pool` before quantisation */
  labels?: Array<{ layer: string; pool: Pool }>;
  /** per-(filter, image) spatial means */
  means?: string[];
  /** per-filter mean feature-map rank (HRank) */
  ranks?: string[];
  /** per-channel first-order terms sum(g * w) of every producer and batch-norm weight, per calibration batch (taylor) */
  gradients?: boolean;
}

export interface ActivationStore {
  n: number;
  /** class indices (one or two bytes each: src/data/dataset.ts Labels) */
  classLabels: Uint8Array | Uint16Array;
  /** number of classes the labels range over */
  classes: number;
  labels: Map<string, LabelStack>; // key labelKey(layer, pool)
  means: Map<string, Float64Array>; // [C x n]
  ranks: Map<string, Float64Array>; // [C]
  /** `${layer}#${weight index}` -> per calibration batch, per channel sum(g * w) (taylor.ts) */
  gradients?: Map<string, Float64Array[]>;
  /** seconds spent building each kind of aggregate inside the activation pass (gradients: its own pass) */
  seconds: { labels: number; means: number; ranks: number; gradients: number };
}

export interface ScoreContext {
  model: LayersModel;
  units: PruningUnit[];
  taps: UnitTaps[];
  store: ActivationStore;
  seed: number;
}

export interface UnitScores {
  conv: string;
  scores: Float64Array;
  seconds: number;
  /** distinct raw scores before a seeded tie-break, when a criterion ties (hrank, mint) */
  distinct?: number;
}

export interface Importance {
  readonly name: string;
  /** The aggregate whose build time is part of this criterion's cost (charged to its scoring time). */
  readonly uses?: 'labels' | 'means' | 'ranks' | 'gradients';
  /** Activation aggregates needed (none for data-free criteria). */
  needs(units: PruningUnit[], taps: UnitTaps[]): Needs;
  score(ctx: ScoreContext): UnitScores[] | Promise<UnitScores[]>;
}

/** Times f for one unit. */
export function timed(conv: string, f: () => Float64Array): UnitScores {
  const t0 = performance.now();
  const scores = f();
  return { conv, scores, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Breaks exact ties by a seeded random order, never by filter index (which would make the lowest
 * indices go first): a jitter below half the smallest gap between two distinct scores reorders tied
 * filters only. `distinct` counts the raw scores so reports can state how much the tie-break decides.
 */
export function breakTies(raw: Float64Array, rng: { next(): number }): { scores: Float64Array; distinct: number } {
  const values = [...new Set(raw)].sort((a, b) => a - b);
  let gap = Infinity;
  for (let i = 1; i < values.length; i++) gap = Math.min(gap, values[i] - values[i - 1]);
  // every score equal: any order is a tie-break; keep the jitter far below the scores' own scale
  const jitter = 0.5 * (Number.isFinite(gap) ? gap : Math.max(1, Math.abs(values[0] ?? 0)) * 1e-6);
  return { scores: Float64Array.from(raw, (r) => r + rng.next() * jitter), distinct: values.length };
}

/** `timed` for a criterion whose scores tie: the raw scores' ties broken by `breakTies`, their distinct count kept. */
export function timedTieBroken(conv: string, rng: { next(): number }, raw: () => Float64Array): UnitScores {
  let distinct = 0;
  const t = timed(conv, () => {
    const r = breakTies(raw(), rng);
    distinct = r.distinct;
    return r.scores;
  });
  return { ...t, distinct };
}
