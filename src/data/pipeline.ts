/**
 * Input pipeline: validation split, per-epoch seeded shuffling, augmentation (random crop with
 * 4-pixel zero padding, horizontal flip) and normalisation into Float32 NHWC batches. Pixels are
 * handled by typed-array loops once per batch (~0.4 M bytes for 128 images); the engine gets one
 * contiguous buffer per batch.
 */
import { Rng } from '../util/rng.js';
import { CIFAR10_INFO, gatherImages, gatherLabels, pixelsOf, type ImageSplit, type Labels } from './dataset.js';

/** CIFAR-10 training-set channel statistics (values in [0, 1]). */
export const CIFAR_MEAN = CIFAR10_INFO.mean;
export const CIFAR_STD = CIFAR10_INFO.std;

/** A subset of a split by indices (copies). */
export function subset(split: ImageSplit, idx: ArrayLike<number>): ImageSplit {
  // a streamed split stays on disk: the subset is a list of rows
  if (split.disk)
    return {
      images: new Uint8Array(0),
      labels: gatherLabels(split.labels, idx),
      n: idx.length,
      info: split.info,
      disk: { path: split.disk.path, rows: Int32Array.from(idx, (i) => split.disk!.rows[i]) },
    };
  const PIX = pixelsOf(split.info);
  const images = new Uint8Array(idx.length * PIX);
  for (let i = 0; i < idx.length; i++) images.set(split.images.subarray(idx[i] * PIX, (idx[i] + 1) * PIX), i * PIX);
  return { images, labels: gatherLabels(split.labels, idx), n: idx.length, info: split.info };
}

/** Indices grouped by class, each group in a seeded random order. */
function byClass(labels: Labels, classes: number, rng: Rng): number[][] {
  const groups: number[][] = Array.from({ length: classes }, () => []);
  labels.forEach((l, i) => groups[l].push(i));
  return groups.map((g) => rng.shuffle(g));
}

/**
 * Stratified train/validation split: `valSize` images (equal per class, as far as the classes
 * allow) are held out of the training set. Never select models on the test set.
 */
export function trainValSplit(split: ImageSplit, valSize: number, seed: number): { train: ImageSplit; val: ImageSplit } {
  if (valSize < 0 || valSize >= split.n) throw new RangeError(`validation size ${valSize} must be in [0, ${split.n})`);
  const k = split.info.classNames.length;
  const groups = byClass(split.labels, k, new Rng(seed ^ 0x5eed));
  const val: number[] = [];
  // equal per class; the remainder to the first classes; a class short of its share gives what it has
  const per = Math.floor(valSize / k);
  groups.forEach((g, c) => val.push(...g.slice(0, per + (c < valSize - per * k ? 1 : 0))));
  const inVal = new Uint8Array(split.n);
  val.forEach((i) => (inVal[i] = 1));
  const train = Array.from({ length: split.n }, (_, i) => i).filter((i) => !inVal[i]);
  return {
    train: subset(split, train),
    val: subset(
      split,
      val.sort((a, b) => a - b),
    ),
  };
}

/** Class-balanced sample: the first `perClass` images of each class in a seeded order, unaugmented. */
export function balancedSample(split: ImageSplit, perClass: number, seed: number): ImageSplit {
  const groups = byClass(split.labels, split.info.classNames.length, new Rng(seed));
  const short = groups.findIndex((g) => g.length < perClass);
  if (short >= 0)
    throw new RangeError(
      `class ${short} (${split.info.classNames[short]}) has only ${groups[short].length} images, fewer than ${perClass} per class requested`,
    );
  const idx = groups.flatMap((g) => g.slice(0, perClass)).sort((a, b) => a - b);
  return subset(split, idx);
}

