/**
 * `auraprune bench engine`: training and inference throughput of a CIFAR model on the libtorch
 * backend (and briefly on tfjs's CPU backend), the most expensive kernels, fallback kernels, peak
 * RSS, and the same architecture in PyTorch (Debian python3-torch) in the same run when present.
 * Prints one JSON line.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { fallbackKernelsUsed, quietCpu, registerLibtorchBackend } from '../../engine/backend/index.js';
import { buildVgg16 } from '../../models/vgg.js';
import { foldBatchNorm } from '../../prune/surgery/fold_bn.js';
import { Rng } from '../../util/rng.js';

export interface EngineBenchOptions {
  model: 'vgg16';
  width: number;
  batch: number;
  steps: number;
  threads: number;
  cpuSteps: number;
  cpuBatch: number;
  pytorch: boolean;
  python: string;
}

interface Throughput {
  train_img_s: number;
  infer_img_s: number;
}

function batchData(batch: number, seed: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const rng = new Rng(seed);
  const x = tf.tensor4d(
    Float32Array.from({ length: batch * 32 * 32 * 3 }, () => rng.normal()),
    [batch, 32, 32, 3],
  );
  const y = tf.oneHot(
    tf.tensor1d(
      Int32Array.from({ length: batch }, () => rng.int(10)),
      'int32',
    ),
    10,
  ) as tf.Tensor2D;
  return { x, y };
}

function trainStep(model: LayersModel, opt: tf.Optimizer, x: tf.Tensor, y: tf.Tensor): void {
  tf.tidy(() => {
    const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true);
    loss!.dataSync();
  });
}

function inferStep(model: LayersModel, x: tf.Tensor): void {
  tf.tidy(() => (model.predict(x, { batchSize: x.shape[0] }) as tf.Tensor).dataSync());
}

/** Inference images per second over `steps` batches, after one warm-up batch. */
function inferRate(model: LayersModel, x: tf.Tensor, steps: number): number {
  inferStep(model, x);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) inferStep(model, x);
  return (x.shape[0] * steps) / ((performance.now() - t0) / 1000);
}

function measure(model: LayersModel, batch: number, steps: number): Throughput {
  const { x, y } = batchData(batch, 1);
  const opt = tf.train.momentum(0.01, 0.9);
  trainStep(model, opt, x, y); // warm-up: oneDNN primitive creation, allocator growth
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) trainStep(model, opt, x, y);
  const train = (batch * steps) / ((performance.now() - t0) / 1000);
  const infer = inferRate(model, x, steps);
  tf.dispose([x, y]);
  opt.dispose();
  return { train_img_s: train, infer_img_s: infer };
}

async function kernelProfile(model: LayersModel, batch: number): Promise<Array<{ kernel: string; share: number; ms: number }>> {
  const { x, y } = batchData(batch, 2);
  const opt = tf.train.momentum(0.01, 0.9);
  const info = await tf.profile(() => trainStep(model, opt, x, y));
  tf.dispose([x, y]);
  opt.dispose();
  const agg = new Map<string, number>();
  // Names ending in __op are op spans wrapping kernels; counting them would count time twice.
  for (const k of info.kernels) if (!k.name.endsWith('__op')) agg.set(k.name, (agg.get(k.name) ?? 0) + Number(k.kernelTimeMs));
  const total = [...agg.values()].reduce((a, b) => a + b, 0);
  return [...agg]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([kernel, ms]) => ({ kernel, ms: +ms.toFixed(1), share: +(ms / total).toFixed(3) }));
}

function runPytorch(o: EngineBenchOptions): Record<string, unknown> | { error: string } {
  const script = join(process.cwd(), 'bench', 'pytorch_vgg.py');
  if (!existsSync(script)) return { error: `missing ${script} (run from the repository root)` };
  const r = spawnSync(
    o.python,
    [script, '--batch', String(o.batch), '--steps', String(o.steps), '--threads', String(o.threads), '--width', String(o.width)],
    { encoding: 'utf8', env: { ...process.env, AURAPRUNE_DEFAULT_MALLOC: '1' } },
  );
  if (r.status !== 0) return { error: (r.stderr || r.error?.message || 'pytorch failed').trim().split('\n').pop() ?? 'pytorch failed' };
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

export async function benchEngine(o: EngineBenchOptions): Promise<Record<string, unknown>> {
  if (!registerLibtorchBackend({ threads: o.threads }))
    throw new Error('libtorch backend unavailable: install libtorch-dev and run npx auraprune build-native');
  const out: Record<string, unknown> = {
    bench: 'engine',
    model: o.model,
    width: o.width,
    batch: o.batch,
    steps: o.steps,
    threads: o.threads,
  };
  await tf.setBackend('libtorch');
  const model = buildVgg16({ width: o.width, seed: 1 });
  const rss0 = process.memoryUsage().rss;
  const lt = measure(model, o.batch, o.steps);
  out.libtorch = lt;
  out.top_kernels = await kernelProfile(model, o.batch);
  out.fallback_kernels = fallbackKernelsUsed();
  // inference with batch norm folded into the conv weights (what `auraprune export --fold-bn` ships)
  const folded = (await foldBatchNorm(model)).model;
  const probe = batchData(o.batch, 3);
  out.libtorch_infer_bn_folded_img_s = inferRate(folded, probe.x, o.steps);
  tf.dispose([probe.x, probe.y]);
  folded.dispose();
  out.rss_mb = {
    before: Math.round(rss0 / 2 ** 20),
    after: Math.round(process.memoryUsage().rss / 2 ** 20),
    peak: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  model.dispose();
  if (o.cpuSteps > 0) {
    await tf.setBackend('cpu');
    quietCpu();
    const m = buildVgg16({ width: o.width, seed: 1 });
    out.cpu = { batch: o.cpuBatch, steps: o.cpuSteps, ...measure(m, o.cpuBatch, o.cpuSteps) };
    m.dispose();
  }
  if (o.pytorch) {
    const pt = runPytorch(o);
    out.pytorch = pt;
    if ('train_img_s' in pt) {
      out.ratio_vs_pytorch = {
        train: +(lt.train_img_s / Number(pt.train_img_s)).toFixed(3),
        infer: +(lt.infer_img_s / Number(pt.infer_img_s)).toFixed(3),
        infer_bn_folded: +(Number(out.libtorch_infer_bn_folded_img_s) / Number(pt.infer_img_s)).toFixed(3),
      };
    }
  }
  return out;
}
