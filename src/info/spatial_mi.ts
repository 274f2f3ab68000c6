/**
 * Spatial mutual information between two activation maps on the same lattice, through aura
 * entropies (Razlighi & Kehtarnavaz style; docs/method.md section 2, first reading):
 *   I_aura(X;Y) = H_aura(X) + H_aura(Y) - H_aura(X,Y),
 * where (X,Y) is the map of joint labels z_s = x_s * G + y_s (G^2 labels). Aura matrices are pooled
 * over the N images (summed), then entropies are taken.
 */
import { AuraOptions, accumulateAura, entropyOfCounts, halfDisplacements } from './aura.js';
import { Rng } from '../util/rng.js';

/** Label maps of one layer, channel-major: labels[(c * n + i) * h * w + s]. */
export interface LabelStack {
  labels: Uint8Array;
  channels: number;
  n: number;
  h: number;
  w: number;
  levels: number;
}

/** Pooled aura entropy of each channel of a stack. */
export function channelEntropies(st: LabelStack, opts: AuraOptions = {}): Float64Array {
  const { labels, channels, n, h, w, levels: G } = st;
  const disp = halfDisplacements(opts);
  const acc = new Float64Array(G * G);
  const out = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    acc.fill(0);
    for (let i = 0; i < n; i++) accumulateAura(labels, (c * n + i) * h * w, h, w, G, disp, acc);
    out[c] = entropyOfCounts(acc);
  }
  return out;
}

/**
 * Adds the joint aura matrix of maps X (at offX) and Y (at offY) to acc (G^2 x G^2).
 * @returns neighbour-pair updates made (each counted once per ordered pair).
 */
export function accumulateJointAura(
  x: Uint8Array,
  offX: number,
  y: Uint8Array,
  offY: number,
  h: number,
  w: number,
  G: number,
  disp: Array<[number, number]>,
  acc: Uint32Array,
): number {
  const G2 = G * G;
  let updates = 0;
  for (const [dy, dx] of disp) {
    const x0 = Math.max(0, -dx),
      x1 = Math.min(w, w - dx);
    for (let r = 0; r + dy < h; r++) {
      const row = r * w,
        nrow = (r + dy) * w + dx;
      for (let c = x0; c < x1; c++) {
        const a = x[offX + row + c] * G + y[offY + row + c];
        const b = x[offX + nrow + c] * G + y[offY + nrow + c];
        acc[a * G2 + b]++;
        acc[b * G2 + a]++;
      }
      updates += 2 * Math.max(0, x1 - x0);
    }
  }
  return updates;
}

/** I_aura between channel cx of stack X and channel cy of stack Y (same n, h, w, levels). */
export function spatialMI(X: LabelStack, cx: number, Y: LabelStack, cy: number, opts: AuraOptions = {}): number {
  checkCompatible(X, Y);
  const hx = channelEntropies({ ...X, labels: X.labels.subarray(cx * X.n * X.h * X.w, (cx + 1) * X.n * X.h * X.w), channels: 1 }, opts)[0];
  const hy = channelEntropies({ ...Y, labels: Y.labels.subarray(cy * Y.n * Y.h * Y.w, (cy + 1) * Y.n * Y.h * Y.w), channels: 1 }, opts)[0];
  const { n, h, w, levels: G } = X;
  const acc = new Uint32Array(G ** 4);
  const disp = halfDisplacements(opts);
  for (let i = 0; i < n; i++) accumulateJointAura(X.labels, (cx * n + i) * h * w, Y.labels, (cy * n + i) * h * w, h, w, G, disp, acc);
  return hx + hy - entropyOfCounts(acc);
}

function checkCompatible(X: LabelStack, Y: LabelStack): void {
  if (X.n !== Y.n || X.h !== Y.h || X.w !== Y.w || X.levels !== Y.levels) {
    throw new RangeError(
      `maps differ: X n=${X.n} ${X.h}x${X.w} G=${X.levels}, Y n=${Y.n} ${Y.h}x${Y.w} G=${Y.levels}; pool the larger map first (poolMaps)`,
    );
  }
}

/**
 * The neighbour pairs (edges) aura matrices are counted over: every unordered pair of neighbouring
 * pixels of the lattice (exact), or a seeded uniform sample of `k` of them per image. `pairs` holds
 * pixel indices (s, t); shared by all images unless `perImage` (then image i's pairs start at 2 i k).
 */
export interface EdgeSet {
  pairs: Int32Array;
  k: number;
  perImage: boolean;
  /** Edges per image of the whole lattice (k when exact). */
  total: number;
}

