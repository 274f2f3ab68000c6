/**
 * Batch-norm statistics re-estimation ("adaptive BN", Li et al., EagleEye, ECCV 2020): after filters
 * are removed, the inputs of each BN layer no longer match the moving statistics it was trained
 * with. Running the model in training mode over a few calibration batches, with no weight update,
 * replaces every BN layer's moving mean and variance by their average over those batches.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { type ImageSplit, pixelsOf } from '../data/dataset.js';
import { epochBatches, fillBatch } from '../data/pipeline.js';
import { Rng } from '../util/rng.js';

type BnLayer = { momentum: number; getClassName(): string };

/**
 * Re-estimates every BatchNormalization layer's moving statistics as the plain average of the batch
 * statistics over `batches` batches of `batch` unaugmented images drawn (seeded) from `data`. The
 * layer's momentum is set per batch to k/(k+1), which turns the moving average into the cumulative
 * one, and restored afterwards. Returns the number of images used.
 */
export function recalibrateBatchNorm(model: LayersModel, data: ImageSplit, o: { batches: number; batch?: number; seed?: number }): number {
  const bns = model.layers.filter((l) => l.getClassName() === 'BatchNormalization') as unknown as BnLayer[];
  if (!bns.length || o.batches <= 0) return 0;
  const batch = Math.min(o.batch ?? 256, data.n);
  const order = epochBatches(data.n, batch, new Rng(o.seed ?? 0), true).slice(0, o.batches);
  const saved = bns.map((l) => l.momentum);
  const pix = pixelsOf(data.info);
  const buf = new Float32Array(batch * pix);
  try {
    order.forEach((idx, k) => {
      for (const l of bns) l.momentum = k / (k + 1);
      fillBatch(data, idx, buf, null);
      tf.tidy(() => {
        const out = model.apply(tf.tensor4d(buf.subarray(0, idx.length * pix), [idx.length, ...data.info.shape]), {
          training: true,
        }) as tf.Tensor;
        out.dataSync(); // forces the moving-average writes before the next batch
      });
    });
  } finally {
    bns.forEach((l, i) => (l.momentum = saved[i]));
  }
  return order.reduce((a, b) => a + b.length, 0);
}
