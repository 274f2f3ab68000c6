import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { setFallbackLogger, useBestBackend } from '../engine/backend/index.js';
import { loadCifar10 } from '../data/cifar10.js';
import { fillBatch, subset } from '../data/pipeline.js';
import { countComplexity } from '../eval/complexity.js';
import { pruningUnits } from '../prune/graph/graph.js';
import { buildAirbench, initWhitening, patchCovariance } from './airbench.js';
import { CIFAR_DIR, NEEDS_CIFAR } from '../../tests/helpers/fixtures.js';

before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
});

/** Second moments of the whitening conv's first 12 outputs (bias removed) on `n` images, via a forward pass. */
function whitenedCovariance(model: ReturnType<typeof buildAirbench>, data: ReturnType<typeof loadCifar10>): number[][] {
  const layer = model.getLayer('whiten');
  const [kernel] = layer.getWeights();
  const buf = new Float32Array(data.n * 3072);
  fillBatch(
    data,
    Array.from({ length: data.n }, (_, i) => i),
    buf,
    null,
  );
  const out = tf.tidy(() =>
    tf.slice(tf.reshape(tf.conv2d(tf.tensor4d(buf, [data.n, 32, 32, 3]), kernel as tf.Tensor4D, 1, 'valid'), [-1, 24]), [0, 0], [-1, 12]),
  );
  const v = out.dataSync(),
    rows = out.shape[0];
  out.dispose();
  const c = Array.from({ length: 12 }, () => new Array(12).fill(0));
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < 12; i++) for (let j = 0; j < 12; j++) c[i][j] += (v[r * 12 + i] * v[r * 12 + j]) / rows;
  return c;
}

describe('airbench network', () => {
  test('params and FLOPs: about 118 M multiply-adds (hand count 117.9 M), 1.97 M params', () => {
    const c = countComplexity(buildAirbench());
    // whiten 31*31*24*12, then per block conv1 (before its pool) + conv2, head 256*10
    const flops =
      31 * 31 * 24 * 12 +
      31 * 31 * 64 * 24 * 9 +
      15 * 15 * 64 * 64 * 9 +
      15 * 15 * 256 * 64 * 9 +
      7 * 7 * 256 * 256 * 9 +
      7 * 7 * 256 * 256 * 9 +
      3 * 3 * 256 * 256 * 9 +
      2560;
    assert.equal(c.flops, flops);
    const params = 24 * 12 + 24 + 24 * 64 * 9 + 64 * 64 * 9 + 64 * 256 * 9 + 256 * 256 * 9 * 3 + 2 * (64 + 256 + 256) * 2 + 2560;
    assert.equal(c.params, params);
  });

  test(
    'the whitening filters whiten: patch covariance maps to diag(l/(l+eps)) exactly, and close to I on held-out images',
    NEEDS_CIFAR,
    () => {
      const all = loadCifar10(CIFAR_DIR, 'train', { limit: 1200 });
      const fit = subset(
        all,
        Array.from({ length: 800 }, (_, i) => i),
      );
      const held = subset(
        all,
        Array.from({ length: 400 }, (_, i) => 800 + i),
      );
      const model = buildAirbench({ width: 0.25, seed: 1 });
      const eps = 5e-4;
      const { eigenvalues } = initWhitening(model, fit, 800, eps);
      assert.ok(eigenvalues.every((l, i) => l > 0 && (i === 0 || l <= eigenvalues[i - 1])));
      // on the images it was fitted on, via an actual conv forward pass: K^T C K = diag(l / (l + eps))
      const onFit = whitenedCovariance(model, fit);
      for (let i = 0; i < 12; i++)
        for (let j = 0; j < 12; j++) {
          const want = i === j ? eigenvalues[i] / (eigenvalues[i] + eps) : 0;
          assert.ok(Math.abs(onFit[i][j] - want) < 2e-3, `fit cov[${i}][${j}] = ${onFit[i][j]}, want ${want}`);
        }
      // held-out images: near the identity (a different sample: the weakest directions, with eigenvalues
      // near eps, vary most), while the raw patches are far from white (neighbouring pixels correlate)
      const onHeld = whitenedCovariance(model, held);
      for (let i = 0; i < 12; i++)
        for (let j = 0; j < 12; j++) {
          assert.ok(Math.abs(onHeld[i][j] - (i === j ? 1 : 0)) < 0.5, `held-out cov[${i}][${j}] = ${onHeld[i][j]}`);
        }
      const raw = patchCovariance(held, 400);
      assert.ok(raw[0 * 12 + 3] > 0.5, `raw covariance of neighbouring pixels ${raw[3]}`);
      const diag = (c: ArrayLike<number>[], k: number) => c[k][k];
      const rawDiag = Array.from({ length: 12 }, (_, k) => raw[k * 12 + k]);
      const offRaw = Math.max(
        ...Array.from({ length: 12 }, (_, i) =>
          Math.max(...Array.from({ length: 12 }, (_, j) => (i === j ? 0 : Math.abs(raw[i * 12 + j]) / Math.sqrt(rawDiag[i] * rawDiag[j])))),
        ),
      );
      const offHeld = Math.max(
        ...onHeld.map((row, i) =>
          Math.max(...row.map((v, j) => (i === j ? 0 : Math.abs(v) / Math.sqrt(diag(onHeld, i) * diag(onHeld, j))))),
        ),
      );
      assert.ok(offRaw > 0.8 && offHeld < 0.3, `largest correlation raw ${offRaw.toFixed(3)}, whitened ${offHeld.toFixed(3)}`);
    },
  );

  test('dirac init: a conv whose inputs fit its outputs starts as the identity on the first channels', () => {
    const model = buildAirbench({ width: 0.25, seed: 3 });
    const [k] = model.getLayer('b1_conv2').getWeights(); // 16 -> 16 channels
    const v = k.arraySync() as number[][][][];
    for (let o = 0; o < 16; o++)
      for (let i = 0; i < 16; i++)
        for (let y = 0; y < 3; y++)
          for (let x = 0; x < 3; x++) {
            assert.equal(v[y][x][i][o], y === 1 && x === 1 && i === o ? 1 : 0);
          }
  });

  test('prunable by surgery: every block conv is a unit, the frozen whitening conv is not', () => {
    const model = buildAirbench({ width: 0.25 });
    model.getLayer('whiten').trainable = false;
    const units = pruningUnits(model);
    assert.deepEqual(
      units.map((u) => u.conv),
      ['b1_conv1', 'b1_conv2', 'b2_conv1', 'b2_conv2', 'b3_conv1', 'b3_conv2'],
    );
    assert.equal(units[5].consumerKind, 'dense-flatten');
    assert.equal(units[0].consumer, 'b1_conv2');
  });
});
