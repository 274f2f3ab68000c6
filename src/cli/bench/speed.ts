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
import { buildResNet } from '../../models/resnet.js';
import { runPythonBench } from './python.js';
import { loadImageModel } from '../../models/io.js';
import { foldBatchNorm } from '../../prune/surgery/fold_bn.js';

/** An untrained zoo network named by its channels (speed does not depend on the weights). */
export type WidthSpec =
  | { family: 'airbench'; widths: [number, number, number] }
  | { family: 'resnet'; depth: number; stream: [number, number, number]; internal: [number, number, number] };

const triple = (spec: string, list: string): [number, number, number] => {
  const w = list.split(',').map(Number) as [number, number, number];
  if (w.some((c) => !Number.isInteger(c) || c < 1 || c > 4096)) throw new Error(`${spec}: channel counts must be integers 1..4096`);
  return w;
};

/**
 * `airbench:C1,C2,C3` (block widths) or `resnetD:S1,S2,S3[/I1,I2,I3]` (a CIFAR ResNet of depth D with
 * residual-stream channels S and block-internal channels I per stage; I defaults to S): the shapes
 * pruning can produce, timed without training them, e.g. whether whole channel blocks
 * (`prune --round-to 16`) pay on this CPU or how fast a ResNet-20 at half width can run at all.
 */
export function parseWidthSpec(spec: string): WidthSpec | null {
  const a = /^airbench:(\d+,\d+,\d+)$/.exec(spec);
  if (a) return { family: 'airbench', widths: triple(spec, a[1]) };
  const r = /^resnet(\d+):(\d+,\d+,\d+)(?:\/(\d+,\d+,\d+))?$/.exec(spec);
  if (!r) return null;
  const depth = Number(r[1]);
  if ((depth - 2) % 6 !== 0 || depth < 8) throw new Error(`${spec}: ResNet depth must be 6n+2 (20, 32, 56, ...)`);
  const stream = triple(spec, r[2]);
  return { family: 'resnet', depth, stream, internal: r[3] ? triple(spec, r[3]) : stream };
}

function buildSpec(w: WidthSpec) {
  return w.family === 'airbench'
    ? buildAirbench({ widths: w.widths, seed: 1 })
    : buildResNet({ depth: w.depth, channels: { stream: w.stream, internal: w.internal }, seed: 1 });
}

/** The same two ResNet shapes in PyTorch (bench/resnet_speed_torch.py), one line per memory layout. */
function pytorchSide(o: SpeedOptions, a: WidthSpec | null, b: WidthSpec | null) {
  if (a?.family !== 'resnet' || b?.family !== 'resnet' || a.depth !== b.depth)
    throw new Error('--pytorch needs --base and --model given as resnetD:S1,S2,S3[/I1,I2,I3] of one depth');
  const arg = (w: typeof a) => `${w.stream.join(',')}/${w.internal.join(',')}`;
  return Object.fromEntries(
    (['nchw', 'channels_last', 'mkldnn'] as const).map((layout) => [
      layout,
      runPythonBench<Record<string, number>>(o.python, 'resnet_speed_torch.py', {
        depth: a.depth,
        base: arg(a),
        model: arg(b),
        layout,
        batch: o.batch,
        rounds: o.rounds,
        passes: o.passes,
        threads: o.threads,
      }),
    ]),
  );
}

export interface SpeedOptions {
  base: string;
  model: string;
  batch: number;
  rounds: number;
  passes: number;
  foldBn: boolean;
  threads: number;
  pytorch?: boolean;
  python: string;
}

export async function benchSpeed(o: SpeedOptions) {
  const specs = { base: parseWidthSpec(o.base), model: parseWidthSpec(o.model) };
  const load = async (path: string, w: WidthSpec | null) => {
    const m = w ? buildSpec(w) : await loadImageModel(path);
    return o.foldBn ? (await foldBatchNorm(m)).model : m;
  };
  const base = await load(o.base, specs.base),
    model = await load(o.model, specs.model);
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
    threads: o.threads,
    ...(o.pytorch ? { pytorch: pytorchSide(o, specs.base, specs.model) } : {}),
  };
  base.dispose();
  model.dispose();
  return out;
}
