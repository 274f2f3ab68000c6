import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { setFallbackLogger, useBestBackend } from '../engine/backend/index.js';
import { distillationLoss } from './distill.js';

before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
});

test('distillation loss equals the hand-computed value on fixed logits and T', () => {
  const s = [
      [1, 0, -1],
      [0.5, 0.5, 0],
    ],
    t = [
      [2, 0, 0],
      [0, 1, 0],
    ],
    y = [0, 1];
  const T = 2,
    alpha = 0.7;
  const softmax = (z: number[]) => {
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / sum);
  };
  let ce = 0,
    kl = 0;
  for (let i = 0; i < 2; i++) {
    ce += -Math.log(softmax(s[i])[y[i]]) / 2;
    const pt = softmax(t[i].map((v) => v / T)),
      ps = softmax(s[i].map((v) => v / T));
    kl += pt.reduce((a, p, k) => a + p * Math.log(p / ps[k]), 0) / 2;
  }
  const want = (1 - alpha) * ce + alpha * T * T * kl;
  const got = tf.tidy(
    () =>
      distillationLoss(tf.tensor2d(s), tf.tensor2d(t), tf.oneHot(tf.tensor1d(y, 'int32'), 3) as tf.Tensor2D, {
        temperature: T,
        alpha,
      }).dataSync()[0],
  );
  assert.ok(Math.abs(got - want) < 1e-5, `${got} vs ${want}`);
  // identical student and teacher: only the hard term remains
  const same = tf.tidy(
    () =>
      distillationLoss(tf.tensor2d(t), tf.tensor2d(t), tf.oneHot(tf.tensor1d(y, 'int32'), 3) as tf.Tensor2D, {
        temperature: T,
        alpha,
      }).dataSync()[0],
  );
  const ceT = t.reduce((a, z, i) => a - Math.log(softmax(z)[y[i]]) / 2, 0);
  assert.ok(Math.abs(same - (1 - alpha) * ceT) < 1e-5);
});
