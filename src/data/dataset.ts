/**
 * The data set type every stage reads: images as NHWC uint8 with their shape, class names and the
 * per-channel statistics inputs are normalised with. Stages take an `ImageSplit` and read its `info`,
 * never a fixed 32x32x3 or 10 classes.
 *
 * Statistics: CIFAR-10's are the published ones; every other set's are computed from its full
 * training file (before any `--train-limit` or validation split, so every run on the same files gets
 * the same numbers) and recorded in the run's config.json.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { DataError } from './errors.js';

export type DataFormat = 'cifar10' | 'cifar100' | 'idx' | 'npy' | 'npz' | 'folder';

export interface DataInfo {
  /** e.g. 'cifar10', 'fashion-mnist', or the folder's name */
  name: string;
  format: DataFormat;
  /** [height, width, channels] of one image as the model sees it (after any --resize) */
  shape: [number, number, number];
  classNames: string[];
  /** per-channel mean and standard deviation of pixel values in [0, 1] */
  mean: number[];
  std: number[];
  /** where the statistics come from */
  stats: 'published' | 'training split';
  /** the stored image size when `--resize` changed it */
  resizedFrom?: [number, number];
}

/**
 * Class indices: one byte each up to 256 classes, two bytes beyond (an ImageNet-style folder has 1,000).
 * `labelArray` makes the right one.
 */
