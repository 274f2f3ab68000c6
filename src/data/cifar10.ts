/**
 * CIFAR-10 in its official binary layout: data_batch_1..5.bin and test_batch.bin, each 10,000
 * records of 1 label byte + 3072 pixel bytes (1024 R, 1024 G, 1024 B, 32x32 row-major).
 * Finds the data (flag, CIFAR10_DIR, cache), verifies the official md5 of every file, and gives a
 * one-line error naming the file and the fix for anything missing, truncated or corrupt.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { CIFAR10_CLASSES, CIFAR10_INFO, type ImageSplit } from './dataset.js';

export const RECORD_BYTES = 3073;
export const IMAGES_PER_FILE = 10000;
export const FILE_BYTES = RECORD_BYTES * IMAGES_PER_FILE;
export const TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const TEST_FILES = ['test_batch.bin'];
export const CLASS_NAMES = CIFAR10_CLASSES;

/** md5 of the files inside the official cifar-10-binary.tar.gz. */
export const OFFICIAL_MD5: Record<string, string> = {
  'data_batch_1.bin': '5dd7e06a14cb22eb9f671a540d1b7c25',
  'data_batch_2.bin': '5ea93a67294ea407fff1d09f752e9692',
  'data_batch_3.bin': '942cd6a4bcdd0dd3c604fbe906cb4421',
  'data_batch_4.bin': 'ae636b3ba5c66a11e91e8cb52e771fcb',
  'data_batch_5.bin': '53f37980c15c3d472c316c40844f3f0d',
  'test_batch.bin': '803d5f7f4d78ea53de84dbe85f74fb6d',
};

export { DataError } from './errors.js';
import { DataError } from './errors.js';

/** A CIFAR-10 split: an `ImageSplit` whose info is `CIFAR10_INFO` (the name is kept for the library API). */
export type CifarSplit = ImageSplit;

/** Default cache directory for downloaded data. */
export function cacheDir(): string {
  return process.env.AURAPRUNE_CACHE ?? join(homedir(), '.cache', 'auraprune', 'cifar10');
}

/** Where the data is: the flag, then CIFAR10_DIR, then the cache; null when none has it. */
export function findCifarDir(flag?: string): string | null {
  for (const dir of [flag, process.env.CIFAR10_DIR, cacheDir()]) {
    if (dir && TEST_FILES.concat(TRAIN_FILES).every((f) => existsSync(join(dir, f)))) return dir;
    if (dir && dir === flag)
      throw new DataError(
        `--data ${dir} does not hold the CIFAR-10 binary files (${[...TRAIN_FILES, ...TEST_FILES].join(', ')}); point it at the extracted cifar-10-batches-bin folder`,
      );
  }
  return null;
}

export function md5(buf: Uint8Array): string {
  return createHash('md5').update(buf).digest('hex');
}

/** What to do about a bad file: the download cache can be refetched, a user's folder cannot. */
function fixFor(dir: string, name: string): string {
  return resolve(dir) === resolve(cacheDir())
    ? 'delete it and rerun to download it again'
    : `replace it with the official ${name} (from cifar-10-binary.tar.gz) or point --data / CIFAR10_DIR at an intact copy`;
}

/** Reads and validates one batch file (size, md5, label range). */
export function readBatchFile(dir: string, name: string, opts: { verify?: boolean } = {}): Uint8Array {
  const path = join(dir, name);
  if (!existsSync(path))
    throw new DataError(`CIFAR-10 file ${path} is missing: pass --data DIR, set CIFAR10_DIR, or delete ${dir} to download again`);
  const size = statSync(path).size;
  if (size !== FILE_BYTES)
    throw new DataError(`CIFAR-10 file ${path} is ${size} bytes, expected ${FILE_BYTES}: it is truncated or corrupt; ${fixFor(dir, name)}`);
  const buf = readFileSync(path);
  if (opts.verify ?? true) {
    const got = md5(buf);
    if (OFFICIAL_MD5[name] && got !== OFFICIAL_MD5[name]) {
      throw new DataError(
        `CIFAR-10 file ${path} has md5 ${got}, expected the official ${OFFICIAL_MD5[name]}: it is corrupt; ${fixFor(dir, name)}`,
      );
    }
  }
  for (let r = 0; r < IMAGES_PER_FILE; r++) {
    if (buf[r * RECORD_BYTES] > 9)
      throw new DataError(`CIFAR-10 file ${path} has label ${buf[r * RECORD_BYTES]} at record ${r}: not CIFAR-10 data`);
  }
  return buf;
}

/**
 * Loads a split as NHWC uint8 images. `limit` keeps the first records (a lossless prefix).
 * Planar RGB records are interleaved here once, so the input pipeline never touches pixels in JS again.
 */
export function loadCifar10(dir: string, split: 'train' | 'test', opts: { limit?: number; verify?: boolean } = {}): CifarSplit {
  const files = split === 'train' ? TRAIN_FILES : TEST_FILES;
  const total = Math.min(opts.limit ?? Infinity, files.length * IMAGES_PER_FILE);
  const images = new Uint8Array(total * 3072);
  const labels = new Uint8Array(total);
  let n = 0;
  for (const f of files) {
    if (n >= total) break;
    const buf = readBatchFile(dir, f, opts);
    const take = Math.min(IMAGES_PER_FILE, total - n);
    for (let r = 0; r < take; r++, n++) {
      const rec = r * RECORD_BYTES;
      labels[n] = buf[rec];
      const out = n * 3072;
      for (let p = 0; p < 1024; p++) {
        images[out + p * 3] = buf[rec + 1 + p];
        images[out + p * 3 + 1] = buf[rec + 1025 + p];
        images[out + p * 3 + 2] = buf[rec + 2049 + p];
      }
    }
  }
  return { images, labels, n, info: CIFAR10_INFO };
}

/** The data directory, downloading the official archive into the cache when none is found. */
export async function ensureCifar10(flag?: string): Promise<string> {
  const found = findCifarDir(flag);
  if (found) return found;
  const dir = cacheDir();
  process.stderr.write(`CIFAR-10 not found (--data, CIFAR10_DIR, ${dir}); downloading the official archive into ${dir}\n`);
  const { downloadCifar10 } = await import('./download.js');
  await downloadCifar10(dir);
  return dir;
}
