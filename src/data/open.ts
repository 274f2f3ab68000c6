/**
 * Opens a data set from `--data PATH` (format detected from what the path holds) or `--dataset NAME`:
 * CIFAR-10 (the default: flag, CIFAR10_DIR, cache, download), CIFAR-100 binary, MNIST-format IDX files,
 * NumPy .npy pairs or an .npz, and an image folder (train/<class>/*, optional test/). Everything is
 * checked as untrusted input; a problem is one line naming the file and the fix.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { cacheDir, ensureCifar10, findCifarDir, loadCifar10 } from './cifar10.js';
import {
  labelArray,
  type Labels,
  MAX_CLASSES,
  splitStats,
  type DataFormat,
  type DataInfo,
  type DataSet,
  type ImageSplit,
  resizeImages,
} from './dataset.js';
import { DataError } from './errors.js';
import { readIdxSplit } from './idx.js';
import { type NpyArray, readNpy, readNpz } from './npy.js';
import { subset, trainValSplit } from './pipeline.js';
import { readRegularFile } from '../util/readfile.js';

export interface OpenOptions {
  /** a format or well-known set by name: cifar10, cifar100, fashion-mnist, mnist, idx, npy, npz, folder */
  dataset?: string;
  /** resize every image to [h, w] (bilinear) */
  resize?: [number, number];
  /** CIFAR-100: 'fine' (100 classes, default) or 'coarse' (20 superclasses) */
  labels?: 'fine' | 'coarse';
  /** a format without a test split: images held out of the training set (default 10%, stratified, seed 0) */
  heldOut?: number;
  /**
   * An image folder is read batch by batch from its decoded cache on disk instead of held in memory:
   * true, false, or by default when its decoded size exceeds IN_MEMORY_BYTES (folder.ts).
   */
  stream?: boolean;
  quiet?: boolean;
}

export const DATASET_NAMES = ['cifar10', 'cifar100', 'fashion-mnist', 'mnist', 'idx', 'npy', 'npz', 'folder'] as const;

/** Where Debian's dataset-fashion-mnist package installs the IDX files. */
export const DEBIAN_FASHION_MNIST = '/usr/share/datasets/fashion-mnist';

export const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

const IDX_FILES = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
};
const NPY_KEYS = ['x_train', 'y_train', 'x_test', 'y_test'];
export const CIFAR100_FILES = { train: 'train.bin', test: 'test.bin' };
const CIFAR100_RECORD = 2 + 3072;

/** CIFAR-100 from the cache (AURAPRUNE_CACHE's sibling cifar100/), downloading the official archive when absent. */
export async function ensureCifar100(): Promise<string> {
  const dir = join(cacheDir(), '..', 'cifar100');
  if (existsSync(join(dir, CIFAR100_FILES.train)) && existsSync(join(dir, CIFAR100_FILES.test))) return dir;
  process.stderr.write(`CIFAR-100 not found (--data, ${dir}); downloading the official archive into ${dir}\n`);
  const { downloadCifar100 } = await import('./download.js');
  await downloadCifar100(dir);
  return dir;
}

/** The format of what `path` holds, or null. */
export function detectFormat(path: string): DataFormat | null {
  if (!existsSync(path)) return null;
  const st = statSync(path);
  if (st.isFile()) return path.endsWith('.npz') ? 'npz' : null;
  if (!st.isDirectory()) return null;
  const has = (f: string) => existsSync(join(path, f));
  if (has('data_batch_1.bin') && has('test_batch.bin')) return 'cifar10';
  if (has(CIFAR100_FILES.train) && has(CIFAR100_FILES.test)) return 'cifar100';
  if (idxFile(path, IDX_FILES.train[0])) return 'idx';
  if (has('x_train.npy') && has('y_train.npy')) return 'npy';
  if (has('train.npz')) return 'npz';
  if (has('train') && statSync(join(path, 'train')).isDirectory()) return 'folder';
  return null;
}

function idxFile(dir: string, stem: string): string | null {
  for (const f of [stem, `${stem}.gz`]) if (existsSync(join(dir, f))) return join(dir, f);
  return null;
}

