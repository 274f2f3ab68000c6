/**
 * The pruning step as one call: scores (computed or loaded) -> kept sets (per-layer ratio or a
 * global params/FLOPs target) -> physical surgery, with a report of what was removed and why.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { countComplexity } from '../eval/complexity.js';
import type { ScoreResult } from './importance/registry.js';
import { allocateSensitivity, allocateUniform, keepTopK, SensitivityCurve } from './allocate/allocate.js';
import { costModel, CostModel } from './select/cost.js';
import { LatencyTable, predictedSpeedup, withLatency } from './allocate/latency.js';
import { selectGlobal, selectPerLayer, SelectOptions } from './select/select.js';
import { IntactConv, pruningUnits, PruningUnit } from './graph/graph.js';
import { pruneModel, PruneRecord } from './surgery/rebuild.js';

/** `latency` needs a measured latency table (PlanOptions.latency); fraction = 1 - 1/speed-up. */
export type PruneTarget = { by: 'params' | 'flops' | 'latency'; fraction: number } | { ratio: number };

/** How many filters each layer keeps: see allocate/allocate.ts. `global` decides it from the scores. */
export const ALLOCATIONS = ['uniform', 'global', 'sensitivity'] as const;
export type Allocation = (typeof ALLOCATIONS)[number];

export interface PlanOptions extends SelectOptions {
  allocation?: Allocation;
  /** Required by 'sensitivity'. */
  sensitivity?: { curves: SensitivityCurve[]; baseLoss: number };
  /** Measured layer times (allocate/latency.ts): required by `by: 'latency'` targets. */
  latency?: LatencyTable;
  /** Kept counts per unit decided elsewhere (e.g. one allocation shared by every criterion); overrides `allocation`. */
  counts?: number[];
  /**
   * false: only groups with one producer are pruned (block-internal convs of a ResNet); residual
   * streams and squeeze-excitation groups stay whole. Default true (graph.ts).
   */
  coupled?: boolean;
}

/** `--channel-groups`: coupled groups through every join (default), or internal (single-producer groups only). */
export const CHANNEL_GROUPS = ['coupled', 'internal'] as const;
export type ChannelGroups = (typeof CHANNEL_GROUPS)[number];

/**
 * Kept filter sets for a target: the allocation gives counts per unit, the scores pick the filters
 * (highest kept). A `ratio` target is uniform by definition; 'global' ranks normalised scores across
 * layers (allocation and ranking in one).
 */
export function planKeep(
  units: PruningUnit[],
  cost: CostModel,
  scores: Float64Array[],
  target: PruneTarget,
  o: PlanOptions = {},
): { kept: number[][]; allocation: string } {
  if (o.counts) return { kept: keepTopK(scores, o.counts), allocation: 'given' };
  if ('ratio' in target) return { kept: selectPerLayer(scores, target.ratio, o), allocation: 'ratio' };
  const allocation = o.allocation ?? 'uniform';
  if (allocation === 'global') {
    if (target.by === 'latency') throw new Error('a speed-up target needs --allocation uniform or sensitivity');
    return { kept: selectGlobal(scores, cost, { by: target.by, fraction: target.fraction }, o).kept, allocation };
  }
  if (allocation === 'uniform') return { kept: keepTopK(scores, allocateUniform(cost, target, o).kept), allocation };
  if (!o.sensitivity) throw new Error('sensitivity allocation needs measured curves (measureSensitivity)');
  return { kept: keepTopK(scores, allocateSensitivity(cost, o.sensitivity.curves, target, o.sensitivity.baseLoss, o).kept), allocation };
}

export interface ScoresFile {
  criterion: string;
  /** `distinct`: raw scores before a seeded tie-break (hrank) */
  units: Array<{ conv: string; filters: number; scores: number[]; seconds: number; distinct?: number }>;
  activationSeconds: number;
  scoringSeconds: number;
  config?: Record<string, unknown>;
}

export function toScoresFile(r: ScoreResult, config?: Record<string, unknown>): ScoresFile {
  return {
    criterion: r.criterion,
    activationSeconds: r.activationSeconds,
    scoringSeconds: r.scoringSeconds,
    config,
    units: r.scores.map((s, i) => ({
      conv: s.conv,
      filters: r.units[i].filters,
      scores: Array.from(s.scores),
      seconds: s.seconds,
      ...(s.distinct !== undefined ? { distinct: s.distinct } : {}),
    })),
  };
}

export interface PruneReport {
  criterion: string;
  target: PruneTarget;
  allocation: string;
  achieved: { params: number; flops: number; predictedSpeedup?: number };
  original: { params: number; flops: number };
  pruned: { params: number; flops: number };
  scoringSeconds: number;
  activationSeconds: number;
  units: Array<PruneRecord & { scores: number[]; seconds: number }>;
  /** convs left with all their filters, and why */
  intact: IntactConv[];
}

export async function pruneWithScores(
  model: LayersModel,
  scores: ScoresFile,
  target: PruneTarget,
  o: PlanOptions = {},
): Promise<{ model: LayersModel; report: PruneReport }> {
  const intact: IntactConv[] = [];
  const units = pruningUnits(model, intact, { coupled: o.coupled });
  const byConv = new Map(scores.units.map((u) => [u.conv, u]));
  const s = units.map((u) => {
    const e = byConv.get(u.conv);
    if (!e || e.scores.length !== u.filters)
      throw new Error(
        `scores do not match the model at ${u.conv} (${e ? e.scores.length : 'no'} scores for ${u.filters} filters): score this model again`,
      );
    return Float64Array.from(e.scores);
  });
  const cost = o.latency ? withLatency(costModel(model, units), o.latency) : costModel(model, units);
  const { kept, allocation } = planKeep(units, cost, s, target, o);
  const { model: pruned, history } = await pruneModel(model, units, new Map(units.map((u, i) => [u.conv, kept[i]])));
  const before = countComplexity(model),
    after = countComplexity(pruned);
  return {
    model: pruned,
    report: {
      criterion: scores.criterion,
      target,
      allocation,
      achieved: {
        params: 1 - after.params / before.params,
        flops: 1 - after.flops / before.flops,
        ...(o.latency
          ? {
              predictedSpeedup: predictedSpeedup(
                cost,
                kept.map((k) => k.length),
              ),
            }
          : {}),
      },
      original: { params: before.params, flops: before.flops },
      pruned: { params: after.params, flops: after.flops },
      scoringSeconds: scores.scoringSeconds,
      activationSeconds: scores.activationSeconds,
      units: history.map((h) => ({ ...h, scores: byConv.get(h.conv)!.scores, seconds: byConv.get(h.conv)!.seconds })),
      intact,
    },
  };
}
