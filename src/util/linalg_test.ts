import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from './rng.js';
import { symmetricEigen } from './linalg.js';

test('symmetricEigen: diagonal matrix gives its diagonal, sorted descending, with unit basis vectors', () => {
  const { values, vectors } = symmetricEigen([1, 0, 0, 0, 3, 0, 0, 0, 2], 3);
  assert.deepEqual(values, [3, 2, 1]);
  assert.deepEqual(
    vectors.map((v) => v.map(Math.abs)),
    [
      [0, 1, 0],
      [0, 0, 1],
      [1, 0, 0],
    ],
  );
});

test('symmetricEigen: 2x2 [[2,1],[1,2]] has eigenvalues 3 and 1 (analytic)', () => {
  const { values, vectors } = symmetricEigen([2, 1, 1, 2], 2);
  assert.ok(Math.abs(values[0] - 3) < 1e-12 && Math.abs(values[1] - 1) < 1e-12);
  assert.ok(Math.abs(Math.abs(vectors[0][0]) - Math.SQRT1_2) < 1e-12);
  assert.ok(Math.abs(vectors[0][0] - vectors[0][1]) < 1e-12);
});

test('symmetricEigen: A v = lambda v and V orthonormal on a random 12x12 covariance', () => {
  const n = 12,
    rng = new Rng(3);
  const x = Array.from({ length: 40 * n }, () => rng.normal());
  const a = new Array(n * n).fill(0);
  for (let r = 0; r < 40; r++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] += (x[r * n + i] * x[r * n + j]) / 40;
  const { values, vectors } = symmetricEigen(a, n);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      let av = 0;
      for (let j = 0; j < n; j++) av += a[i * n + j] * vectors[k][j];
      assert.ok(Math.abs(av - values[k] * vectors[k][i]) < 1e-9, `row ${i} of A v${k}`);
    }
    for (let l = 0; l < n; l++) {
      const dot = vectors[k].reduce((s, vk, i) => s + vk * vectors[l][i], 0);
      assert.ok(Math.abs(dot - (k === l ? 1 : 0)) < 1e-9);
    }
  }
  assert.ok(values.every((v, i) => i === 0 || v <= values[i - 1]));
});
