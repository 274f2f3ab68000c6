import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bootstrapMean, meanSd, packBits, pairedBootstrap, unpackBits, verdict } from './bootstrap.js';
import { Rng } from '../util/rng.js';

describe('paired bootstrap', () => {
  test('the 95% interval of a known accuracy difference covers it in about 95% of repeated experiments', () => {
    // each trial draws a new test set (image difficulties) and three seeds of two models whose
    // expected accuracies differ by exactly delta; the interval should cover delta ~95% of the time
    const delta = 0.02,
      N = 1000,
      S = 3,
      trials = 200;
    const rng = new Rng(5);
    let covered = 0;
    for (let t = 0; t < trials; t++) {
      const p = Float64Array.from({ length: N }, () => 0.6 + 0.3 * rng.next());
      const draw = (shift: number) => Uint8Array.from(p, (pi) => (rng.next() < pi + shift ? 1 : 0));
      const a = Array.from({ length: S }, () => draw(delta / 2));
      const b = Array.from({ length: S }, () => draw(-delta / 2));
      const iv = pairedBootstrap(a, b, { resamples: 400, seed: t });
      if (iv.lo <= delta && delta <= iv.hi) covered++;
    }
    const rate = covered / trials;
    assert.ok(rate >= 0.89 && rate <= 0.99, `coverage ${rate}`);
  });

  test('pairs seeds by position: identical models give exactly zero; a model right on every image where the other is wrong gives +1', () => {
    const ones = new Uint8Array(50).fill(1),
      zeros = new Uint8Array(50);
    const same = pairedBootstrap([ones, zeros], [ones, zeros], { resamples: 100 });
    assert.deepEqual([same.mean, same.lo, same.hi], [0, 0, 0]);
    assert.equal(verdict(same), 'no difference');
    const better = pairedBootstrap([ones], [zeros], { resamples: 100 });
    assert.deepEqual([better.mean, better.lo, better.hi], [1, 1, 1]);
    assert.equal(verdict(better), 'ahead');
  });

  test('bootstrapMean of a constant is that constant; meanSd matches hand values', () => {
    const c = bootstrapMean([0.3, 0.3, 0.3]);
    assert.ok(Math.abs(c.lo - 0.3) < 1e-12 && Math.abs(c.hi - 0.3) < 1e-12);
    const m = meanSd([1, 2, 3, 4]);
    assert.equal(m.mean, 2.5);
    assert.ok(Math.abs(m.sd - Math.sqrt(5 / 3)) < 1e-12);
  });

  test('per-image results survive packing', () => {
    const v = Uint8Array.from({ length: 10001 }, (_, i) => ((i * 7919) % 3 === 0 ? 1 : 0));
    assert.deepEqual(unpackBits(packBits(v), v.length), v);
    assert.throws(() => unpackBits(packBits(v), 20000), /bitset holds/);
  });
});
