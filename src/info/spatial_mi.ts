/**
 * Spatial mutual information between two activation maps on the same lattice, through aura
 * entropies (Razlighi & Kehtarnavaz style; docs/method.md section 2, first reading):
 *   I_aura(X;Y) = H_aura(X) + H_aura(Y) - H_aura(X,Y),
 * where (X,Y) is the map of joint labels z_s = x_s * G + y_s (G^2 labels). Aura matrices are pooled
 * over the N images (summed), then entropies are taken.
 */
import { AuraOptions, accumulateAura, entropyOfCounts, halfDisplacements } from './aura.js';

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
 * A joint-aura counting kernel: the joint aura entropy H(X_r, Y_c) for every parent row r in `rows`
 * and every child channel c (row-major, rows.length x Y.channels). The native addon provides one
 * (csrc/aura.cc); `jointEntropiesTs` is the reference it must match exactly in counts.
 */
export type JointEntropyKernel = (
  X: LabelStack,
  Y: LabelStack,
  disp: Array<[number, number]>,
  rows: number[],
) => { entropies: Float64Array; updates: number };

/** The TypeScript joint-entropy kernel (reference and fallback). */
export function jointEntropiesTs(
  X: LabelStack,
  Y: LabelStack,
  disp: Array<[number, number]>,
  rows: number[],
): { entropies: Float64Array; updates: number } {
  const { n, h, w, levels: G } = X;
  const hw = h * w;
  const acc = new Uint32Array(G ** 4);
  const out = new Float64Array(rows.length * Y.channels);
  let updates = 0;
  rows.forEach((cx, r) => {
    for (let cy = 0; cy < Y.channels; cy++) {
      acc.fill(0);
      for (let i = 0; i < n; i++)
        updates += accumulateJointAura(X.labels, (cx * n + i) * hw, Y.labels, (cy * n + i) * hw, h, w, G, disp, acc);
      out[r * Y.channels + cy] = entropyOfCounts(acc);
    }
  });
  return { entropies: out, updates };
}

/**
 * I_aura for every (parent channel, child channel) pair of two layers on the same lattice.
 * @param rows restrict to these parent channels (for splitting work across workers); default all.
 * @returns Float64Array [X.channels x Y.channels] row-major (row = X channel), plus the number of
 *   neighbour-pair updates done (for throughput figures).
 */
export function spatialMIMatrix(
  X: LabelStack,
  Y: LabelStack,
  opts: AuraOptions & { rows?: number[]; onRow?: (done: number) => void; kernel?: JointEntropyKernel } = {},
): { mi: Float64Array; updates: number } {
  checkCompatible(X, Y);
  const hx = channelEntropies(X, opts),
    hy = channelEntropies(Y, opts);
  const disp = halfDisplacements(opts);
  const mi = new Float64Array(X.channels * Y.channels);
  const rows = opts.rows ?? Array.from({ length: X.channels }, (_, i) => i);
  let updates = 0,
    done = 0;
  // a row at a time through the TS kernel (progress per row); the native kernel takes all rows at once
  const batches = opts.kernel ? [rows] : rows.map((r) => [r]);
  for (const part of batches) {
    const r = (opts.kernel ?? jointEntropiesTs)(X, Y, disp, part);
    updates += r.updates;
    part.forEach((cx, k) => {
      for (let cy = 0; cy < Y.channels; cy++) mi[cx * Y.channels + cy] = hx[cx] + hy[cy] - r.entropies[k * Y.channels + cy];
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