/** Sampling of neighbour pairs: `edges` per image (an integer >= 1) or a fraction of them (in (0, 1)). */
export interface EdgeSampling {
  edges?: number;
  /** Seed of the per-image sample (default 0). */
  edgeSeed?: number;
  /** Miller-Madow bias correction of sampled entropies towards the exact count (default on; see samplingBias). */
  millerMadow?: boolean;
}

/** Every unordered neighbour pair of an h x w lattice, in the displacement order of halfDisplacements. */
export function latticeEdges(h: number, w: number, opts: AuraOptions = {}): Int32Array {
  const out: number[] = [];
  for (const [dy, dx] of halfDisplacements(opts)) {
    const x0 = Math.max(0, -dx),
      x1 = Math.min(w, w - dx);
    for (let r = 0; r + dy < h; r++) for (let c = x0; c < x1; c++) out.push(r * w + c, (r + dy) * w + c + dx);
  }
  return Int32Array.from(out);
}

/** Edges per image a sampling setting keeps out of `total` (all of them when unset or >= total). */
export function sampledEdgeCount(total: number, edges?: number): number {
  if (edges === undefined) return total;
  if (!(edges > 0)) throw new RangeError(`aura edges must be > 0 (a count, or a fraction below 1), got ${edges}`);
  const k = edges < 1 ? Math.round(edges * total) : Math.floor(edges);
  return Math.max(1, Math.min(total, k));
}

/**
 * The edge set for n images of an h x w lattice: exact when `edges` is unset or covers the lattice,
 * else k edges per image drawn uniformly without replacement (partial Fisher-Yates, seeded).
 */
export function edgeSet(h: number, w: number, n: number, opts: AuraOptions & EdgeSampling = {}): EdgeSet {
  const all = latticeEdges(h, w, opts);
  const total = all.length / 2;
  const k = sampledEdgeCount(total, opts.edges);
  if (k >= total) return { pairs: all, k: total, perImage: false, total };
  const rng = new Rng(opts.edgeSeed ?? 0);
  const idx = new Int32Array(total);
  const pairs = new Int32Array(2 * k * n);
  for (let i = 0; i < n; i++) {
    for (let q = 0; q < total; q++) idx[q] = q;
    for (let q = 0; q < k; q++) {
      const r = q + rng.int(total - q);
      const e = idx[r];
      idx[r] = idx[q];
      idx[q] = e;
      pairs[2 * (i * k + q)] = all[2 * e];
      pairs[2 * (i * k + q) + 1] = all[2 * e + 1];
    }
  }
  return { pairs, k, perImage: true, total };
}

/**
 * Entropy of the aura matrix S = U + U^T (both orders of every edge, total 2 * edges) from one-order
 * counts U (m x m), plus `bias` * (occupied unordered cells - 1) / (2 * edges): Miller-Madow's
 * first-order correction with the edges as the draws of a multinomial over unordered cells, scaled by
 * `bias` (0: none; 1: plain Miller-Madow; see `samplingBias`).
 */
export function symmetricEntropy(u: ArrayLike<number>, m: number, edges: number, bias = 0): number {
  if (edges <= 0) return 0;
  let s = 0,
    occupied = 0;
  for (let a = 0; a < m; a++) {
    const d = 2 * u[a * m + a];
    if (d > 0) {
      s += d * Math.log(d);
      occupied++;
    }
    for (let b = a + 1; b < m; b++) {
      const c = u[a * m + b] + u[b * m + a];
      if (c > 0) {
        s += 2 * c * Math.log(c);
        occupied++;
      }
    }
  }
  const total = 2 * edges;
  const h = Math.log(total) - s / total;
  return h + (bias * (occupied - 1)) / (2 * edges);
}

/**
 * The Miller-Madow scale for a sample of k of the `total` edges per image: 1 - k / total. The sample's
 * plug-in entropy falls short of the exact count's by about (cells - 1)/2 * (1/(n k) - 1/(n total))
 * (a finite population: the exact count is the whole of it), so the corrected estimate converges to
 * the exact one and equals it when the sample is the whole lattice. 0 when exact or when switched off.
 */
export function samplingBias(E: EdgeSet, millerMadow = true): number {
  return millerMadow && E.perImage ? 1 - E.k / E.total : 0;
}

/**
 * Pooled aura entropy of each channel (or of `only` these, in that order) over an edge set (the same
 * pairs the joint entropies use).
 */