/**
 * Reads a data set. With neither `path` nor `o.dataset`, CIFAR-10 is found or downloaded as before.
 * A path's format is detected; `o.dataset` names it when detection is not wanted.
 */
export async function openDataSet(path: string | undefined, o: OpenOptions = {}): Promise<DataSet> {
  const want = o.dataset;
  if (want && !(DATASET_NAMES as readonly string[]).includes(want))
    throw new DataError(`--dataset ${want} is not one this tool reads; choose one of ${DATASET_NAMES.join(', ')}`);
  if (!path && want === 'fashion-mnist') path = DEBIAN_FASHION_MNIST;
  if (!path && want === 'cifar100') path = await ensureCifar100();
  if (!path && want && want !== 'cifar10') throw new DataError(`--dataset ${want} needs --data PATH (where its files are)`);
  const cifar10 = (dir: string) => finish(loadCifar10(dir, 'train'), loadCifar10(dir, 'test'), dir, o);
  if (!path || want === 'cifar10') return cifar10(path ? (findCifarDir(path) ?? path) : await ensureCifar10());
  if (!existsSync(path)) throw new DataError(`--data ${path} does not exist; give a data directory or .npz file`);
  const detected = detectFormat(path);
  const format = (want === 'fashion-mnist' || want === 'mnist' ? 'idx' : want) ?? detected;
  if (!format)
    throw new DataError(
      `--data ${path}: no known data set layout found; expected CIFAR-10 (data_batch_1.bin ...), CIFAR-100 (train.bin, test.bin), ` +
        `IDX (train-images-idx3-ubyte[.gz] ...), NumPy (x_train.npy, y_train.npy or an .npz) or an image folder (train/<class>/*.png|jpg|webp)`,
    );
  switch (format) {
    case 'cifar10':
      return cifar10(findCifarDir(path)!);
    case 'cifar100':
      return openCifar100(path, o);
    case 'idx':
      return openIdx(path, want, o);
    case 'npy':
    case 'npz':
      return openNumpy(path, format, o);
    case 'folder': {
      const { openFolder } = await import('./folder.js');
      const r = await openFolder(path, o);
      return finish(r.train, r.test, path, o);
    }
  }
  throw new DataError(`--dataset ${format} is not one this tool reads`);
}

/** Statistics from the training file, optional resize, a held-out test split when the format has none. */
function finish(train: ImageSplit, test: ImageSplit | null, source: string, o: OpenOptions): DataSet {
  let info = train.info;
  if (info.stats !== 'published') info = { ...info, ...splitStats(train) };
  if (!train.disk && o.resize && (o.resize[0] !== info.shape[0] || o.resize[1] !== info.shape[1])) {
    const from = info.shape;
    info = { ...info, shape: [o.resize[0], o.resize[1], from[2]], resizedFrom: [from[0], from[1]] };
    const rs = (s: ImageSplit): ImageSplit => ({ ...s, images: resizeImages(s.images, s.n, from, o.resize!), info });
    train = rs(train);
    test = test && rs(test);
  }
  train = { ...train, info };
  if (test) return { info, train, test: { ...test, info }, source, testFrom: 'file' };
  const heldOut = o.heldOut ?? Math.max(info.classNames.length, Math.round(train.n / 10));
  if (heldOut >= train.n) throw new DataError(`${source}: ${train.n} training images are too few to hold out a test split of ${heldOut}`);
  const parts = trainValSplit(train, heldOut, 0);
  if (!o.quiet)
    process.stderr.write(`${source} has no test split: holding out ${heldOut} training images (stratified, seed 0) as the test set\n`);
  return { info, train: parts.train, test: parts.val, source, testFrom: { heldOut, seed: 0 } };
}

function baseInfo(name: string, format: DataFormat, shape: [number, number, number], classNames: string[]): DataInfo {
  return { name, format, shape, classNames, mean: [], std: [], stats: 'training split' };
}

