/**
 * Accuracy, loss, per-class accuracy and confusion matrix of a model on a data split, optionally
 * with test-time augmentation (TTA). Plain and TTA accuracy are separate results, never mixed.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { type ImageSplit, pixelsOf } from '../data/dataset.js';
import { epochBatches, fillBatch } from '../data/pipeline.js';
import { inputShape } from '../models/io.js';
import { Progress } from '../util/progress.js';

export interface EvalResult {
  n: number;
  accuracy: number;
  loss: number;
  perClassAccuracy: number[];
  /** confusion[true][predicted] */
  confusion: number[][];
  seconds: number;
  imagesPerSecond: number;
  /** TTA level used (0: none). */
  tta: TtaLevel;
  /** 1 where image i was classified correctly (for paired comparisons of two models on the same images). */
  correct: Uint8Array;
}

/**
 * 0: plain. 1: mean of the logits of the image and its mirror. 2: half of level 1, plus half of
 * level 1 averaged over the image translated by one pixel up-left and down-right (reflect padding):
 * the airbench recipe's evaluation (6 forward passes).
 */
export type TtaLevel = 0 | 1 | 2;

export interface EvalOptions {
  batch?: number;
  tta?: TtaLevel;
  progress?: string;
}

/** The batch (b x 32 x 32 x 3 NHWC) mirrored and/or translated by (dy, dx) with reflect padding. */
export function transformBatch(x: tf.Tensor4D, flip: boolean, dy = 0, dx = 0): tf.Tensor4D {
  return tf.tidy(() => {
    let y = flip ? tf.reverse(x, 2) : x;
    if (dy || dx) {
      const p = Math.max(Math.abs(dy), Math.abs(dx));
      const h = x.shape[1],
        w = x.shape[2];
      // reflect pad by p, then crop the window shifted by (dy, dx): output(i,j) = input(i+dy, j+dx)
      // reflect padding from native slices/reverses/concats (tfjs's MirrorPad has no native kernel)
      const reflect = (t: tf.Tensor4D, axis: 1 | 2): tf.Tensor4D => {
        const n = t.shape[axis];
        const cut = (from: number) =>
          tf.reverse(tf.slice(t, axis === 1 ? [0, from, 0, 0] : [0, 0, from, 0], axis === 1 ? [-1, p, -1, -1] : [-1, -1, p, -1]), axis);
        return tf.concat([cut(1), t, cut(n - p - 1)], axis) as tf.Tensor4D;
      };
      const padded = reflect(reflect(y as tf.Tensor4D, 1), 2);
      y = tf.slice(padded, [0, p + dy, p + dx, 0], [-1, h, w, -1]);
    }
    return y as tf.Tensor4D;
  });
}

/** True when the model's output is a softmax (a Softmax layer or a layer with softmax activation). */
export function endsInSoftmax(model: LayersModel): boolean {
  if (model.outputs.length !== 1) return false;
  const last = model.outputs[0].sourceLayer;
  const cfg = last.getConfig() as { activation?: string };
  return last.getClassName() === 'Softmax' || cfg.activation === 'softmax';
}

/** Logits of `model` on `x` under TTA level `tta` (log-probabilities for a model ending in softmax). */
export function ttaLogits(model: LayersModel, x: tf.Tensor4D, tta: TtaLevel): tf.Tensor2D {
  const probs = endsInSoftmax(model);
  return tf.tidy(() => {
    const out = (t: tf.Tensor4D) => model.apply(t, { training: false }) as tf.Tensor2D;
    // softmax(log p) = p, so the loss of a softmax model is its true cross-entropy
    const run = probs ? (t: tf.Tensor4D) => tf.log(tf.maximum(out(t), 1e-30)) as tf.Tensor2D : out;
    const mirror = (t: tf.Tensor4D) => tf.mul(tf.add(run(t), run(transformBatch(t, true))), 0.5) as tf.Tensor2D;
    if (tta === 0) return run(x);
    if (tta === 1) return mirror(x);
    const shifted = tf.mul(tf.add(mirror(transformBatch(x, false, -1, -1)), mirror(transformBatch(x, false, 1, 1))), 0.5);
    return tf.mul(tf.add(mirror(x), shifted), 0.5) as tf.Tensor2D;
  });
}

export function evaluate(model: LayersModel, data: ImageSplit, opts: EvalOptions | number = {}): EvalResult {
  const o = typeof opts === 'number' ? { batch: opts } : opts;
  const batch = o.batch ?? 256,
    tta = o.tta ?? 0;
  const t0 = performance.now();
  const k = data.info.classNames.length;
  const confusion = Array.from({ length: k }, () => new Array(k).fill(0));
  const shape = inputShape(model, data.info.shape) as [number, number, number];
  const pix = pixelsOf(data.info);
  let lossSum = 0,
    seen = 0;
  const correctAt = new Uint8Array(data.n);
  const buf = new Float32Array(batch * pix);
  // progress only where evaluation takes long enough to wonder (a label is given by interactive callers)
  const bar = o.progress ? new Progress(o.progress, data.n, 'img') : null;
  for (const idx of epochBatches(data.n, batch, null)) {
    const b = idx.length;
    fillBatch(data, idx, buf, null);
    const [pred, loss] = tf.tidy(() => {
      const x = tf.tensor4d(buf.subarray(0, b * pix), [b, ...shape]);
      const logits = ttaLogits(model, x, tta);
      const labels = tf.tensor1d(
        Int32Array.from(idx, (i) => data.labels[i]),
        'int32',
      );
      const l = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, k), logits, undefined, undefined, tf.Reduction.SUM);
      return [tf.argMax(logits, 1).dataSync(), l.dataSync()[0]] as const;
    });
    lossSum += loss;
    for (let i = 0; i < b; i++) {
      confusion[data.labels[idx[i]]][pred[i]]++;
      correctAt[idx[i]] = data.labels[idx[i]] === pred[i] ? 1 : 0;
    }
    seen += b;
    bar?.update(seen);
  }
  const correct = confusion.reduce((a, row, i) => a + row[i], 0);
  const seconds = (performance.now() - t0) / 1000;
  return {
    n: data.n,
    accuracy: correct / data.n,
    loss: lossSum / data.n,
    perClassAccuracy: confusion.map(
      (row, i) =>
        row[i] /
        Math.max(
          1,
          row.reduce((a, b) => a + b, 0),
        ),
    ),
    confusion,
    seconds,
    imagesPerSecond: data.n / seconds,
    tta,
    correct: correctAt,
  };
}
