/**
 * Quantisers that turn activation maps into label maps with G levels (docs/method.md section 1).
 * Typed arrays in, typed arrays out; no tfjs, no I/O.
 */

export type BinMode = 'per-map' | 'range' | 'quantile';

export interface QuantizeOptions {
  /** Number of levels G (2..255). Default 8. More levels keep more detail but the G x G (and, for
   * joint maps, G^2 x G^2) aura matrices get sparse on small maps, which biases entropies low. */
  levels?: number;
  /** 'per-map': uniform bins over each map's own [min, max] (default; insensitive to a filter's
   * scale); 'range': uniform bins over a fixed [lo, hi] from a calibration pass (keeps contrast
   * between maps); 'quantile': bins with equal mass, edges from a calibration sample. */
  mode?: BinMode;
  /** Range for mode 'range'. */
  range?: [number, number];
  /** Ascending inner edges (G-1 of them) for mode 'quantile'. */
  edges?: Float64Array;
  /** Give exact zeros (ReLU's dead region) label 0 and spread the other values over 1..G-1. Default false. */
  zeroBin?: boolean;
}

/** Uniform label of v in [lo, hi] with `g` levels, offset by `base`. */
function uniformLabel(v: number, lo: number, scale: number, g: number, base: number): number {
  const b = Math.floor((v - lo) * scale);
  return base + (b < 0 ? 0 : b >= g ? g - 1 : b);
}

/** Index of the first edge greater than v (binary search) = quantile label. */
function edgeLabel(v: number, edges: Float64Array): number {
  let lo = 0,
    hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Quantises one map (any length) into `out` (labels 0..G-1).
 * @param values the map's activations, row-major.
 * @param out Uint8Array of the same length (written).
 */
export function quantizeMap(values: ArrayLike<number>, out: Uint8Array, opts: QuantizeOptions = {}): Uint8Array {
  const G = opts.levels ?? 8;
  if (G < 2 || G > 255) throw new RangeError(`levels must be in 2..255, got ${G}`);
  const mode = opts.mode ?? 'per-map';
  const zb = opts.zeroBin ?? false;
  const g = zb ? G - 1 : G;
  const base = zb ? 1 : 0;
  const n = values.length;
  if (mode === 'quantile') {
    const edges = opts.edges;
    if (!edges || edges.length !== g - 1) throw new RangeError(`quantile mode needs ${g - 1} edges`);
    for (let i = 0; i < n; i++) out[i] = zb && values[i] === 0 ? 0 : base + edgeLabel(values[i], edges);
    return out;
  }
  let lo: number, hi: number;
  if (mode === 'range') {
    if (!opts.range) throw new RangeError("mode 'range' needs options.range from a calibration pass");
    [lo, hi] = opts.range;
  } else {
    lo = Infinity;
    hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (zb && v === 0) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  // A constant map (hi == lo) gets a single label: it carries no spatial information.
  const scale = hi > lo ? g / (hi - lo) : 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    out[i] = zb && v === 0 ? 0 : scale === 0 ? base : uniformLabel(v, lo, scale, g, base);
  }
  return out;
}

/** Quantile edges (G-1 inner edges) from a calibration sample, for mode 'quantile'. */
export function quantileEdges(sample: ArrayLike<number>, levels: number, zeroBin = false): Float64Array {
  const vals = Float64Array.from(sample)
    .filter((v) => !(zeroBin && v === 0))
    .sort();
  const g = zeroBin ? levels - 1 : levels;
  const edges = new Float64Array(g - 1);
  for (let k = 1; k < g; k++) edges[k - 1] = vals.length ? vals[Math.min(vals.length - 1, Math.floor((k * vals.length) / g))] : 0;
  return edges;
}

/**
 * Quantises a whole NHWC activation tensor channel by channel into a channel-major label array
 * [C][N][H][W] (so each map is contiguous for the aura kernels). Per-map ranges are per (image,
 * channel) map; 'range'/'quantile' use per-channel calibration from `calib`.
 */
export function quantizeActivations(
  values: Float32Array,
  shape: [number, number, number, number],
  opts: QuantizeOptions & { calib?: Array<Pick<QuantizeOptions, 'range' | 'edges'>> } = {},
): Uint8Array {
  const [N, H, W, C] = shape;
  const hw = H * W;
  const out = new Uint8Array(C * N * hw);
  const map = new Float32Array(hw);
  const lab = new Uint8Array(hw);
  for (let c = 0; c < C; c++) {
    const o = { ...opts, ...(opts.calib?.[c] ?? {}) };
    for (let n = 0; n < N; n++) {
      const src = n * hw * C + c;
      for (let i = 0; i < hw; i++) map[i] = values[src + i * C];
      quantizeMap(map, lab, o);
      out.set(lab, (c * N + n) * hw);
    }
  }
  return out;
}
