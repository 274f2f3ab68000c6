import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../util/rng.js';
import { auraEntropy, auraMatrix, entropyOfCounts, halfDisplacements } from './aura.js';
import { quantizeMap, quantileEdges } from './quantize.js';

/** Naive reference: sum over all displacements d of the co-occurrence matrix C_d[g][k]. */
function naiveAura(labels: number[], h: number, w: number, G: number, nb: '4' | '8', r = 1): number[] {
  const A = new Array(G * G).fill(0);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      for (let dy = -r; dy <= r; dy++)
        for (let dx = -r; dx <= r; dx++) {
          if (dy === 0 && dx === 0) continue;
          if (nb === '4' && dy !== 0 && dx !== 0) continue;
          const yy = y + dy,
            xx = x + dx;
          if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
          A[labels[y * w + x] * G + labels[yy * w + xx]]++;
        }
    }
  return A;
}

describe('aura matrix', () => {
  test('equals the sum of co-occurrence matrices (naive reference) on random maps', () => {
    const rng = new Rng(3);
    for (const [h, w] of [
      [1, 7],
      [7, 1],
      [2, 2],
      [5, 6],
      [9, 4],
    ])
      for (const nb of ['4', '8'] as const)
        for (const r of [1, 2]) {
          const G = 4;
          const labels = Array.from({ length: h * w }, () => rng.int(G));
          const got = Array.from(auraMatrix(labels, h, w, G, { neighbourhood: nb, radius: r }));
          assert.deepEqual(got, naiveAura(labels, h, w, G, nb, r), `${h}x${w} N${nb} r=${r}`);
        }
  });
  test('is symmetric for symmetric neighbourhoods', () => {
    const rng = new Rng(4);
    const labels = Array.from({ length: 48 }, () => rng.int(5));
    const A = auraMatrix(labels, 6, 8, 5, { neighbourhood: '8' });
    for (let g = 0; g < 5; g++) for (let k = 0; k < 5; k++) assert.equal(A[g * 5 + k], A[k * 5 + g]);
  });
  test('displacement sets: 4-neighbourhood has 2 half-displacements, 8 has 4', () => {
    assert.equal(halfDisplacements({ neighbourhood: '4' }).length, 2);
    assert.equal(halfDisplacements({ neighbourhood: '8' }).length, 4);
  });
});

describe('spatial aura entropy: hand-computed cases', () => {
  test('constant map: a single label, entropy 0', () => {
    assert.equal(auraEntropy(new Uint8Array(25).fill(2), 5, 5, 4), 0);
  });
  test('2-label checkerboard, 4-neighbourhood: A = [[0,m],[m,0]], entropy ln 2', () => {
    const labels = Array.from({ length: 36 }, (_, i) => (Math.floor(i / 6) + (i % 6)) % 2);
    assert.ok(Math.abs(auraEntropy(labels, 6, 6, 2) - Math.LN2) < 1e-12);
  });
  test('vertical stripes on 4x4, 4-neighbourhood: A = [[12,12],[12,12]] (worked by hand), entropy ln 4', () => {
    const labels = Array.from({ length: 16 }, (_, i) => i % 2);
    assert.deepEqual(Array.from(auraMatrix(labels, 4, 4, 2)), [12, 12, 12, 12]);
    assert.ok(Math.abs(auraEntropy(labels, 4, 4, 2) - Math.log(4)) < 1e-12);
    assert.ok(Math.abs(auraEntropy(labels, 4, 4, 2, { base: 2 }) - 2) < 1e-12, 'bits');
  });
  test('permuting labels and transposing the map leave the entropy unchanged', () => {
    const rng = new Rng(5);
    const h = 7,
      w = 5,
      G = 4;
    const labels = Array.from({ length: h * w }, () => rng.int(G));
    const H = auraEntropy(labels, h, w, G);
    const perm = [2, 0, 3, 1];
    assert.ok(
      Math.abs(
        auraEntropy(
          labels.map((l) => perm[l]),
          h,
          w,
          G,
        ) - H,
      ) < 1e-12,
    );
    const t = Array.from({ length: h * w }, (_, i) => labels[(i % h) * w + Math.floor(i / h)]);
    assert.ok(Math.abs(auraEntropy(t, w, h, G) - H) < 1e-12);
  });
  test('homogeneous maps have lower entropy than noisy ones', () => {
    const rng = new Rng(6);
    const smooth = Array.from({ length: 256 }, (_, i) => Math.floor((i % 16) / 4));
    const noisy = Array.from({ length: 256 }, () => rng.int(4));
    assert.ok(auraEntropy(smooth, 16, 16, 4) < auraEntropy(noisy, 16, 16, 4) - 0.5);
  });
  test('pooling sums matrices before the entropy; mean pools entropies', () => {
    const a = new Uint8Array(16).fill(0),
      b = Uint8Array.from({ length: 16 }, (_, i) => i % 2);
    const both = new Uint8Array([...a, ...b]);
    const pooled = auraEntropy(both, 4, 4, 2, { count: 2 });
    const sum = new Float64Array(auraMatrix(a, 4, 4, 2)).map((v, i) => v + auraMatrix(b, 4, 4, 2)[i]);
    assert.ok(Math.abs(pooled - entropyOfCounts(sum)) < 1e-12);
    assert.ok(Math.abs(auraEntropy(both, 4, 4, 2, { count: 2, pool: 'mean' }) - Math.log(4) / 2) < 1e-12);
  });
});

describe('quantisers', () => {
  test('per-map uniform bins span [min, max]; a constant map gets one label', () => {
    const out = quantizeMap([0, 0.5, 1, 0.25], new Uint8Array(4), { levels: 4 });
    assert.deepEqual(Array.from(out), [0, 2, 3, 1]);
    assert.deepEqual(Array.from(quantizeMap([3, 3, 3], new Uint8Array(3), { levels: 4 })), [0, 0, 0]);
  });
  test('zero bin: exact zeros get label 0, the rest 1..G-1', () => {
    const out = quantizeMap([0, 1, 2, 3, 0], new Uint8Array(5), { levels: 4, zeroBin: true });
    assert.deepEqual(Array.from(out), [0, 1, 2, 3, 0]);
  });
  test('range mode clamps to the calibrated range; quantile bins have equal mass', () => {
    assert.deepEqual(
      Array.from(quantizeMap([-5, 0, 0.5, 9], new Uint8Array(4), { levels: 2, mode: 'range', range: [0, 1] })),
      [0, 0, 1, 1],
    );
    const rng = new Rng(1);
    const sample = Array.from({ length: 4000 }, () => rng.normal());
    const edges = quantileEdges(sample, 4);
    const lab = quantizeMap(sample, new Uint8Array(4000), { levels: 4, mode: 'quantile', edges });
    const counts = [0, 0, 0, 0];
    lab.forEach((l) => counts[l]++);
    for (const c of counts) assert.ok(Math.abs(c - 1000) <= 2, `count ${c}`);
  });
  test('impossible options give clear errors', () => {
    assert.throws(() => quantizeMap([1], new Uint8Array(1), { levels: 1 }), /levels/);
    assert.throws(() => quantizeMap([1], new Uint8Array(1), { mode: 'range' }), /calibration/);
  });
});
