/**
 * Aura matrices and spatial aura entropy (Elfadel & Picard 1994; docs/method.md section 1).
 *
 * For labels x_s on an H x W lattice and a neighbourhood N_s, the aura matrix is
 * A[g][k] = sum over sites s with x_s = g of |{t in N_s : x_t = k}|, i.e. the sum of the
 * co-occurrence matrices over the neighbourhood's displacements. Sites outside the map are not
 * neighbours. The spatial aura entropy is the Shannon entropy of p = A / sum(A): low when mass sits
 * on the diagonal (homogeneous maps), at most 2 ln G.
 */

export type Neighbourhood = '4' | '8';

export interface AuraOptions {
  /** '4': {(±1,0),(0,±1)}; '8': the 3x3 square minus the centre. Default '4'. A wider
   * neighbourhood smooths the estimate at proportionally more cost. */
  neighbourhood?: Neighbourhood;
  /** Radius r >= 1: displacements scaled up to r (4: |dy|+|dx| <= r on the axes; 8: Chebyshev
   * ball). Default 1. */
  radius?: number;
}

/** Half of the symmetric displacement set (the other half is its negation). */
export function halfDisplacements(opts: AuraOptions = {}): Array<[number, number]> {
  const r = opts.radius ?? 1;
  const nb = opts.neighbourhood ?? '4';
  if (!(r >= 1 && Number.isInteger(r))) throw new RangeError(`radius must be a positive integer, got ${r}`);
  const out: Array<[number, number]> = [];
  for (let dy = 0; dy <= r; dy++) {
    for (let dx = -r; dx <= r; dx++) {
      if (dy === 0 && dx <= 0) continue; // keep one of each ± pair
      if (nb === '4' ? dy === 0 || dx === 0 : true) out.push([dy, dx]);
    }
  }
  return out;
}

/**
 * Adds the aura matrix of one label map to `acc` (G x G, row-major), counting each unordered
 * neighbour pair in both directions, so the result is symmetric.
 * @returns the number of (ordered) neighbour-pair updates made.
 */
export function accumulateAura(
  labels: ArrayLike<number>,
  offset: number,
  h: number,
  w: number,
  G: number,
  disp: Array<[number, number]>,
  acc: Float64Array,
): number {
  let updates = 0;
  for (const [dy, dx] of disp) {
    const x0 = Math.max(0, -dx),
      x1 = Math.min(w, w - dx);
    for (let y = 0; y + dy < h; y++) {
      const row = offset + y * w,
        nrow = offset + (y + dy) * w + dx;
      for (let x = x0; x < x1; x++) {
        const a = labels[row + x],
          b = labels[nrow + x];
        acc[a * G + b]++;
        acc[b * G + a]++;
      }
      updates += 2 * Math.max(0, x1 - x0);
    }
  }
  return updates;
}

/** Aura matrix (G x G, Float64Array) of one map, or pooled over `count` consecutive maps. */
export function auraMatrix(labels: ArrayLike<number>, h: number, w: number, G: number, opts: AuraOptions = {}, count = 1): Float64Array {
  const acc = new Float64Array(G * G);
  const disp = halfDisplacements(opts);
  for (let i = 0; i < count; i++) accumulateAura(labels, i * h * w, h, w, G, disp, acc);
  return acc;
}

/** Shannon entropy of a non-negative count array (nats, or bits with base 2). 0 for an empty array. */
export function entropyOfCounts(counts: ArrayLike<number>, base: 'e' | 2 = 'e'): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  if (total === 0) return 0;
  let h = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (c > 0) h -= c * Math.log(c);
  }
  h = h / total + Math.log(total);
  return base === 2 ? h / Math.LN2 : h;
}

/**
 * Spatial aura entropy of label maps.
 * @param labels `count` maps of h*w labels in [0, G), consecutive.
 * @param G number of labels.
 * @param opts.pool 'sum' (default): sum the aura matrices, then one entropy (docs/method.md: pooled);
 *   'mean': the mean of per-map entropies.
 * @returns entropy in nats (or bits with opts.base = 2).
 */
export function auraEntropy(
  labels: ArrayLike<number>,
  h: number,
  w: number,
  G: number,
  opts: AuraOptions & { count?: number; pool?: 'sum' | 'mean'; base?: 'e' | 2 } = {},
): number {
  const count = opts.count ?? 1;
  if (opts.pool === 'mean') {
    const disp = halfDisplacements(opts);
    const acc = new Float64Array(G * G);
    let s = 0;
    for (let i = 0; i < count; i++) {
      acc.fill(0);
      accumulateAura(labels, i * h * w, h, w, G, disp, acc);
      s += entropyOfCounts(acc, opts.base);
    }
    return s / count;
  }
  return entropyOfCounts(auraMatrix(labels, h, w, G, opts, count), opts.base);
}
