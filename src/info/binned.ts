/**
 * Binned plug-in mutual information with the Miller-Madow bias correction.
 *
 * What it measures: I(X;Y) >= 0 between two scalar variables from n paired samples, zero iff
 * independent. Method: equal-width bins over each variable's sample range; I = H(X) + H(Y) - H(X,Y)
 * with plug-in entropies, each corrected by (m - 1) / (2n) where m is its number of occupied bins
 * (Miller 1955) [1].
 *
 * @param x, y paired samples (same length n).
 * @param opts.bins bins per variable; default max(2, round(sqrt(n / 5))). More bins: less
 *   discretisation bias, more small-sample bias.
 * @param opts.correction 'miller-madow' (default) or 'none'.
 * @returns MI in nats, clamped at 0 (a negative estimate is noise).
 *
 * Notes: cost O(n + bins^2); memory O(bins^2).
 * References: [1] Paninski (2003), Estimation of entropy and mutual information, Neural Comput.
 */
export function mutualInfoBinned(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  opts: { bins?: number; correction?: 'miller-madow' | 'none' } = {},
): number {
  const n = x.length;
  if (y.length !== n) throw new RangeError(`x and y differ in length (${n} vs ${y.length})`);
  if (n < 2) return 0;
  const B = opts.bins ?? Math.max(2, Math.round(Math.sqrt(n / 5)));
  const bx = binIndex(x, B),
    by = binIndex(y, B);
  const cx = new Float64Array(B),
    cy = new Float64Array(B),
    cxy = new Float64Array(B * B);
  for (let i = 0; i < n; i++) {
    cx[bx[i]]++;
    cy[by[i]]++;
    cxy[bx[i] * B + by[i]]++;
  }
  let mi = plugin(cx, n) + plugin(cy, n) - plugin(cxy, n);
  if ((opts.correction ?? 'miller-madow') === 'miller-madow') mi += (occupied(cx) - 1 + occupied(cy) - 1 - (occupied(cxy) - 1)) / (2 * n);
  return Math.max(0, mi);
}

function binIndex(v: ArrayLike<number>, B: number): Int32Array {
  let lo = Infinity,
    hi = -Infinity;
  for (let i = 0; i < v.length; i++) {
    if (v[i] < lo) lo = v[i];
    if (v[i] > hi) hi = v[i];
  }
  const s = hi > lo ? B / (hi - lo) : 0;
  const out = new Int32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = Math.min(B - 1, Math.floor((v[i] - lo) * s));
  return out;
}

function plugin(c: Float64Array, n: number): number {
  let h = 0;
  for (let i = 0; i < c.length; i++) if (c[i] > 0) h -= (c[i] / n) * Math.log(c[i] / n);
  return h;
}

function occupied(c: Float64Array): number {
  let m = 0;
  for (let i = 0; i < c.length; i++) if (c[i] > 0) m++;
  return m;
}

/**
 * MI between a continuous variable (equal-width bins) and a discrete one (labels 0..classes-1),
 * plug-in with the Miller-Madow correction, clamped at 0. Used for I(filter; class label).
 */
export function mutualInfoWithLabels(
  x: ArrayLike<number>,
  labels: ArrayLike<number>,
  classes: number,
  opts: { bins?: number } = {},
): number {
  const n = x.length;
  if (labels.length !== n) throw new RangeError(`x and labels differ in length (${n} vs ${labels.length})`);
  const B = opts.bins ?? Math.max(2, Math.round(Math.sqrt(n / 5)));
  const bx = binIndex(x, B);
  const cx = new Float64Array(B),
    cy = new Float64Array(classes),
    cxy = new Float64Array(B * classes);
  for (let i = 0; i < n; i++) {
    cx[bx[i]]++;
    cy[labels[i]]++;
    cxy[bx[i] * classes + labels[i]]++;
  }
  const mi = plugin(cx, n) + plugin(cy, n) - plugin(cxy, n) + (occupied(cx) - 1 + occupied(cy) - 1 - (occupied(cxy) - 1)) / (2 * n);
  return Math.max(0, mi);
}