export function channelEntropiesOnEdges(st: LabelStack, E: EdgeSet, bias = 0, only?: number[]): Float64Array {
  const { labels, n, h, w, levels: G } = st;
  const hw = h * w;
  const u = new Float64Array(G * G);
  const list = only ?? Array.from({ length: st.channels }, (_, c) => c);
  const out = new Float64Array(list.length);
  for (const [k, c] of list.entries()) {
    u.fill(0);
    for (let i = 0; i < n; i++) {
      const off = (c * n + i) * hw,
        eo = E.perImage ? 2 * i * E.k : 0;
      for (let q = 0; q < E.k; q++) u[labels[off + E.pairs[eo + 2 * q]] * G + labels[off + E.pairs[eo + 2 * q + 1]]]++;
    }
    out[k] = symmetricEntropy(u, G, n * E.k, bias);
  }
  return out;
}

/**
 * A joint-aura counting kernel: the joint aura entropy H(X_r, Y_c) over the edge set for every parent
 * row r in `rows` and every child channel c (row-major, rows.length x Y.channels), and the ordered
 * neighbour pairs that represents; a kernel may also return the marginal entropies of the rows (hx)
 * and children (hy) on the same edges. The native addon provides one (csrc/aura.cc);
 * `jointEntropiesTs` is the reference it must match.
 */
export type JointEntropyKernel = (
  X: LabelStack,
  Y: LabelStack,
  E: EdgeSet,
  rows: number[],
  bias: number,
) => { entropies: Float64Array; updates: number; hx?: Float64Array; hy?: Float64Array };

/**
 * The TypeScript joint-entropy kernel (reference and fallback): one order of each edge counted into
 * a G^4 table, symmetrised in the entropy (accumulateJointAura, counting both orders, is its oracle).
 */
export function jointEntropiesTs(
  X: LabelStack,
  Y: LabelStack,
  E: EdgeSet,
  rows: number[],
  bias = 0,
): { entropies: Float64Array; updates: number } {
  const { n, h, w, levels: G } = X;
  const hw = h * w,
    G2 = G * G,
    G3 = G2 * G,
    k = E.k,
    P = E.pairs;
  const acc = new Uint32Array(G2 * G2);
  const pe = new Uint32Array(n * k);
  const out = new Float64Array(rows.length * Y.channels);
  rows.forEach((cx, r) => {
    for (let i = 0; i < n; i++) {
      const off = (cx * n + i) * hw,
        eo = E.perImage ? 2 * i * k : 0;
      for (let q = 0; q < k; q++) pe[i * k + q] = X.labels[off + P[eo + 2 * q]] * G3 + X.labels[off + P[eo + 2 * q + 1]] * G;
    }
    for (let cy = 0; cy < Y.channels; cy++) {
      acc.fill(0);
      for (let i = 0; i < n; i++) {
        const off = (cy * n + i) * hw,
          eo = E.perImage ? 2 * i * k : 0,
          po = i * k;
        for (let q = 0; q < k; q++) acc[pe[po + q] + Y.labels[off + P[eo + 2 * q]] * G2 + Y.labels[off + P[eo + 2 * q + 1]]]++;
      }
      out[r * Y.channels + cy] = symmetricEntropy(acc, G2, n * k, bias);
    }
  });
  return { entropies: out, updates: 2 * rows.length * Y.channels * n * k };
}

/**
 * I_aura for every (parent channel, child channel) pair of two layers on the same lattice, over every
 * neighbour pair (default) or a seeded sample of them per image (`edges`, docs/method.md).
 * @param rows restrict to these parent channels (for splitting work across workers); default all.
 * @returns Float64Array [X.channels x Y.channels] row-major (row = X channel), plus the number of
 *   ordered neighbour-pair updates it stands for (for throughput figures).
 */
export function spatialMIMatrix(
  X: LabelStack,
  Y: LabelStack,
  opts: AuraOptions & EdgeSampling & { rows?: number[]; onRow?: (done: number) => void; kernel?: JointEntropyKernel } = {},
): { mi: Float64Array; updates: number } {
  checkCompatible(X, Y);
  const E = edgeSet(X.h, X.w, X.n, opts);
  const mm = samplingBias(E, opts.millerMadow);
  const mi = new Float64Array(X.channels * Y.channels);
  const rows = opts.rows ?? Array.from({ length: X.channels }, (_, i) => i);
  let updates = 0,
    done = 0;
  // a row at a time through the TS kernel (progress per row); the native kernel takes all rows at once
  // and returns the marginals too (counted in its threads)
  const batches = opts.kernel ? [rows] : rows.map((r) => [r]);
  let hyTs: Float64Array | null = null;
  for (const part of batches) {
    const kernel: JointEntropyKernel = opts.kernel ?? jointEntropiesTs;
    const r = kernel(X, Y, E, part, mm);
    updates += r.updates;
    const hx = r.hx ?? channelEntropiesOnEdges(X, E, mm, part);
    const hy = r.hy ?? (hyTs ??= channelEntropiesOnEdges(Y, E, mm));
    part.forEach((cx, k) => {
      for (let cy = 0; cy < Y.channels; cy++) mi[cx * Y.channels + cy] = hx[k] + hy[cy] - r.entropies[k * Y.channels + cy];
      opts.onRow?.(++done);
    });
  }
  return { mi, updates };
}

