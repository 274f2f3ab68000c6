/**
 * Numerical rank of an h x w matrix (HRank's feature-map rank), by Gaussian elimination with
 * partial pivoting in float64. A pivot counts when it exceeds tol * max|a| (default tol = 1e-6,
 * suited to float32 activations).
 */
export function matrixRank(
  values: ArrayLike<number>,
  offset: number,
  h: number,
  w: number,
  stride = 1,
  tol = 1e-6,
  work?: Float64Array,
): number {
  const a = work && work.length >= h * w ? work : new Float64Array(h * w);
  let maxAbs = 0;
  for (let i = 0; i < h * w; i++) {
    const v = values[offset + i * stride];
    a[i] = v;
    if (Math.abs(v) > maxAbs) maxAbs = Math.abs(v);
  }
  if (maxAbs === 0) return 0;
  const eps = tol * maxAbs;
  let rank = 0;
  for (let col = 0; col < w && rank < h; col++) {
    let p = rank,
      best = Math.abs(a[rank * w + col]);
    for (let r = rank + 1; r < h; r++) {
      const v = Math.abs(a[r * w + col]);
      if (v > best) {
        best = v;
        p = r;
      }
    }
    if (best <= eps) continue;
    if (p !== rank)
      for (let c = col; c < w; c++) {
        const t = a[p * w + c];
        a[p * w + c] = a[rank * w + c];
        a[rank * w + c] = t;
      }
    const piv = a[rank * w + col];
    for (let r = rank + 1; r < h; r++) {
      const f = a[r * w + col] / piv;
      if (f === 0) continue;
      for (let c = col; c < w; c++) a[r * w + c] -= f * a[rank * w + c];
    }
    rank++;
  }
  return rank;
}
