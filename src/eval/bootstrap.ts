/**
 * Paired comparisons of pruned models with uncertainty (pure numeric).
 *
 * Two criteria are compared on the same seeds (same calibration sample, same fine-tune order) and the
 * same test images, so the difference is paired twice. The interval comes from a two-level bootstrap:
 * each replicate draws seeds with replacement (the variation between runs) and one shared resample of
 * the test images (the test set is one draw from the image distribution, common to every seed), and
 * takes the mean over the drawn seeds of the per-seed accuracy difference on the drawn images. With
 * three seeds the seed level alone would give at most ten distinct replicates; the image level keeps
 * the interval honest about the test set's own sampling error (about +-0.5 pt at 93% on 10,000 images).
 */
import { Rng } from '../util/rng.js';

export interface Interval {
  mean: number;
  lo: number;
  hi: number;
  /** number of seeds paired */
  n: number;
}

/** Mean and sample standard deviation (sd 0 for one value). */
export function meanSd(xs: number[]): { mean: number; sd: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, n);
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, sd };
}

/** Median (the mean of the two middle values for an even count; NaN when empty). */
export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The q-quantile (0..1) of sorted values, linear interpolation. */
export function quantileSorted(s: ArrayLike<number>, q: number): number {
  const pos = (s.length - 1) * q;
  const i = Math.floor(pos),
    f = pos - i;
  return i + 1 < s.length ? s[i] * (1 - f) + s[i + 1] * f : s[i];
}

/**
 * 95% (or `level`) percentile interval of mean(a - b), where a[s][i], b[s][i] are per-image
 * correctness (0/1) of the two models of seed s. Seeds are paired by position.
 */
export function pairedBootstrap(
  a: ArrayLike<number>[],
  b: ArrayLike<number>[],
  o: { resamples?: number; level?: number; seed?: number } = {},
): Interval {
  if (a.length !== b.length || a.length === 0)
    throw new RangeError('pairedBootstrap: need the same non-zero number of seeds on both sides');
  const S = a.length,
    N = a[0].length;
  const d = a.map((as, s) => {
    if (as.length !== N || b[s].length !== N) throw new RangeError('pairedBootstrap: every seed needs the same images on both sides');
    return Float64Array.from(as, (x, i) => x - b[s][i]);
  });
  const mean = d.reduce((acc, ds) => acc + ds.reduce((x, y) => x + y, 0) / N, 0) / S;
  const R = o.resamples ?? 2000,
    rng = new Rng(o.seed ?? 12345);
  const reps = new Float64Array(R);
  const counts = new Float64Array(N);
  for (let r = 0; r < R; r++) {
    counts.fill(0);
    for (let i = 0; i < N; i++) counts[Math.floor(rng.next() * N)]++;
    let total = 0;
    for (let k = 0; k < S; k++) {
      const ds = d[Math.floor(rng.next() * S)];
      let t = 0;
      for (let i = 0; i < N; i++) if (counts[i] !== 0 && ds[i] !== 0) t += counts[i] * ds[i];
      total += t / N;
    }
    reps[r] = total / S;
  }
  reps.sort();
  const alpha = (1 - (o.level ?? 0.95)) / 2;
  return { mean, lo: quantileSorted(reps, alpha), hi: quantileSorted(reps, 1 - alpha), n: S };
}

/** ln Gamma(x), Lanczos (g = 7, 9 terms; ~1e-15 relative for x > 0). */
function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularised incomplete beta I_x(a, b) (continued fraction, Numerical Recipes' betacf). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  let c = 1,
    d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < 1e-300 ? 1e-300 : d);
  let f = d;
  for (let m = 1; m <= 300; m++) {
    for (const num of [
      (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)),
      -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1)),
    ]) {
      d = 1 + num * d;
      d = 1 / (Math.abs(d) < 1e-300 ? 1e-300 : d);
      c = 1 + num / c;
      if (Math.abs(c) < 1e-300) c = 1e-300;
      f *= c * d;
    }
    if (Math.abs(c * d - 1) < 1e-15) break;
  }
  return (front * f) / a;
}

