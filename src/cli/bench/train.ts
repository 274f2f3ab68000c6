/**
 * `auraprune bench train`: training throughput of the airbench preset's step (its network, param
 * groups, lookahead every 5 steps, alternating flip + translate augmentation on the batch) on the
 * libtorch backend against the same step written in PyTorch (bench/airbench_torch.py, Debian
 * python3-torch) with the same threads, run alternately `rounds` times in one invocation. Prints
 * one JSON line with both sides' medians and the ratio.
 */
import { CIFAR10_INFO } from '../../data/dataset.js';
import * as tf from '@tensorflow/tfjs-core';
import { registerLibtorchBackend } from '../../engine/backend/index.js';
import { alternatingFlipBase, fillBatch } from '../../data/pipeline.js';
import { buildAirbench } from '../../models/airbench.js';
import { Lookahead } from '../../train/lookahead.js';
import { optimiserFor, sgdStep } from '../../train/loop.js';
import { airbenchRecipe } from '../../train/recipes.js';
import { Rng } from '../../util/rng.js';
import { runPythonBench } from './python.js';
import { median } from '../../eval/bootstrap.js';

export interface TrainBenchOptions {
  batch: number;
  steps: number;
  rounds: number;
  threads: number;
  width: number;
  activation: 'gelu' | 'relu';
  python: string;
}

function ours(o: TrainBenchOptions): number {
  const cfg = airbenchRecipe({ epochs: 1, batch: o.batch, seed: 1 });
  const model = buildAirbench({ width: o.width, activation: o.activation, seed: 1 });
  const { ps, vars, sgd } = optimiserFor(model, cfg);
  const la = new Lookahead(model);
  const rng = new Rng(1);
  const split = {
    n: o.batch,
    labels: Uint8Array.from({ length: o.batch }, () => rng.int(10)),
    images: Uint8Array.from({ length: o.batch * 3072 }, () => rng.int(256)),
    info: CIFAR10_INFO,
  };
  const idx = Array.from({ length: o.batch }, (_, i) => i);
  const labels = Int32Array.from(split.labels);
  const flipBase = alternatingFlipBase(o.batch, 1);
  const buf = new Float32Array(o.batch * 3072);
  const step = (i: number) => {
    fillBatch(split, idx, buf, rng, cfg.augment, { flipBase, epoch: i });
    sgdStep({ model, vars, ps, sgd, cfg }, buf, labels, cfg.lr, 1);
    if ((i + 1) % 5 === 0) la.update(0.5);
  };
  step(0); // warm-up: oneDNN primitive creation, allocator growth
  const t0 = performance.now();
  for (let i = 1; i <= o.steps; i++) step(i);
  const rate = (o.batch * o.steps) / ((performance.now() - t0) / 1000);
  sgd.dispose();
  la.dispose();
  model.dispose();
  return rate;
}

function pytorch(o: TrainBenchOptions): { train_img_s: number; torch: string } | { error: string } {
  return runPythonBench(o.python, 'airbench_torch.py', {
    batch: o.batch,
    steps: o.steps,
    threads: o.threads,
    width: o.width,
    act: o.activation,
  });
}

export async function benchTrain(o: TrainBenchOptions): Promise<Record<string, unknown>> {
  if (!registerLibtorchBackend({ threads: o.threads }))
    throw new Error('libtorch backend unavailable: install libtorch-dev and run npx auraprune build-native');
  await tf.setBackend('libtorch');
  const a: number[] = [],
    b: number[] = [];
  let torchVersion: string | undefined, error: string | undefined;
  for (let r = 0; r < o.rounds; r++) {
    a.push(ours(o));
    const p = pytorch(o);
    if ('error' in p) error = p.error;
    else {
      b.push(p.train_img_s);
      torchVersion = p.torch;
    }
  }
  return {
    bench: 'train',
    model: 'airbench',
    width: o.width,
    activation: o.activation,
    batch: o.batch,
    steps: o.steps,
    rounds: o.rounds,
    threads: o.threads,
    libtorch_train_img_s: a.map((v) => +v.toFixed(1)),
    pytorch_train_img_s: b.map((v) => +v.toFixed(1)),
    median: { libtorch: +median(a).toFixed(1), pytorch: +median(b).toFixed(1) },
    ratio_vs_pytorch: b.length ? +(median(a) / median(b)).toFixed(3) : null,
    torch: torchVersion,
    ...(error ? { pytorch_error: error } : {}),
  };
}
