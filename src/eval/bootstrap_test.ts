import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bootstrapMean, meanSd, packBits, pairedBootstrap, pairedTInterval, tMean, tQuantile, unpackBits, verdict } from './bootstrap.js';
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
    assert.equal(verdict(same), 'no evidence of a difference');
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

describe('intervals that cover: seed-level and image-level noise as in the study', () => {
  /**
   * One simulated comparison: a fresh test set of N images with difficulties in [0.55, 0.95]; S seeds
   * of two models whose accuracies differ by exactly delta in expectation, each seed shifting each
   * model's accuracy by its own N(0, sigmaSeed) (calibration sample and fine-tune differ per seed).
   */
  function trial(rng: Rng, S: number, N: number, delta: number, sigmaSeed: number) {
    const p = Float64Array.from({ length: N }, () => 0.55 + 0.4 * rng.next());
    const model = (shift: number) => {
      const u = shift + sigmaSeed * rng.normal();
      return Uint8Array.from(p, (pi) => (rng.next() < pi + u ? 1 : 0));
    };
    return { a: Array.from({ length: S }, () => model(delta / 2)), b: Array.from({ length: S }, () => model(-delta / 2)) };
  }
  // 2,000 test images; each seed moves a model's accuracy by N(0, 5 pt), as the one-epoch budget of
  // the study varies (sd 4.4-6.8 pt over its seeds)
  const coverage = (S: number, trials: number, method: 'bootstrap' | 't', N = 2000) => {
    const rng = new Rng(1000 + S);
    let covered = 0;
    for (let t = 0; t < trials; t++) {
      const { a, b } = trial(rng, S, N, 0.02, 0.05);
      const iv = method === 't' ? pairedTInterval(a, b) : pairedBootstrap(a, b, { resamples: 200, seed: t });
      if (iv.lo <= 0.02 && 0.02 <= iv.hi) covered++;
    }
    return covered / trials;
  };

  test('Student t quantiles equal the table (0.975: df 2 -> 4.303, 4 -> 2.776, 9 -> 2.262, 1000 -> 1.962)', () => {
    for (const [df, q] of [
      [2, 4.303],
      [4, 2.776],
      [9, 2.262],
      [1000, 1.962],
    ])
      assert.ok(Math.abs(tQuantile(0.975, df) - q) < 1e-3, `df ${df}: ${tQuantile(0.975, df)}`);
  });

  test('the percentile bootstrap over 3 and 5 seeds covers well below 95%; the t interval keeps >= 93% at 3, 5 and 10 seeds', () => {
    const old3 = coverage(3, 200, 'bootstrap'),
      old5 = coverage(5, 200, 'bootstrap');
    const t3 = coverage(3, 600, 't'),
      t5 = coverage(5, 600, 't'),
      t10 = coverage(10, 600, 't');
    assert.ok(old3 < 0.88, `old procedure, 3 seeds: ${old3}`);
    assert.ok(old5 < 0.9, `old procedure, 5 seeds: ${old5}`);
    for (const [S, c] of [
      [3, t3],
      [5, t5],
      [10, t10],
    ])
      assert.ok(c >= 0.93 && c <= 0.99, `t interval, ${S} seeds: ${c}`);
  });
});

describe('stability intervals: seeds, not (seed, layer) values', () => {
  // a criterion's true mean stability mu; each seed (calibration sample) shifts all its layers together
  // by N(0, 0.04) and each layer adds N(0, 0.05): 6 layers per seed, as in the study's network
  function trial(rng: Rng, S: number, mu: number) {
    return Array.from({ length: S }, () => {
      const u = 0.04 * rng.normal();
      return Array.from({ length: 6 }, () => mu + u + 0.05 * rng.normal());
    });
  }
  const coverage = (S: number, trials: number, method: 'pooled bootstrap' | 't over seeds') => {
    const rng = new Rng(77 + S);
    let covered = 0;
    for (let t = 0; t < trials; t++) {
      const v = trial(rng, S, 0.9);
      const iv = method === 't over seeds' ? tMean(v.map((l) => meanSd(l).mean)) : bootstrapMean(v.flat(), { resamples: 300, seed: t });
      if (iv.lo <= 0.9 && 0.9 <= iv.hi) covered++;
    }
    return covered / trials;
  };

  test('tMean equals the hand formula: [0.7, 0.8, 0.9] -> 0.8 +- 4.303 * 0.1 / sqrt(3)', () => {
    const iv = tMean([0.7, 0.8, 0.9]);
    const h = (tQuantile(0.975, 2) * 0.1) / Math.sqrt(3);
    assert.ok(Math.abs(iv.mean - 0.8) < 1e-12 && Math.abs(iv.lo - (0.8 - h)) < 1e-12 && Math.abs(iv.hi - (0.8 + h)) < 1e-12);
    assert.equal(iv.n, 3);
    assert.deepEqual(tMean([0.5]), { mean: 0.5, lo: 0.5, hi: 0.5, n: 1 });
  });

  test('pooling 3 seeds x 6 layers covers well below 95%; a t interval over the per-seed means keeps >= 93%', () => {
    const pooled = coverage(3, 300, 'pooled bootstrap');
    assert.ok(pooled < 0.85, `pooled bootstrap over (seed, layer), 3 seeds: ${pooled}`);
    for (const S of [3, 5, 10]) {
      const c = coverage(S, 600, 't over seeds');
      assert.ok(c >= 0.93 && c <= 0.98, `t over ${S} seed means: ${c}`);
    }
  });
});
