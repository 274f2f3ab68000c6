import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { setFallbackLogger, useBestBackend } from '../../engine/backend/index.js';
import { buildModel } from '../../models/zoo.js';
import { countComplexity } from '../../eval/complexity.js';
import { foldBatchNorm } from './fold_bn.js';
import { maxRelDiff, randomiseBn } from '../../../tests/helpers/fixtures.js';

before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
});

for (const [name, width] of [
  ['vgg16', 0.25],
  ['resnet20', 0.5],
  ['fast', 0.25],
  ['airbench', 0.25],
] as const) {
  test(`${name}: folding BN into convs keeps inference outputs (1e-4) and removes the BN layers`, async () => {
    const m = buildModel(name, { width, seed: 2 });
    randomiseBn(m, 3);
    const { model: f, folded } = await foldBatchNorm(m);
    const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 5);
    const a = (m.predict(x) as tf.Tensor).dataSync(),
      b = (f.predict(x) as tf.Tensor).dataSync();
    const d = maxRelDiff(a, b);
    assert.ok(d < 1e-4, `max relative difference ${d}`);
    assert.equal(f.layers.length, m.layers.length - folded.length);
    assert.ok(folded.length > 0);
    assert.ok(countComplexity(f).flops === countComplexity(m).flops, 'same multiply-adds');
  });
}

test('conv -> max-pool -> BN folds only when every BN multiplier is non-negative (max pooling commutes with it)', async () => {
  const m = buildModel('airbench', { width: 0.25, seed: 2 });
  randomiseBn(m, 3); // random gammas include negative ones
  const bns = m.layers.filter((l) => l.getClassName() === 'BatchNormalization');
  // make the first BN's multipliers non-negative: it folds across its pool; the others keep a negative gamma
  const w = bns[0].getWeights();
  bns[0].setWeights([tf.abs(w[0]), ...w.slice(1)]);
  for (const l of bns.slice(1)) {
    const v = l.getWeights();
    const g = v[0].dataSync().slice();
    g[0] = -Math.abs(g[0]) - 0.1;
    l.setWeights([tf.tensor(g, v[0].shape), ...v.slice(1)]);
  }
  const { model: f, folded } = await foldBatchNorm(m);
  assert.ok(
    folded.some(([, bn]) => bn === bns[0].name),
    'non-negative BN after a max-pool folded',
  );
  const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 5);
  const a = (m.predict(x) as tf.Tensor).dataSync(),
    b = (f.predict(x) as tf.Tensor).dataSync();
  const d = maxRelDiff(a, b);
  assert.ok(d < 1e-4, `max relative difference ${d}`);
  for (const l of bns.slice(1)) {
    const afterPool = m.getLayer(l.name).inboundNodes[0].inboundLayers[0].getClassName() === 'MaxPooling2D';
    if (afterPool) assert.ok(!folded.some(([, bn]) => bn === l.name), `${l.name}: a negative multiplier after a max-pool is not folded`);
  }
});
