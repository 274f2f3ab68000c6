/**
 * `auraprune bench engine`: training and inference throughput of a CIFAR model on the libtorch
 * backend (and briefly on tfjs's CPU backend), the most expensive kernels, fallback kernels, peak
 * RSS, and the same architecture in PyTorch (Debian python3-torch) in the same run when present.
 * Prints one JSON line.
 */
import { runPythonBench } from './python.js';
import { median } from '../../eval/bootstrap.js';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { fallbackKernelsUsed, nativeAddon, quietCpu, registerLibtorchBackend } from '../../engine/backend/index.js';
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
  /** rounds of every side, the order alternating each round */
  rounds: number;
  /** skip the training figures (inference-only runs afford more rounds) */
  train?: boolean;
  /** our memory layouts to measure (the native kernels' format; blocked: nchw training, inference in oneDNN's blocked layout) */
  layouts: Layout[];
}

export const LAYOUTS = ['nchw', 'channels_last', 'blocked'] as const;
type Layout = (typeof LAYOUTS)[number];

/** One run of one side: training and inference throughput at the batch size, inference with batch
 * norm folded, and batch-1 latency (median of 20) unfolded and folded. */
interface SideRun {
  train_img_s?: number;
  infer_img_s: number;
  infer_folded_img_s: number;
  latency_ms: number;
  latency_folded_ms: number;
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

/** Median milliseconds of a batch-1 prediction over `reps` calls, after one warm-up call. */
function latencyMs(model: LayersModel, reps = 20): number {
  const x = batchData(1, 4).x;
  inferStep(model, x);
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    inferStep(model, x);
    ts.push(performance.now() - t0);
  }
  x.dispose();
  return median(ts);
}

/** PyTorch in NCHW or channels_last, or (mkldnn, inference only) with torch.utils.mkldnn's blocked modules. */
function runPytorch(o: EngineBenchOptions, layout: 'nchw' | 'channels_last' | 'mkldnn'): SideRun | { error: string } {
  return runPythonBench<SideRun>(o.python, 'pytorch_vgg.py', {
    batch: o.batch,
    steps: o.steps,
    threads: o.threads,
    width: o.width,
    layout,
    ...(o.train === false ? { 'skip-train': 1 } : {}),
  });
}

const METRICS: Array<keyof SideRun> = ['train_img_s', 'infer_img_s', 'infer_folded_img_s', 'latency_ms', 'latency_folded_ms'];

/** Median and range of each metric over the rounds. */
function summarise(runs: SideRun[]): Record<string, { median: number; min: number; max: number; runs: number[] }> {
  return Object.fromEntries(
    METRICS.filter((m) => runs.every((r) => typeof r[m] === 'number')).map((m) => {
      const v = runs.map((r) => r[m] as number);
      const r1 = (x: number) => +x.toFixed(1);
      return [m, { median: r1(median(v)), min: r1(Math.min(...v)), max: r1(Math.max(...v)), runs: v.map(r1) }];
    }),
  );
}

