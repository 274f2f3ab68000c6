/** Shared test fixtures: where the real CIFAR-10 lives, and models with non-trivial BN statistics. */
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { Rng } from '../../src/util/rng.js';

/** CIFAR10_DIR, else ../shared/cifar10 beside the repository (as CI lays it out). */
export const CIFAR_DIR = process.env.CIFAR10_DIR ?? resolve(import.meta.dirname, '../../../shared/cifar10');

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