export type Labels = Uint8Array | Uint16Array;
/** Largest number of classes a data set may have. */
export const MAX_CLASSES = 65536;
export function labelArray(n: number, classes: number): Labels {
  return classes > 256 ? new Uint16Array(n) : new Uint8Array(n);
}
/** `labels[idx[i]]` for each i, in an array of the same width. */
export function gatherLabels(labels: Labels, idx: ArrayLike<number>): Labels {
  const out = labels instanceof Uint16Array ? new Uint16Array(idx.length) : new Uint8Array(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = labels[idx[i]];
  return out;
}

/** Images (N x H x W x C uint8, channels last) and labels in [0, classes). */
export interface ImageSplit {
  /** the pixels in memory; empty when the split is read from `disk` */
  images: Uint8Array;
  labels: Labels;
  n: number;
  info: DataInfo;
  /** a split streamed from disk: image i is row rows[i] of `path` (rows of H*W*C bytes), read per batch */
  disk?: DiskImages;
}

export interface DiskImages {
  path: string;
  rows: Int32Array;
}

// one descriptor per file, opened on first read and kept for the process (a data set is read for its whole life)
const fds = new Map<string, number>();
function fdOf(path: string): number {
  let fd = fds.get(path);
  if (fd === undefined) {
    fd = openSync(path, 'r');
    fds.set(path, fd);
  }
  return fd;
}
/** Closes the descriptors of streamed data sets (tests; a process otherwise keeps them to its end). */
export function closeDiskImages(): void {
  for (const fd of fds.values()) closeSync(fd);
  fds.clear();
}

/**
 * Images idx of `split` as one contiguous block (b x H x W x C), into `out` when given. In-memory
 * splits copy; streamed ones read each image's row from disk.
 */
export function gatherImages(split: ImageSplit, idx: ArrayLike<number>, out?: Uint8Array): Uint8Array {
  const pix = pixelsOf(split.info);
  const block = out ?? new Uint8Array(idx.length * pix);
  if (!split.disk) {
    for (let i = 0; i < idx.length; i++) block.set(split.images.subarray(idx[i] * pix, (idx[i] + 1) * pix), i * pix);
    return block;
  }
  const fd = fdOf(split.disk.path);
  for (let i = 0; i < idx.length; i++) {
    const got = readSync(fd, block, i * pix, pix, split.disk.rows[idx[i]] * pix);
    if (got !== pix)
      throw new DataError(`${split.disk.path} ends before image row ${split.disk.rows[idx[i]]}: the decoded cache is truncated; delete it`);
  }
  return block;
}

/** The split with its pixels in memory (a streamed split is read whole: for small ones, e.g. a page's images). */
export function inMemory(split: ImageSplit): ImageSplit {
  if (!split.disk) return split;
  return {
    images: gatherImages(
      split,
      Array.from({ length: split.n }, (_, i) => i),
    ),
    labels: split.labels,
    n: split.n,
    info: split.info,
  };
}

/** A data set: its description, training split, and test split (held out of train when the format has none). */
export interface DataSet {
  info: DataInfo;
  train: ImageSplit;
  test: ImageSplit;
  /** the directory or file it was read from */
  source: string;
  /** 'file': the format's own test split; otherwise how it was held out of the training images */
  testFrom: 'file' | { heldOut: number; seed: number };
}

// in a module of its own, without node:fs, so the browser page can import it
export { CIFAR10_CLASSES, CIFAR10_INFO } from './cifar10_info.js';

/** Values per image (H * W * C). */
export function pixelsOf(info: { shape: [number, number, number] }): number {
  return info.shape[0] * info.shape[1] * info.shape[2];
}

export function classCount(info: DataInfo): number {
  return info.classNames.length;
}

/** Per-channel mean and standard deviation (values in [0, 1]) of NHWC uint8 images. */
export function channelStats(images: Uint8Array, channels: number): { mean: number[]; std: number[] } {
  const hist = Array.from({ length: channels }, () => new Float64Array(256));
  countChannels(images, hist);
  return statsOf(hist, images.length / channels);
}

/** channelStats of a split, read in blocks when it is streamed from disk. */
export function splitStats(split: ImageSplit): { mean: number[]; std: number[] } {
  if (!split.disk) return channelStats(split.images, split.info.shape[2]);
  const c = split.info.shape[2];
  const hist = Array.from({ length: c }, () => new Float64Array(256));
  const block = new Uint8Array(1024 * pixelsOf(split.info));
  for (let s = 0; s < split.n; s += 1024) {
    const idx = Array.from({ length: Math.min(1024, split.n - s) }, (_, i) => s + i);
    countChannels(gatherImages(split, idx, block).subarray(0, idx.length * pixelsOf(split.info)), hist);
  }
  return statsOf(hist, (split.n * pixelsOf(split.info)) / c);
}

// per-channel histograms: exact sums with one pass of integer increments
function countChannels(images: Uint8Array, hist: Float64Array[]): void {
  const channels = hist.length;
  for (let i = 0; i < images.length; i++) hist[i % channels][images[i]]++;
}

function statsOf(hist: Float64Array[], per: number): { mean: number[]; std: number[] } {
  const channels = hist.length;
  const sum = new Float64Array(channels),
    sq = new Float64Array(channels);
  for (let c = 0; c < channels; c++)
    for (let v = 0; v < 256; v++) {
      sum[c] += hist[c][v] * (v / 255);
      sq[c] += hist[c][v] * (v / 255) ** 2;
    }
  const mean = Array.from(sum, (s) => s / per);
  const std = Array.from(sq, (s, c) => Math.sqrt(Math.max(s / per - mean[c] ** 2, 1e-12)));
  return { mean: mean.map(round6), std: std.map(round6) };
}

const round6 = (v: number) => Math.round(v * 1e6) / 1e6;

/**
 * Bilinear resize of NHWC uint8 images to [h, w] (half-pixel centres, as sharp's and PIL's
 * bilinear without antialiasing); identity when the size already matches.
 */
export function resizeImages(images: Uint8Array, n: number, from: [number, number, number], to: [number, number]): Uint8Array {
  const [H, W, C] = from;
  const [h, w] = to;
  if (H === h && W === w) return images;
  const out = new Uint8Array(n * h * w * C);
  const sy = H / h,
    sx = W / w;
  const ys = Array.from({ length: h }, (_, y) => Math.min(Math.max((y + 0.5) * sy - 0.5, 0), H - 1));
  const xs = Array.from({ length: w }, (_, x) => Math.min(Math.max((x + 0.5) * sx - 0.5, 0), W - 1));
  for (let i = 0; i < n; i++) {
    const src = i * H * W * C,
      dst = i * h * w * C;
    for (let y = 0; y < h; y++) {
      const y0 = Math.floor(ys[y]),
        y1 = Math.min(y0 + 1, H - 1),
        fy = ys[y] - y0;
      for (let x = 0; x < w; x++) {
        const x0 = Math.floor(xs[x]),
          x1 = Math.min(x0 + 1, W - 1),
          fx = xs[x] - x0;
        const a = src + (y0 * W + x0) * C,
          b = src + (y0 * W + x1) * C,
          d = src + (y1 * W + x0) * C,
          e = src + (y1 * W + x1) * C;
        for (let c = 0; c < C; c++) {
          const v = (1 - fy) * ((1 - fx) * images[a + c] + fx * images[b + c]) + fy * ((1 - fx) * images[d + c] + fx * images[e + c]);
          out[dst + (y * w + x) * C + c] = Math.round(v);
        }
      }
    }
  }
  return out;
}

/** Parses `--resize HxW` (e.g. 32x32). */
export function parseResize(v: string): [number, number] {
  const m = /^(\d{1,4})x(\d{1,4})$/.exec(v.trim());
  if (!m || +m[1] < 1 || +m[2] < 1) throw new DataError(`--resize ${v}: give the size as HxW, e.g. --resize 32x32`);
  return [+m[1], +m[2]];
}
