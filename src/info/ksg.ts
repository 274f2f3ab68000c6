/**
 * Kraskov-Stoegbauer-Grassberger mutual information estimator, algorithm 1 [1].
 *
 * What it measures: I(X;Y) between two scalar variables from n paired samples (nats). Method: for
 * each point, eps_i = max-norm distance to its k-th nearest neighbour in the joint space; n_x(i),
 * n_y(i) = number of points strictly closer than eps_i in each marginal;
 * I = psi(k) + psi(n) - < psi(n_x + 1) + psi(n_y + 1) >.
 *
 * @param x, y paired samples (length n).
 * @param opts.k neighbours; default 3. Higher k lowers variance but adds bias [1].
 * @param opts.jitter relative noise added to break ties (default 1e-10 of the mean |value|, as
 *   scikit-learn does); seeded by opts.seed (default 0) for determinism.
 * @returns MI in nats, clamped at 0.
 *
 * Notes: 1) Index: points sorted by x; the k-NN search walks outwards in x and stops once |dx|
 * exceeds the current k-th distance, so smooth data costs far less than O(n^2); marginal counts use
 * binary search on sorted copies (O(n log n)). 2) Worst case (all x equal) is O(n^2).
 * References: [1] Kraskov, Stoegbauer & Grassberger (2004), Estimating mutual information, Phys. Rev. E 69.
 */
import { Rng } from '../util/rng.js';
import { digamma } from './special.js';

export function mutualInfoKSG(
  xIn: ArrayLike<number>,
  yIn: ArrayLike<number>,
  opts: { k?: number; jitter?: number; seed?: number } = {},
): number {
  const n = xIn.length;
  if (yIn.length !== n) throw new RangeError(`x and y differ in length (${n} vs ${yIn.length})`);
  const k = opts.k ?? 3;
  if (n <= k) return 0;
  const rng = new Rng(opts.seed ?? 0);
  const x = jittered(xIn, opts.jitter ?? 1e-10, rng),
    y = jittered(yIn, opts.jitter ?? 1e-10, rng);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  const xs = new Float64Array(n),
    ys = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    xs[r] = x[order[r]];
    ys[r] = y[order[r]];
  }
  const sortedY = Float64Array.from(ys).sort();
  const best = new Float64Array(k);
  let sum = 0;
  for (let r = 0; r < n; r++) {
    best.fill(Infinity);
    // walk left and right in x order; stop when |dx| >= k-th best joint distance
    for (let dir = -1; dir <= 1; dir += 2) {
      for (let j = r + dir; j >= 0 && j < n; j += dir) {
        const dx = Math.abs(xs[j] - xs[r]);
        if (dx >= best[k - 1]) break;
        const d = Math.max(dx, Math.abs(ys[j] - ys[r]));
        if (d < best[k - 1]) insert(best, d);
      }
    }
    const eps = best[k - 1];
    const nx = countWithin(xs, xs[r], eps) - 1; // xs is sorted; exclude the point itself
    const ny = countWithin(sortedY, ys[r], eps) - 1;
    sum += digamma(nx + 1) + digamma(ny + 1);
  }
  return Math.max(0, digamma(k) + digamma(n) - sum / n);
}

function jittered(v: ArrayLike<number>, rel: number, rng: Rng): Float64Array {
  let m = 0;
  for (let i = 0; i < v.length; i++) m += Math.abs(v[i]);
  const s = rel * (m / v.length || 1);
  return Float64Array.from({ length: v.length }, (_, i) => v[i] + s * rng.normal());
}

function insert(best: Float64Array, d: number): void {
  let i = best.length - 1;
  while (i > 0 && best[i - 1] > d) {
    best[i] = best[i - 1];
    i--;
  }
  best[i] = d;
}

/** Number of sorted values strictly within eps of c. */
function countWithin(sorted: Float64Array, c: number, eps: number): number {
  return lowerBound(sorted, c + eps) - upperBound(sorted, c - eps);
}
function lowerBound(a: Float64Array, v: number): number {
  let lo = 0,
    hi = a.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (a[m] < v) lo = m + 1;
    else hi = m;
  }
  return lo;
}
function upperBound(a: Float64Array, v: number): number {
  let lo = 0,
    hi = a.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (a[m] <= v) lo = m + 1;
    else hi = m;
  }
  return lo;
}
