import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../util/rng.js';
import { quantizeActivations } from './quantize.js';
import {
  auraDescriptors,
  channelEntropies,
  edgeSet,
  LabelStack,
  latticeEdges,
  poolMaps,
  spatialMI,
  spatialMIMatrix,
  symmetricEntropy,
} from './spatial_mi.js';

/** Smooth random maps (sums of random sinusoids), NHWC with C channels. */
function smoothMaps(rng: Rng, n: number, h: number, w: number, C: number): Float32Array {
  const v = new Float32Array(n * h * w * C);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < C; c++) {
      const fx = rng.next() * 0.8,
        fy = rng.next() * 0.8,
        px = rng.next() * 6,
        py = rng.next() * 6;
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) v[((i * h + y) * w + x) * C + c] = Math.sin(fx * x + px) + Math.cos(fy * y + py);
    }
  return v;
}

function stack(values: Float32Array, n: number, h: number, w: number, C: number, G = 4): LabelStack {
  return { labels: quantizeActivations(values, [n, h, w, C], { levels: G }), channels: C, n, h, w, levels: G };
}

describe('spatial aura MI', () => {
  test('I(X;X) = H(X)', () => {
    const rng = new Rng(1);
    const X = stack(smoothMaps(rng, 6, 8, 8, 2), 6, 8, 8, 2);
    const H = channelEntropies(X);
    for (const c of [0, 1]) assert.ok(Math.abs(spatialMI(X, c, X, c) - H[c]) < 1e-9);
  });
  test('independent random maps: I tends to 0 as N grows', () => {
    const est = (n: number) => {
      const rng = new Rng(n);
      const a = Float32Array.from({ length: n * 64 }, () => rng.next());
      const b = Float32Array.from({ length: n * 64 }, () => rng.next());
      return spatialMI(stack(a, n, 8, 8, 1), 0, stack(b, n, 8, 8, 1), 0);
    };
    const small = est(4),
      large = est(400);
    assert.ok(large < small / 5, `I(N=4)=${small}, I(N=400)=${large}`);
    assert.ok(large < 0.03, `I(N=400)=${large}`);
  });
  test('I falls as noise is added to Y', () => {
    const rng = new Rng(2);
    const n = 20,
      h = 12,
      w = 12;
    const x = smoothMaps(rng, n, h, w, 1);
    const X = stack(x, n, h, w, 1);
    let prev = Infinity;
    for (const sigma of [0, 0.3, 1, 3]) {
      const y = x.map((v) => v + sigma * rng.normal());
      const mi = spatialMI(X, 0, stack(y, n, h, w, 1), 0);
      assert.ok(mi < prev, `sigma ${sigma}: ${mi} >= ${prev}`);
      prev = mi;
    }
  });
  test('matrix over channel pairs equals pairwise calls', () => {
    const rng = new Rng(3);
    const X = stack(smoothMaps(rng, 5, 6, 6, 3), 5, 6, 6, 3);
    const Y = stack(smoothMaps(rng, 5, 6, 6, 2), 5, 6, 6, 2);
    const { mi, updates } = spatialMIMatrix(X, Y, { neighbourhood: '8' });
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 2; j++) assert.ok(Math.abs(mi[i * 2 + j] - spatialMI(X, i, Y, j, { neighbourhood: '8' })) < 1e-12);
    // 8-neighbourhood on 6x6: 2*(2*6*5 + 2*5*5) ordered pairs per map, 5 maps, 6 channel pairs
    assert.equal(updates, 6 * 5 * 2 * (30 + 30 + 25 + 25));
  });
  test('maps on different lattices are refused with a hint', () => {
    const X = stack(new Float32Array(64), 1, 8, 8, 1),
      Y = stack(new Float32Array(16), 1, 4, 4, 1);
    assert.throws(() => spatialMI(X, 0, Y, 0), /poolMaps/);
  });
});

