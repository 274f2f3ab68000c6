/** Ranking agreement statistics for robustness studies (pure numeric). */

/** Ranks with ties averaged (1-based). */
export function averageRanks(v: ArrayLike<number>): Float64Array {
  const idx = Array.from({ length: v.length }, (_, i) => i).sort((a, b) => v[a] - v[b]);
  const r = new Float64Array(v.length);
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && v[idx[j + 1]] === v[idx[i]]) j++;
    for (let k = i; k <= j; k++) r[idx[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/** Spearman's rank correlation (Pearson on average ranks); 1 for identical orderings, NaN if constant. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError('spearman: lengths differ');
  const ra = averageRanks(a),
    rb = averageRanks(b);
  const n = ra.length;
  const ma = ra.reduce((s, x) => s + x, 0) / n,
    mb = rb.reduce((s, x) => s + x, 0) / n;
  let sab = 0,
    saa = 0,
    sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = ra[i] - ma,
      y = rb[i] - mb;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return saa === 0 || sbb === 0 ? NaN : sab / Math.sqrt(saa * sbb);
}

/** |top-k(a) ∩ top-k(b)| / k, top = highest scores (ties broken by index). */
export function topKOverlap(a: ArrayLike<number>, b: ArrayLike<number>, k: number): number {
  const top = (v: ArrayLike<number>) =>
    new Set(
      Array.from({ length: v.length }, (_, i) => i)
        .sort((x, y) => v[y] - v[x] || x - y)
        .slice(0, k),
    );
  const ta = top(a),
    tb = top(b);
  let c = 0;
  for (const i of ta) if (tb.has(i)) c++;
  return k > 0 ? c / k : 1;
}
