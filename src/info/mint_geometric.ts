/**
 * MINT's geometric conditional mutual information estimator, re-implemented (docs/method.md section 3).
 *
 * What it measures: a dependence score for I(X;Y|Z) in [~0, 1]: 0 when X and Y are independent
 * given Z, larger when they are dependent. Method [1]: split the n rows into thirds (after a seeded
 * shuffle); for each row of the first third, replace its Y with the Y of the row of the second third
 * nearest in Z (a sample of X, Z with Y drawn independently given Z); stack these n/3 surrogate rows
 * with the held-out third; build the Euclidean minimum spanning tree over the stacked rows
 * (Prim, O(m^2) for m = 2n/3 rows); count R, the edges joining a surrogate row to a held-out row
 * (Friedman-Rafsky); return 1 - R / (n/3).
 *
 * Departures from MINT's published code (docs/method.md): rows of X, Y and Z are paired by image (its
 * code draws them separately), and the indices are the intended ones. With Z empty this scores
 * unconditional dependence (the surrogate Y comes from a random other row).
 *
 * @param x, y, z row-major sample matrices with n rows and dx, dy, dz columns (dz may be 0).
 * @param opts.seed shuffle seed (default 0).
 * @returns the score; cost O(n^2 (dx+dy+dz)) time, O(n) memory.
 * References: [1] Ganesh, Corso & Sekeh, MINT: Deep network compression via mutual information-based
 *   neuron trimming, ICPR 2020 (github MichiganCOG/MINT); Friedman & Rafsky (1979), Ann. Statist.
 */
import { Rng } from '../util/rng.js';

export interface Rows {
  data: Float64Array | Float32Array;
  n: number;
  d: number;
}

export function mintConditionalMI(X: Rows, Y: Rows, Z: Rows | null, opts: { seed?: number } = {}): number {
  const n = X.n;
  if (Y.n !== n || (Z && Z.n !== n)) throw new RangeError('X, Y and Z must have the same number of rows');
  const third = Math.floor(n / 3);
  if (third < 2) return 0;
  const perm = new Rng(opts.seed ?? 0).shuffle(Int32Array.from({ length: n }, (_, i) => i));
  const A = perm.subarray(0, third),
    B = perm.subarray(third, 2 * third),
    C = perm.subarray(2 * third, 3 * third);
  const dz = Z ? Z.d : 0;
  const dim = X.d + Y.d + dz;
  const m = 2 * third;
  const pts = new Float64Array(m * dim);
  const put = (row: number, xi: number, yi: number, zi: number) => {
    let o = row * dim;
    for (let j = 0; j < X.d; j++) pts[o++] = X.data[xi * X.d + j];
    for (let j = 0; j < Y.d; j++) pts[o++] = Y.data[yi * Y.d + j];
    for (let j = 0; j < dz; j++) pts[o++] = Z!.data[zi * dz + j];
  };
  for (let r = 0; r < third; r++) {
    const a = A[r];
    put(r, a, Z ? B[nearestInZ(Z, a, B)] : B[r], a); // surrogate: Y from the Z-nearest row of B
    put(third + r, C[r], C[r], C[r]); // held-out real rows
  }
  const cross = mstCrossEdges(pts, m, dim, third);
  return 1 - cross / third;
}

function nearestInZ(Z: Rows, a: number, B: Int32Array): number {
  let best = Infinity,
    arg = 0;
  for (let r = 0; r < B.length; r++) {
    let d = 0;
    for (let j = 0; j < Z.d; j++) {
      const t = Z.data[a * Z.d + j] - Z.data[B[r] * Z.d + j];
      d += t * t;
    }
    if (d < best) {
      best = d;
      arg = r;
    }
  }
  return arg;
}

/** Prim's MST over m points; counts edges between rows < split and rows >= split. */
export function mstCrossEdges(pts: Float64Array, m: number, dim: number, split: number): number {
  const inTree = new Uint8Array(m);
  const dist = new Float64Array(m).fill(Infinity);
  const parent = new Int32Array(m).fill(-1);
  dist[0] = 0;
  let cross = 0;
  for (let it = 0; it < m; it++) {
    let u = -1,
      bu = Infinity;
    for (let v = 0; v < m; v++)
      if (!inTree[v] && dist[v] < bu) {
        bu = dist[v];
        u = v;
      }
    inTree[u] = 1;
    if (parent[u] >= 0 && parent[u] < split !== u < split) cross++;
    const ou = u * dim;
    for (let v = 0; v < m; v++) {
      if (inTree[v]) continue;
      let d = 0;
      const ov = v * dim;
      for (let j = 0; j < dim; j++) {
        const t = pts[ou + j] - pts[ov + j];
        d += t * t;
      }
      if (d < dist[v]) {
        dist[v] = d;
        parent[v] = u;
      }
    }
  }
  return cross;
}