/**
 * Ours in each layout and PyTorch in NCHW and channels_last, `rounds` times each, the order of the
 * sides reversed every other round so drift in the machine's speed falls on all of them alike; medians
 * and ranges, and our best layout against PyTorch's best per metric.
 */
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
    rounds: o.rounds,
  };
  await tf.setBackend('libtorch');
  const addon = nativeAddon()!;
  const initialLayout = addon.setLayout();
  const model = buildVgg16({ width: o.width, seed: 1 });
  // inference with batch norm folded into the conv weights (what `auraprune export --fold-bn` ships)
  const folded = (await foldBatchNorm(model)).model;
  const rss0 = process.memoryUsage().rss;
  const probe = batchData(o.batch, 3);
  const initialBlocked = addon.setBlockedInference();
  const ours = (layout: Layout): SideRun => {
    addon.setLayout(layout === 'channels_last' ? 'channels_last' : 'nchw');
    addon.setBlockedInference(layout === 'blocked');
    const t = o.train === false ? { infer_img_s: inferRate(model, probe.x, o.steps) } : measure(model, o.batch, o.steps);
    return {
      ...t,
      infer_folded_img_s: inferRate(folded, probe.x, o.steps),
      latency_ms: latencyMs(model),
      latency_folded_ms: latencyMs(folded),
    };
  };
  const sides = [
    ...o.layouts.map((l) => ({ name: `ours_${l}`, run: () => ours(l) as SideRun | { error: string } })),
    ...(o.pytorch
      ? (['nchw', 'channels_last', 'mkldnn'] as const).map((l) => ({ name: `pytorch_${l}`, run: () => runPytorch(o, l) }))
      : []),
  ];
  const runs = new Map<string, SideRun[]>(sides.map((s) => [s.name, []]));
  const errors: Record<string, string> = {};
  for (let r = 0; r < o.rounds; r++) {
    for (const side of r % 2 ? [...sides].reverse() : sides) {
      const res = side.run();
      if ('error' in res) errors[side.name] = res.error;
      else runs.get(side.name)!.push(res);
    }
  }
  addon.setLayout(initialLayout);
  addon.setBlockedInference(initialBlocked);
  tf.dispose([probe.x, probe.y]);
  const summary = Object.fromEntries([...runs].filter(([, v]) => v.length).map(([k, v]) => [k, summarise(v)]));
  out.sides = summary;
  if (Object.keys(errors).length) out.errors = errors;
  // our best layout against PyTorch's best, per metric (throughput: higher is better; latency: lower)
  // PyTorch's best layout is its best of NCHW and channels_last (the target's definition); its
  // mkldnn-module inference path is compared separately
  const best = (prefix: string, m: keyof SideRun) => {
    const c = Object.entries(summary).filter(([k, v]) => k.startsWith(prefix) && k !== 'pytorch_mkldnn' && v[m]);
    if (!c.length) return null;
    const pick = c.reduce((a, b) =>
      (m.startsWith('latency') ? b[1][m].median < a[1][m].median : b[1][m].median > a[1][m].median) ? b : a,
    );
    return { side: pick[0], median: pick[1][m].median };
  };
  const ratios: Record<string, unknown> = {};
  for (const m of METRICS) {
    const a = best('ours_', m),
      b = best('pytorch_', m);
    if (a && b)
      ratios[m] = { ours: a, pytorch: b, ratio: +(m.startsWith('latency') ? b.median / a.median : a.median / b.median).toFixed(3) };
  }
  out.ours_best_vs_pytorch_best = ratios;
  const mk = summary.pytorch_mkldnn;
  if (mk)
    out.ours_best_vs_pytorch_mkldnn = Object.fromEntries(
      METRICS.filter((m) => mk[m] && best('ours_', m)).map((m) => {
        const a = best('ours_', m)!;
        return [
          m,
          {
            ours: a,
            pytorch: mk[m].median,
            ratio: +(m.startsWith('latency') ? mk[m].median / a.median : a.median / mk[m].median).toFixed(3),
          },
        ];
      }),
    );
  if (o.train !== false) out.top_kernels = await kernelProfile(model, o.batch);
  out.fallback_kernels = fallbackKernelsUsed();
  out.rss_mb = {
    before: Math.round(rss0 / 2 ** 20),
    after: Math.round(process.memoryUsage().rss / 2 ** 20),
    peak: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  folded.dispose();
  model.dispose();
  if (o.cpuSteps > 0) {
    await tf.setBackend('cpu');
    quietCpu();
    const m = buildVgg16({ width: o.width, seed: 1 });
    out.cpu = { batch: o.cpuBatch, steps: o.cpuSteps, ...measure(m, o.cpuBatch, o.cpuSteps) };
    m.dispose();
  }
  return out;
}
