/**
 * Latency as a pruning cost, so "2x faster" is a target a user can ask for (`--target-speedup 2`).
 *
 * The model's time on the active backend is split into measured pieces: each conv/dense layer alone
 * (a one-layer model on inputs of its shape), the channel-wise layers after each prunable conv (batch
 * norm, activation, pooling), and the rest (input, head, framework overhead). A pruned network's time
 * is predicted by scaling a conv's piece with (kept inputs / inputs) x (kept outputs / outputs) and a
 * channel-wise piece with the kept outputs: FLOPs-proportional within a layer, but with each layer's
 * own measured constant, which is what differs between layers on real hardware (early
 * high-resolution layers are memory-bound, late ones compute-bound). The table is then attached to
 * the FLOPs/params cost model, and the uniform or sensitivity allocation solves `by: 'latency'`.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { CostModel, keptFraction, Share, unitShares } from '../select/cost.js';
import type { PruningUnit } from '../graph/graph.js';
import { ruleOf } from '../../models/layers.js';

export interface LatencyTable {
  batch: number;
  /** seconds per batch of the whole model */
  base: number;
  /** seconds not attributed to any prunable piece */
  fixed: number;
  /** each timed layer with the groups its input and output channels come from (null: none pruned) */
  pieces: Array<{ layer: string; seconds: number; in: Share | null; out: Share | null }>;
}

/** Median seconds of `f` over `repeats` runs after two warm-ups. */
function timeIt(f: () => tf.Tensor | tf.Tensor[], repeats: number): number {
  const once = () => {
    const t0 = performance.now();
    const y = f();
    for (const t of Array.isArray(y) ? y : [y]) {
      t.dataSync();
      t.dispose();
    }
    return (performance.now() - t0) / 1000;
  };
  once();
  once();
  const ts = Array.from({ length: repeats }, once).sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)];
}

function inputShapeOf(layer: tfl.layers.Layer): number[] {
  const input = Array.isArray(layer.input) ? layer.input[0] : layer.input;
  return input.shape.slice(1) as number[];
}

/** A one-layer model applying a copy of `layer` (same config and weights) to inputs of its shape. */
function alone(layer: tfl.layers.Layer): LayersModel {
  const make = ruleOf(layer)?.make;
  if (!make) throw new Error(`no timing rule for ${layer.getClassName()}`);
  const x = tfl.input({ shape: inputShapeOf(layer) });
  const config = { ...layer.getConfig() } as Record<string, unknown>;
  delete config.name; // a fresh layer, not a second one of the same name
  const l = make(config);
  const m = tfl.model({ inputs: x, outputs: l.apply(x) as tfl.SymbolicTensor });
  l.setWeights(layer.getWeights());
  return m;
}

/** Measures the latency table of `model` at `batch` on the active backend. */
export function measureLatency(model: LayersModel, units: PruningUnit[], o: { batch?: number; repeats?: number } = {}): LatencyTable {
  const batch = o.batch ?? 1,
    repeats = o.repeats ?? 7;
  const shares = unitShares(model, units);
  const run = (m: LayersModel) => {
    const x = tf.zeros([batch, ...(m.inputs[0].shape.slice(1) as number[])]);
    const t = timeIt(() => m.predict(x) as tf.Tensor, repeats);
    x.dispose();
    return t;
  };
  const base = run(model);
  const pieces: LatencyTable['pieces'] = [];
  for (const layer of model.layers) {
    const inS = shares.inp.get(layer.name) ?? null,
      outS = shares.out.get(layer.name) ?? null;
    // the layers whose time changes with pruning: prunable convs, their consumers, and the
    // channel-wise layers between them
    if (!ruleOf(layer)?.make || (!inS && !outS)) continue;
    const m = alone(layer as tfl.layers.Layer);
    pieces.push({ layer: layer.name, seconds: run(m), in: inS, out: outS });
    m.dispose();
  }
  const measured = pieces.reduce((a, p) => a + p.seconds, 0);
  return { batch, base, fixed: Math.max(0, base - measured), pieces };
}

/** The cost model with predicted latency (seconds per batch) for any kept counts. */
export function withLatency(cost: CostModel, table: LatencyTable): CostModel {
  const units = cost.units;
  const latency = (kept: ArrayLike<number>) =>
    table.fixed + table.pieces.reduce((a, p) => a + p.seconds * keptFraction(p.in, units, kept) * keptFraction(p.out, units, kept), 0);
  const full = units.map((u) => u.filters);
  return {
    units,
    total: { ...cost.total, latency: latency(full) },
    count: (kept) => ({ ...cost.count(kept), latency: latency(kept) }),
  };
}

/** The predicted speed-up of kept counts (full model time / pruned time). */
export function predictedSpeedup(cost: CostModel, kept: ArrayLike<number>): number {
  if (cost.total.latency === undefined) throw new Error('the cost model has no latency table (withLatency)');
  return cost.total.latency / cost.count(kept).latency!;
}