describe('edge sampling', () => {
  test('the exact edge set is every neighbour pair once; a sample draws distinct lattice edges per image, seeded', () => {
    // 4-neighbourhood on 3x4: 3*3 horizontal + 2*4 vertical pairs
    assert.equal(latticeEdges(3, 4).length / 2, 17);
    const ex = edgeSet(3, 4, 5);
    assert.equal(ex.perImage, false);
    assert.equal(ex.k, 17);
    const key = (p: Int32Array, q: number) => `${p[2 * q]},${p[2 * q + 1]}`;
    const all = new Set(Array.from({ length: 17 }, (_, q) => key(ex.pairs, q)));
    const s = edgeSet(3, 4, 5, { edges: 6, edgeSeed: 1 });
    assert.equal(s.perImage, true);
    assert.equal(s.pairs.length, 2 * 6 * 5);
    const perImage: string[][] = [];
    for (let i = 0; i < 5; i++) {
      const mine = Array.from({ length: 6 }, (_, q) => key(s.pairs.subarray(2 * i * 6), q));
      assert.equal(new Set(mine).size, 6, 'without replacement');
      for (const e of mine) assert.ok(all.has(e), `${e} is a lattice edge`);
      perImage.push(mine);
    }
    assert.ok(new Set(perImage.map((m) => m.join(' '))).size > 1, 'images get different samples');
    assert.deepEqual(edgeSet(3, 4, 5, { edges: 6, edgeSeed: 1 }).pairs, s.pairs);
    assert.notDeepEqual(edgeSet(3, 4, 5, { edges: 6, edgeSeed: 2 }).pairs, s.pairs);
    // a fraction, and counts at or above the lattice's mean exact
    assert.equal(edgeSet(3, 4, 5, { edges: 0.5 }).k, 9);
    assert.equal(edgeSet(3, 4, 5, { edges: 17 }).perImage, false);
    assert.throws(() => edgeSet(3, 4, 5, { edges: 0 }), /edges must be > 0/);
  });
  test('symmetric entropy and its Miller-Madow correction on a hand case', () => {
    // one-order counts U = [[1, 0], [2, 0]] over 3 edges: aura matrix S = U + U^T = [[2, 2], [2, 0]], total 6
    // H = ln 6 - (3 * 2 ln 2) / 6 = ln 3; occupied unordered cells {00, 01} = 2 -> + (2 - 1) / (2 * 3)
    assert.ok(Math.abs(symmetricEntropy([1, 0, 2, 0], 2, 3) - Math.log(3)) < 1e-15);
    assert.ok(Math.abs(symmetricEntropy([1, 0, 2, 0], 2, 3, 1) - (Math.log(3) + 1 / 6)) < 1e-15);
  });
  test('sampled aura MI converges to the exact value as the sample grows', () => {
    const rng = new Rng(11);
    const n = 60,
      h = 12;
    const x = smoothMaps(rng, n, h, h, 3);
    const y = x.map((v) => v + 0.5 * rng.normal());
    const X = stack(x, n, h, h, 3, 8),
      Y = stack(y, n, h, h, 3, 8);
    const exact = spatialMIMatrix(X, Y).mi;
    const err = (edges: number, edgeSeed: number) => {
      const mi = spatialMIMatrix(X, Y, { edges, edgeSeed }).mi;
      return mi.reduce((a, v, k) => a + Math.abs(v - exact[k]), 0) / mi.length;
    };
    // mean over a few seeds, so one lucky sample cannot decide
    const mean = (f: number) => [1, 2, 3].reduce((a, s) => a + err(f, s), 0) / 3;
    const e05 = mean(0.05),
      e25 = mean(0.25),
      e75 = mean(0.75);
    assert.ok(e05 > e25 && e25 > e75, `errors ${e05} ${e25} ${e75}`);
    assert.ok(e75 < (0.05 * exact.reduce((a, v) => a + v, 0)) / exact.length, `error at 75% ${e75}`);
    assert.equal(err(1e9, 1), 0, 'a sample as large as the lattice is the exact count');
  });
});

describe('pooling and descriptors', () => {
  test('poolMaps max/avg on a hand case', () => {
    const v = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]); // 1x4x4x1
    assert.deepEqual(Array.from(poolMaps(v, [1, 4, 4, 1], 2, 'max').values), [6, 8, 14, 16]);
    assert.deepEqual(Array.from(poolMaps(v, [1, 4, 4, 1], 2, 'avg').values), [3.5, 5.5, 11.5, 13.5]);
  });
  test('aura descriptor: one entropy per (channel, image); constant maps give 0', () => {
    const v = new Float32Array(2 * 16 * 2);
    for (let i = 0; i < 16; i++) v[16 * 2 + i * 2 + 1] = i % 2; // image 1, channel 1: stripes
    const d = auraDescriptors(stack(v, 2, 4, 4, 2, 2));
    assert.deepEqual(Array.from(d.slice(0, 3)), [0, 0, 0]);
    assert.ok(Math.abs(d[3] - Math.log(4)) < 1e-12);
  });
});