function openIdx(dir: string, want: string | undefined, o: OpenOptions): DataSet {
  const files = (k: 'train' | 'test') =>
    IDX_FILES[k].map((stem) => {
      const f = idxFile(dir, stem);
      if (!f)
        throw new DataError(
          `--data ${dir}: ${stem}[.gz] is missing; an IDX data set needs ${[...IDX_FILES.train, ...IDX_FILES.test].join(', ')}`,
        );
      return f;
    });
  const tr = readIdxSplit(...(files('train') as [string, string]), 256);
  const te = readIdxSplit(...(files('test') as [string, string]), 256);
  if (te.shape.join() !== tr.shape.join())
    throw new DataError(
      `${dir}: test images are ${te.shape.join('x')} but training images ${tr.shape.join('x')}; the files do not belong together`,
    );
  const fashion = want === 'fashion-mnist' || (want !== 'mnist' && /fashion/i.test(dir));
  const classes = Math.max(maxLabel(tr.labels), maxLabel(te.labels)) + 1;
  const names = fashion && classes <= 10 ? FASHION_CLASSES : Array.from({ length: classes }, (_, i) => String(i));
  const info = baseInfo(fashion ? 'fashion-mnist' : want === 'mnist' ? 'mnist' : basename(dir), 'idx', tr.shape, names);
  return finish({ ...tr, info }, { ...te, info }, dir, o);
}

const maxLabel = (l: Labels) => {
  let m = 0;
  for (const v of l) if (v > m) m = v;
  return m;
};

function openCifar100(dir: string, o: OpenOptions): DataSet {
  const coarse = o.labels === 'coarse';
  const namesFile = join(dir, coarse ? 'coarse_label_names.txt' : 'fine_label_names.txt');
  const classes = coarse ? 20 : 100;
  let names = Array.from({ length: classes }, (_, i) => String(i));
  if (existsSync(namesFile)) {
    const got = new TextDecoder()
      .decode(readRegularFile(namesFile, 1 << 20, 'CIFAR-100 label names', (m) => new DataError(m)))
      .split(/\r?\n/)
      .map((s) => s.trim())
      .filter(Boolean);
    if (got.length !== classes)
      throw new DataError(`${namesFile} names ${got.length} classes, expected ${classes}; restore the file from the archive`);
    names = got;
  }
  const info = baseInfo(coarse ? 'cifar100-coarse' : 'cifar100', 'cifar100', [32, 32, 3], names);
  const read = (file: string): ImageSplit => {
    const path = join(dir, file);
    const buf = readRegularFile(path, 60000 * CIFAR100_RECORD, 'CIFAR-100 file', (m) => new DataError(m));
    if (buf.length === 0 || buf.length % CIFAR100_RECORD !== 0)
      throw new DataError(
        `CIFAR-100 file ${path} is ${buf.length} bytes, not a whole number of ${CIFAR100_RECORD}-byte records: it is truncated or corrupt; extract it again`,
      );
    const n = buf.length / CIFAR100_RECORD;
    const images = new Uint8Array(n * 3072),
      labels = new Uint8Array(n);
    for (let r = 0; r < n; r++) {
      const rec = r * CIFAR100_RECORD;
      if (buf[rec] >= 20 || buf[rec + 1] >= 100)
        throw new DataError(
          `CIFAR-100 file ${path}: record ${r} has labels ${buf[rec]}/${buf[rec + 1]} (coarse < 20, fine < 100): not CIFAR-100 data`,
        );
      labels[r] = buf[rec + (coarse ? 0 : 1)];
      for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) images[r * 3072 + p * 3 + c] = buf[rec + 2 + c * 1024 + p];
    }
    return { images, labels, n, info };
  };
  return finish(read(CIFAR100_FILES.train), read(CIFAR100_FILES.test), dir, o);
}

