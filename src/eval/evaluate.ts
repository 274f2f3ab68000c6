/** Accuracy, loss, per-class accuracy and confusion matrix of a model on a data split. */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { CifarSplit } from '../data/cifar10.js';
import { epochBatches, fillBatch } from '../data/pipeline.js';

export interface EvalResult {
  n: number;
  accuracy: number;
  loss: number;
  perClassAccuracy: number[];
  /** confusion[true][predicted] */
  confusion: number[][];
  seconds: number;
  imagesPerSecond: number;
}

export function evaluate(model: LayersModel, data: CifarSplit, batch = 256): EvalResult {
  const t0 = performance.now();
  const confusion = Array.from({ length: 10 }, () => new Array(10).fill(0));
  let lossSum = 0;
  const buf = new Float32Array(batch * 3072);
  for (const idx of epochBatches(data.n, batch, null)) {
    const b = idx.length;
    fillBatch(data, idx, buf, null);
    const [pred, loss] = tf.tidy(() => {
      const x = tf.tensor4d(buf.subarray(0, b * 3072), [b, 32, 32, 3]);
      const logits = model.apply(x, { training: false }) as tf.Tensor2D;
      const labels = tf.tensor1d(Int32Array.from(idx, (i) => data.labels[i]), 'int32');
      const l = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 10), logits, undefined, undefined, tf.Reduction.SUM);
      return [tf.argMax(logits, 1).dataSync(), l.dataSync()[0]] as const;
    });
    lossSum += loss;
    for (let i = 0; i < b; i++) confusion[data.labels[idx[i]]][pred[i]]++;
  }
  const correct = confusion.reduce((a, row, i) => a + row[i], 0);
  const seconds = (performance.now() - t0) / 1000;
  return {
    n: data.n, accuracy: correct / data.n, loss: lossSum / data.n,
    perClassAccuracy: confusion.map((row, i) => row[i] / Math.max(1, row.reduce((a, b) => a + b, 0))),
    confusion, seconds, imagesPerSecond: data.n / seconds,
  };
}
