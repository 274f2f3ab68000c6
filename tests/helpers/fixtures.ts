/** Shared test fixtures: where the real CIFAR-10 lives, and models with non-trivial BN statistics. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cacheDir, ImageSplit, loadCifar10 } from '../../src/data/cifar10.js';
import { fillBatch, trainValSplit } from '../../src/data/pipeline.js';
import type { TrainConfig } from '../../src/train/loop.js';
import type { StudyLine, StudySettings } from '../../src/experiment/study.js';
import type { ExperimentOptions } from '../../src/experiment/grid.js';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { Rng } from '../../src/util/rng.js';

const FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];
const has = (d: string | undefined): d is string => !!d && FILES.every((f) => existsSync(join(d, f)));
const candidates = [process.env.CIFAR10_DIR, resolve(import.meta.dirname, '../../../shared/cifar10'), cacheDir()];
const found = candidates.find(has);

/**
 * Where the real CIFAR-10 is for tests: CIFAR10_DIR, ../shared/cifar10 beside the repository (as CI
 * lays it out), or the cache the demo downloads into. Tests that need it take `NEEDS_CIFAR` as their
 * options, so without data they are skipped with the reason instead of failing.
 */
export const CIFAR_DIR = found ?? candidates.filter(Boolean)[0]!;
export const NEEDS_CIFAR: { skip?: string } = found
  ? {}
  : {
      skip: `CIFAR-10 not found in ${candidates.filter(Boolean).join(', ')}: run \`npm run demo\` once (it downloads it) or set CIFAR10_DIR`,
    };

/** Random BN gamma/beta/mean/variance, so zeroed or folded channels differ from untouched ones. */
export function randomiseBn(model: LayersModel, seed: number): void {
  const rng = new Rng(seed);
  for (const l of model.layers) {
    if (l.getClassName() !== 'BatchNormalization') continue;
    l.setWeights(
      l.getWeights().map((w, i) =>
        tf.tensor(
          Float32Array.from({ length: w.size }, () => (i === 3 ? 0.5 + rng.next() : rng.normal() * 0.3 + (i === 0 ? 1 : 0))),
          w.shape,
        ),
      ),
    );
  }
}

/** The first `n` images of a split (all by default), normalised, unaugmented, as one NHWC Float32Array. */
export function normalisedImages(split: ImageSplit, n = split.n): Float32Array {
  const buf = new Float32Array(n * 3072);
  fillBatch(
    split,
    Array.from({ length: n }, (_, i) => i),
    buf,
    null,
  );
  return buf;
}

/** A small SGD run for tests: batch 32, one-cycle lr 0.02, crop + flip, one epoch. */
export const SMALL_SGD: TrainConfig = {
  epochs: 1,
  batch: 32,
  lr: 0.02,
  schedule: 'onecycle',
  warmupEpochs: 0,
  weightDecay: 5e-4,
  decay: 'l2',
  momentum: 0.9,
  nesterov: true,
  labelSmoothing: 0,
  seed: 1,
  augment: { pad: 4, flip: true },
};

const splitCache = new Map<string, { train: ImageSplit; val: ImageSplit; test: ImageSplit }>();
/**
 * Small real splits for grid tests (loaded on first use, so a file without CIFAR-10 still loads and its
 * tests skip): the first `trainLimit` training records minus a stratified `valSize` validation split,
 * and the first `testN` test images.
 */
export function smallSplits(trainLimit: number, valSize: number, testN: number): { train: ImageSplit; val: ImageSplit; test: ImageSplit } {
  const key = `${trainLimit}/${valSize}/${testN}`;
  if (!splitCache.has(key)) {
    const { train, val } = trainValSplit(loadCifar10(CIFAR_DIR, 'train', { limit: trainLimit }), valSize, 1);
    splitCache.set(key, { train, val, test: loadCifar10(CIFAR_DIR, 'test', { limit: testN }) });
  }
  return splitCache.get(key)!;
}

/** Largest |a - b| over two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** Largest |a - b| / (1 + |a|) over two equally long arrays (the equivalence tests' measure). */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]) / (1 + Math.abs(a[i])));
  return d;
}

/** Study settings for tests: 5 calibration images per class, one-epoch SMALL_SGD fine-tunes. */
export const TINY_STUDY_SETTINGS: StudySettings = {
  perClass: 5,
  levels: 8,
  where: 'relu',
  by: 'flops',
  maxRemove: 0.9,
  recalBatches: 1,
  epoch: { ...SMALL_SGD, epochs: 1 },
  full: { ...SMALL_SGD, epochs: 1 },
  sensitivityCriterion: 'l1',
  noisySigma: 0.02,
};

/** Experiment-grid options for tests (criteria, targets and seeds set by each test). */
export const TINY_GRID: Omit<ExperimentOptions, 'criteria' | 'targets' | 'seeds'> = {
  by: 'flops',
  finetune: { ...SMALL_SGD, epochs: 1 },
  perClass: 5,
  where: 'relu',
  scoring: { quantize: { levels: 8, zeroBin: true } },
  maxRemove: 0.9,
  normalize: 'max',
  quiet: true,
};

/** A study line of one cell at 50% of FLOPs, uniform allocation (analysis tests fill in the accuracies). */
export const studyLineOf = (budget: StudyLine['budget'], variant: string, seed: number): StudyLine => ({
  key: `${budget}|uniform|${variant}|0.5|${seed}`,
  budget,
  allocation: 'uniform',
  variant,
  target: 0.5,
  seed,
  flopsRemoved: 0.5,
  paramsRemoved: 0.5,
  kept: [1],
  scoringSeconds: 0,
  activationSeconds: 0,
});