export interface AugmentOptions {
  /** Padding before the random crop to the image size (a translation by up to `pad` pixels); 0 disables. Default 4. */
  pad?: number;
  /** 'zero': black padding, as torchvision's RandomCrop (default); 'reflect': mirrored, as the airbench recipe. */
  padMode?: 'zero' | 'reflect';
  /**
   * true: flip each image with probability 1/2 (default). 'alternate': each image gets one seeded
   * random flip (`flipBase`), and on odd epochs every image is flipped relative to it, so an image
   * is seen both ways in any two consecutive epochs (the airbench recipe).
   */
  flip?: boolean | 'alternate';
}

/** Per-call state of the alternating flip: the base bit per split index and the 0-based epoch. */
export interface FlipState {
  flipBase: Uint8Array;
  epoch: number;
}

/** The seeded base flip bits of the alternating flip, one per training image. */
export function alternatingFlipBase(n: number, seed: number): Uint8Array {
  const rng = new Rng((seed ^ 0xf11b) >>> 0);
  return Uint8Array.from({ length: n }, () => (rng.next() < 0.5 ? 1 : 0));
}

/** Reflect index i into [0, n) without repeating the edge (PyTorch's 'reflect'). */
function reflect(i: number, n: number): number {
  if (i < 0) return -i;
  if (i >= n) return 2 * (n - 1) - i;
  return i;
}

/**
 * Writes normalised images idx[0..b) of `split` into `out` (b x H x W x C, float32), augmented
 * with `rng` when given. Zero padding is black (0 before normalisation), as torchvision's RandomCrop.
 */
export function fillBatch(
  split: ImageSplit,
  idx: ArrayLike<number>,
  out: Float32Array,
  rng: Rng | null,
  aug: AugmentOptions = {},
  flipState?: FlipState,
): void {
  const pad = rng ? (aug.pad ?? 4) : 0;
  const flip = rng ? (aug.flip ?? true) : false;
  if (flip === 'alternate' && !flipState) throw new Error('alternating flip needs the base flips and the epoch');
  const reflectPad = aug.padMode === 'reflect';
  const [H, W, C] = split.info.shape;
  const PIX = H * W * C;
  const scale = split.info.std.map((s) => 1 / (255 * s));
  const zero = split.info.mean.map((m, c) => -m / split.info.std[c]);
  // a streamed split's batch is read from disk into one block first
  const streamed = split.disk ? gatherImages(split, idx) : null;
  const images = streamed ?? split.images;
  for (let b = 0; b < idx.length; b++) {
    const src = (streamed ? b : idx[b]) * PIX,
      dst = b * PIX;
    const dy = pad ? rng!.int(2 * pad + 1) - pad : 0;
    const dx = pad ? rng!.int(2 * pad + 1) - pad : 0;
    const f = flip === 'alternate' ? (flipState!.flipBase[idx[b]] ^ (flipState!.epoch & 1)) === 1 : flip && rng!.next() < 0.5;
    for (let y = 0; y < H; y++) {
      let sy = y + dy;
      if (reflectPad) sy = reflect(sy, H);
      for (let x = 0; x < W; x++) {
        let sx = (f ? W - 1 - x : x) + dx;
        if (reflectPad) sx = reflect(sx, W);
        const o = dst + (y * W + x) * C;
        if (sy < 0 || sy >= H || sx < 0 || sx >= W) {
          for (let c = 0; c < C; c++) out[o + c] = zero[c];
        } else {
          const s = src + (sy * W + sx) * C;
          for (let c = 0; c < C; c++) out[o + c] = images[s + c] * scale[c] + zero[c];
        }
      }
    }
  }
}

/** Batches of one epoch: a seeded permutation (or the natural order), cut into `batch`-sized index arrays. */
export function epochBatches(n: number, batch: number, rng: Rng | null, dropLast = false): Int32Array[] {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  if (rng) rng.shuffle(order);
  const out: Int32Array[] = [];
  for (let s = 0; s < n; s += batch) {
    if (dropLast && s + batch > n) break;
    out.push(order.subarray(s, Math.min(n, s + batch)));
  }
  return out;
}
