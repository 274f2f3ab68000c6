import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../util/rng.js';
import { matrixRank } from './rank.js';
import { mutualInfoWithLabels } from './binned.js';

test('matrix rank: identity, zero, outer products, random full rank, strided reads', () => {
  const I = Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 1 : 0));
  assert.equal(matrixRank(I, 0, 4, 4), 4);
  assert.equal(matrixRank(new Float32Array(12), 0, 3, 4), 0);
  const rng = new Rng(1);
  const u = [1, 2, 3],
    v = [4, 5, 6, 7],
    u2 = [0, 1, -1],
    v2 = [1, 0, 0, 2];
  const r2 = Array.from({ length: 12 }, (_, k) => u[Math.floor(k / 4)] * v[k % 4] + u2[Math.floor(k / 4)] * v2[k % 4]);
  assert.equal(matrixRank(r2, 0, 3, 4), 2);
  assert.equal(
    matrixRank(
      Array.from({ length: 64 }, () => rng.normal()),
      0,
      8,
      8,
    ),
    8,
  );
  const interleaved = new Float32Array(32);
  I.forEach((v, i) => (interleaved[i * 2 + 1] = v));
  assert.equal(matrixRank(interleaved, 1, 4, 4, 2), 4);
});

test('MI with labels: a variable equal to the label has MI = H(label); an independent one ~0', () => {
  const rng = new Rng(2);
  const labels = Int32Array.from({ length: 5000 }, () => rng.int(4));
  const same = Float64Array.from(labels);
  const mi = mutualInfoWithLabels(same, labels, 4, { bins: 4 });
  assert.ok(Math.abs(mi - Math.log(4)) < 0.01, `${mi}`);
  const noise = Float64Array.from({ length: 5000 }, () => rng.next());
  assert.ok(mutualInfoWithLabels(noise, labels, 4) < 0.01);
});