/** NumPy images as uint8 NHWC: uint8 as is, floats in [0, 1] scaled by 255, floats in [0, 255] rounded. */
function npyImages(a: NpyArray, name: string): { images: Uint8Array; shape: [number, number, number]; n: number } {
  const s = a.shape;
  if (s.length !== 3 && s.length !== 4)
    throw new DataError(`${name}: shape (${s.join(', ')}); images must be (N, H, W) or (N, H, W, C) with channels last`);
  const [n, h, w] = s;
  const c = s.length === 4 ? s[3] : 1;
  if (c !== 1 && c !== 3) throw new DataError(`${name}: ${c} channels; images must have 1 or 3 channels last (N, H, W, C)`);
  if (a.data instanceof Uint8Array) return { images: a.data, shape: [h, w, c], n };
  if (a.data instanceof Float32Array || a.data instanceof Float64Array) {
    let lo = Infinity,
      hi = -Infinity;
    for (const v of a.data) {
      if (!Number.isFinite(v)) throw new DataError(`${name} holds a non-finite value; images must be finite`);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (lo < 0 || hi > 255)
      throw new DataError(
        `${name}: values span [${lo}, ${hi}]; give raw pixels (uint8, or floats in [0, 1] or [0, 255]), not normalised ones`,
      );
    const k = hi <= 1 ? 255 : 1;
    return { images: Uint8Array.from(a.data, (v) => Math.round(v * k)), shape: [h, w, c], n };
  }
  throw new DataError(`${name}: dtype ${a.dtype}; images must be uint8 or float32/float64`);
}

function npyLabels(a: NpyArray, n: number, name: string): Labels {
  const s = a.shape;
  if (!(s.length === 1 || (s.length === 2 && s[1] === 1)) || s[0] !== n)
    throw new DataError(`${name}: shape (${s.join(', ')}); labels must be (${n},) integers, one per image`);
  if (a.data instanceof Float32Array || a.data instanceof Float64Array)
    throw new DataError(`${name}: dtype ${a.dtype}; labels must be integers (class indices), not one-hot or floats`);
  let top = 0;
  for (let i = 0; i < n; i++) {
    const v = Number(a.data[i]);
    if (!(Number.isInteger(v) && v >= 0 && v < MAX_CLASSES))
      throw new DataError(`${name}: label ${v} at record ${i}; labels must be class indices in [0, ${MAX_CLASSES})`);
    if (v > top) top = v;
  }
  const out = labelArray(n, top + 1);
  for (let i = 0; i < n; i++) out[i] = Number(a.data[i]);
  return out;
}

function openNumpy(path: string, format: 'npy' | 'npz', o: OpenOptions): DataSet {
  let arrays: Map<string, NpyArray>;
  let where: (k: string) => string;
  if (format === 'npy') {
    arrays = new Map();
    for (const k of NPY_KEYS) if (existsSync(join(path, `${k}.npy`))) arrays.set(k, readNpy(join(path, `${k}.npy`)));
    where = (k) => join(path, `${k}.npy`);
  } else {
    const file = statSync(path).isDirectory() ? join(path, 'train.npz') : path;
    arrays = readNpz(file);
    where = (k) => `${file}:${k}`;
  }
  for (const k of ['x_train', 'y_train'])
    if (!arrays.has(k))
      throw new DataError(`${where(k)} is missing; a NumPy data set needs x_train and y_train (and optionally x_test, y_test)`);
  if (arrays.has('x_test') !== arrays.has('y_test')) throw new DataError(`${path}: x_test and y_test come together; give both or neither`);
  const x = npyImages(arrays.get('x_train')!, where('x_train'));
  const y = npyLabels(arrays.get('y_train')!, x.n, where('y_train'));
  let test: { images: Uint8Array; labels: Labels; n: number } | null = null;
  if (arrays.has('x_test')) {
    const xt = npyImages(arrays.get('x_test')!, where('x_test'));
    if (xt.shape.join() !== x.shape.join())
      throw new DataError(`${where('x_test')}: images are ${xt.shape.join('x')} but training images ${x.shape.join('x')}`);
    test = { images: xt.images, labels: npyLabels(arrays.get('y_test')!, xt.n, where('y_test')), n: xt.n };
  }
  const classes = Math.max(maxLabel(y), test ? maxLabel(test.labels) : 0) + 1;
  if (classes < 2) throw new DataError(`${where('y_train')}: every label is 0; a classifier needs at least 2 classes`);
  const name = basename(path).replace(/\.npz$/, '');
  const info = baseInfo(
    name,
    format,
    x.shape,
    Array.from({ length: classes }, (_, i) => String(i)),
  );
  return finish({ images: x.images, labels: y, n: x.n, info }, test && { ...test, info }, path, o);
}

/** The first `limit` images of a split (a lossless prefix). */
export function prefix(split: ImageSplit, limit: number): ImageSplit {
  return limit >= split.n
    ? split
    : subset(
        split,
        Array.from({ length: limit }, (_, i) => i),
      );
}