/** Student's t CDF with `df` degrees of freedom. */
export function tCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t with `df` degrees of freedom (bisection on the CDF). */
export function tQuantile(p: number, df: number): number {
  let lo = -1e3,
    hi = 1e3;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (tCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Interval of mean(a - b) that carries both sources of run-to-run variation, for comparisons over a
 * handful of seeds: d_s, the per-seed accuracy difference on the shared test images, varies between
 * seeds (calibration sample, fine-tune order: sample variance s_d^2 over S seeds), and the test
 * images are one draw from the image distribution shared by every seed (sample variance s_D^2 over the
 * N images of the seed-averaged per-image difference). mean(d) +- t_{S-1} * sqrt(s_d^2 / S + s_D^2 / N).
 * Unlike the percentile bootstrap over 3 seeds, whose interval is about [min, max] of the per-seed
 * differences and covers the true difference about 76% of the time, this one keeps its nominal
 * coverage from 3 seeds up (simulation test in bootstrap_test.ts).
 */
export function pairedTInterval(a: ArrayLike<number>[], b: ArrayLike<number>[], o: { level?: number } = {}): Interval {
  if (a.length !== b.length || a.length < 2) throw new RangeError('pairedTInterval: need the same number (>= 2) of seeds on both sides');
  const S = a.length,
    N = a[0].length;
  const perImage = new Float64Array(N);
  const d = a.map((as, s) => {
    if (as.length !== N || b[s].length !== N) throw new RangeError('pairedTInterval: every seed needs the same images on both sides');
    let t = 0;
    for (let i = 0; i < N; i++) {
      const x = as[i] - b[s][i];
      t += x;
      perImage[i] += x / S;
    }
    return t / N;
  });
  const { mean, sd } = meanSd(d);
  const img = meanSd(Array.from(perImage)).sd;
  const se = Math.sqrt((sd * sd) / S + (img * img) / N);
  const q = tQuantile(1 - (1 - (o.level ?? 0.95)) / 2, S - 1);
  return { mean, lo: mean - q * se, hi: mean + q * se, n: S };
}

/**
 * Student t interval of the mean of independent values (one per seed): mean +- t_{n-1} * sd / sqrt(n).
 * For statistics measured on several layers within a seed, average within the seed first: layers of
 * one seed share its calibration sample, so pooling them as independent values gives an interval far
 * too narrow (simulation test in bootstrap_test.ts). One value: the interval is that point, n 1.
 */
export function tMean(xs: number[], o: { level?: number } = {}): Interval {
  const n = xs.length;
  if (n === 0) return { mean: NaN, lo: NaN, hi: NaN, n: 0 };
  const { mean, sd } = meanSd(xs);
  if (n === 1) return { mean, lo: mean, hi: mean, n };
  const h = (tQuantile(1 - (1 - (o.level ?? 0.95)) / 2, n - 1) * sd) / Math.sqrt(n);
  return { mean, lo: mean - h, hi: mean + h, n };
}

/** Percentile bootstrap interval of the mean of `xs` (pooled values; see tMean for seeds). */
export function bootstrapMean(xs: number[], o: { resamples?: number; level?: number; seed?: number } = {}): Interval {
  const n = xs.length;
  if (n === 0) return { mean: NaN, lo: NaN, hi: NaN, n: 0 };
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, n);
  const R = o.resamples ?? 2000,
    rng = new Rng(o.seed ?? 12345);
  const reps = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    let t = 0;
    for (let i = 0; i < n; i++) t += xs[Math.floor(rng.next() * n)];
    reps[r] = t / n;
  }
  reps.sort();
  const alpha = (1 - (o.level ?? 0.95)) / 2;
  return { mean, lo: quantileSorted(reps, alpha), hi: quantileSorted(reps, 1 - alpha), n };
}

/**
 * "ahead", "behind" or, when the interval covers zero, "no evidence of a difference": the data fail
 * to show one, which is not evidence that the two are level.
 */
export type Verdict = 'ahead' | 'behind' | 'no evidence of a difference';
export function verdict(i: Interval): Verdict {
  return i.lo > 0 ? 'ahead' : i.hi < 0 ? 'behind' : 'no evidence of a difference';
}

/** 0/1 vector <-> base64 bitset, so per-image results fit in a results line (1.7 kB per 10,000 images). */
export function packBits(v: ArrayLike<number>): string {
  const bytes = new Uint8Array(Math.ceil(v.length / 8));
  for (let i = 0; i < v.length; i++) if (v[i]) bytes[i >> 3] |= 1 << (i & 7);
  return Buffer.from(bytes).toString('base64');
}

export function unpackBits(s: string, n: number): Uint8Array {
  const bytes = Buffer.from(s, 'base64');
  if (bytes.length !== Math.ceil(n / 8)) throw new RangeError(`bitset holds ${bytes.length * 8} bits, expected ${n}`);
  return Uint8Array.from({ length: n }, (_, i) => (bytes[i >> 3] >> (i & 7)) & 1);
}
