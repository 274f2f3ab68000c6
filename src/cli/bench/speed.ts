/**
 * `auraprune bench speed`: how much faster one saved model runs than another (a pruned model against
 * its base) on the active backend, with batch norm folded as deployed; both measured alternately in
 * one process (src/eval/speed.ts). Prints one JSON line.
 */
import * as tf from '@tensorflow/tfjs-core';
import { nativeAddon } from '../../engine/backend/index.js';
import { compareSpeed } from '../../eval/speed.js';
import { countComplexity } from '../../eval/complexity.js';
import { buildAirbench } from '../../models/airbench.js';
import { loadImageModel } from '../../models/io.js';
import { foldBatchNorm } from '../../prune/surgery/fold_bn.js';

/**
 * `airbench:C1,C2,C3` names an untrained airbench with those block widths (speed does not depend on
 * the weights): e.g. whether whole channel blocks (`prune --round-to 16`) pay on this CPU.
 */
export function parseWidthSpec(spec: string): [number, number, number] | null {
  const m = /^airbench:(\d+),(\d+),(\d+)$/.exec(spec);
  if (!m) return null;
  const w = m.slice(1).map(Number) as [number, number, number];
  if (w.some((c) => c < 1 || c > 4096)) throw new Error(`${spec}: block widths must be 1..4096`);
  return w;
}

export async function benchSpeed(o: { base: string; model: string; batch: number; rounds: number; passes: number; foldBn: boolean }) {
  const load = async (path: string) => {
    const widths = parseWidthSpec(path);
    const m = widths ? buildAirbench({ widths, seed: 1 }) : await loadImageModel(path);
    return o.foldBn ? (await foldBatchNorm(m)).model : m;
  };
  const base = await load(o.base),
    model = await load(o.model);
  const backend = tf.getBackend();
  const blocked = backend === 'libtorch' ? (nativeAddon()?.setBlockedInference() ?? false) : false;
  const s = compareSpeed(base, model, { batch: o.batch, rounds: o.rounds, passes: o.passes });
  const flops = (m: typeof base) => countComplexity(m).flops;
  const out = {
    bench: 'speed',
    base: o.base,
    model: o.model,
    backend,
    blockedInference: blocked,
    foldedBatchNorm: o.foldBn,
    flopsRatio: flops(model) / flops(base),
    batch: s.batch,
    rounds: s.rounds,
    passes: s.passes,
    baseImgPerS: s.aImgPerS,
    modelImgPerS: s.bImgPerS,
    speedup: s.speedup,
    baseLatencyMs: s.aLatencyMs,
    modelLatencyMs: s.bLatencyMs,
    latencySpeedup: s.latencySpeedup,
  };
  base.dispose();
  model.dispose();
  return out;
}