/**
 * Pools NHWC maps down by an integer factor (max or average), to align a layer with the next
 * layer's lattice when a pooling layer sits between them.
 */
export function poolMaps(
  values: Float32Array,
  shape: [number, number, number, number],
  factor: number,
  mode: 'max' | 'avg' = 'max',
): { values: Float32Array; shape: [number, number, number, number] } {
  const [N, H, W, C] = shape;
  if (factor === 1) return { values, shape };
  const h = Math.floor(H / factor),
    w = Math.floor(W / factor);
  const out = new Float32Array(N * h * w * C);
  for (let n = 0; n < N; n++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let c = 0; c < C; c++) {
          let m = mode === 'max' ? -Infinity : 0;
          for (let dy = 0; dy < factor; dy++)
            for (let dx = 0; dx < factor; dx++) {
              const v = values[((n * H + y * factor + dy) * W + x * factor + dx) * C + c];
              m = mode === 'max' ? (v > m ? v : m) : m + v;
            }
          out[((n * h + y) * w + x) * C + c] = mode === 'max' ? m : m / (factor * factor);
        }
  return { values: out, shape: [N, h, w, C] };
}

/**
 * Where each pixel of a coarser lattice lies on a finer one, per axis: output pixel i covers input
 * rows [i*stride + offset, i*stride + offset + size - 1] (clamped to the map). `poolMaps` is the case
 * size = stride = factor, offset 0.
 */
export interface AxisWindow {
  size: number;
  stride: number;
  offset: number;
  out: number;
}

/** Max (or mean) of NHWC maps over the windows `wy` x `wx`: brings a parent layer onto a child's lattice. */
export function alignMaps(
  values: Float32Array,
  shape: [number, number, number, number],
  wy: AxisWindow,
  wx: AxisWindow,
  mode: 'max' | 'avg' = 'max',
): { values: Float32Array; shape: [number, number, number, number] } {
  const [N, H, W, C] = shape;
  const h = wy.out,
    w = wx.out;
  const out = new Float32Array(N * h * w * C);
  const span = (a: AxisWindow, i: number, n: number): [number, number] => {
    const lo = Math.min(n - 1, Math.max(0, i * a.stride + a.offset));
    return [lo, Math.max(lo, Math.min(n - 1, i * a.stride + a.offset + a.size - 1))];
  };
  for (let n = 0; n < N; n++)
    for (let y = 0; y < h; y++) {
      const [y0, y1] = span(wy, y, H);
      for (let x = 0; x < w; x++) {
        const [x0, x1] = span(wx, x, W);
        for (let c = 0; c < C; c++) {
          let m = mode === 'max' ? -Infinity : 0;
          for (let yy = y0; yy <= y1; yy++)
            for (let xx = x0; xx <= x1; xx++) {
              const v = values[((n * H + yy) * W + xx) * C + c];
              m = mode === 'max' ? (v > m ? v : m) : m + v;
            }
          out[((n * h + y) * w + x) * C + c] = mode === 'max' ? m : m / ((y1 - y0 + 1) * (x1 - x0 + 1));
        }
      }
    }
  return { values: out, shape: [N, h, w, C] };
}

/**
 * Aura descriptor (docs/method.md section 2, second reading): one pooled-over-nothing aura entropy per
 * (channel, image) map. Returns Float64Array [channels x n].
 */
export function auraDescriptors(st: LabelStack, opts: AuraOptions = {}): Float64Array {
  const { labels, channels, n, h, w, levels: G } = st;
  const disp = halfDisplacements(opts);
  const acc = new Float64Array(G * G);
  const out = new Float64Array(channels * n);
  for (let c = 0; c < channels; c++)
    for (let i = 0; i < n; i++) {
      acc.fill(0);
      accumulateAura(labels, (c * n + i) * h * w, h, w, G, disp, acc);
      out[c * n + i] = entropyOfCounts(acc);
    }
  return out;
}
