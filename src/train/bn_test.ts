import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tfl from '@tensorflow/tfjs-layers';
import { setFallbackLogger, useBestBackend } from '../engine/backend/index.js';
import { normalisedImages } from '../../tests/helpers/fixtures.js';
import { Rng } from '../util/rng.js';
import { recalibrateBatchNorm } from './bn.js';
import { CIFAR10_INFO } from '../data/dataset.js';

before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
});

test('BN recalibration sets moving statistics to the average of the batch statistics, weights untouched', () => {
  // input -> BN: the batch statistics are those of the normalised images themselves, computable here
  const m = tfl.sequential({ layers: [tfl.layers.batchNormalization({ inputShape: [32, 32, 3], momentum: 0.9, name: 'bn' })] });
  const rng = new Rng(5);
  const n = 64;
  const data = { n, labels: new Uint8Array(n), images: Uint8Array.from({ length: n * 3072 }, () => rng.int(256)), info: CIFAR10_INFO };
  const gammaBefore = m.getLayer('bn').getWeights()[0].dataSync().slice();
  const used = recalibrateBatchNorm(m, data, { batches: 4, batch: 16, seed: 3 });
  assert.equal(used, 64);
  // all 64 images are used once (4 x 16): mean of the per-batch means = the overall mean
  const buf = normalisedImages(data);
  const mean = [0, 0, 0];
  for (let i = 0; i < n * 1024; i++) for (let c = 0; c < 3; c++) mean[c] += buf[i * 3 + c] / (n * 1024);
  const [gamma, , mm] = m
    .getLayer('bn')
    .getWeights()
    .map((w) => w.dataSync());
  for (let c = 0; c < 3; c++) assert.ok(Math.abs(mm[c] - mean[c]) < 1e-4, `channel ${c}: ${mm[c]} vs ${mean[c]}`);
  assert.deepEqual(gamma, gammaBefore);
  assert.equal((m.getLayer('bn') as unknown as { momentum: number }).momentum, 0.9, 'momentum restored');
});
