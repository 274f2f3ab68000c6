import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { setFallbackLogger, useBestBackend } from '../../engine/backend/index.js';
import { buildModel } from '../../models/zoo.js';
import { countComplexity } from '../../eval/complexity.js';
import { foldBatchNorm } from './fold_bn.js';
import { randomiseBn } from '../../../tests/helpers/fixtures.js';

before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
});

for (const [name, width] of [
  ['vgg16', 0.25],
  ['resnet20', 0.5],
  ['fast', 0.25],
] as const) {
  test(`${name}: folding BN into convs keeps inference outputs (1e-4) and removes the BN layers`, async () => {
    const m = buildModel(name, { width, seed: 2 });
    randomiseBn(m, 3);
    const { model: f, folded } = await foldBatchNorm(m);
    const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 5);
    const a = (m.predict(x) as tf.Tensor).dataSync(),
      b = (f.predict(x) as tf.Tensor).dataSync();
    let d = 0;
    for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]) / (1 + Math.abs(a[i])));
    assert.ok(d < 1e-4, `max relative difference ${d}`);
    assert.equal(f.layers.length, m.layers.length - folded.length);
    assert.ok(folded.length > 0);
    assert.ok(countComplexity(f).flops === countComplexity(m).flops, 'same multiply-adds');
  });
}
