/**
 * An image folder: `train/<class>/*.png|jpg|jpeg|webp` and optionally `test/<class>/...` (same class
 * names). Decoded with sharp (EXIF orientation applied, alpha dropped), resized to `--resize HxW`
 * when given (images of different sizes need it), grayscale when every image is, RGB otherwise.
 *
 * Untrusted input: only regular files inside the folder are read (symlinks are skipped and counted),
 * each file's size is capped before reading and its pixel count before decoding. A decoded copy is
 * cached under a key made of every file's content hash and the target shape, so a second run reads
 * the files (to hash them) but does not decode again.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type DataInfo, type ImageSplit, labelArray, MAX_CLASSES } from './dataset.js';
import { DataError } from './errors.js';
import type { OpenOptions } from './open.js';
import { readRegularFile } from '../util/readfile.js';
import { writeFileAtomic } from '../util/atomic.js';
import { Progress } from '../util/progress.js';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp'];
/** Largest image file read: 64 MiB. */
export const MAX_IMAGE_BYTES = 64 * 2 ** 20;
/** Largest decoded image: 2^26 pixels (8192 x 8192). */
export const MAX_IMAGE_PIXELS = 2 ** 26;
/** Decoded sets larger than this are streamed from disk unless told otherwise (AURAPRUNE_IN_MEMORY_MB overrides). */
export const IN_MEMORY_BYTES = 2 ** 30;
/** Largest decoded data set held in memory when streaming is turned off: 4 GiB of pixels. */
export const MAX_FOLDER_BYTES = 4 * 2 ** 30;

export function folderCacheDir(): string {
  return process.env.AURAPRUNE_FOLDER_CACHE ?? join(homedir(), '.cache', 'auraprune', 'folders');
}

/** One image file, size-capped before it is read. */
const readImage = (path: string) => readRegularFile(path, MAX_IMAGE_BYTES, 'image file', (m) => new DataError(m));

interface Entry {
  path: string;
  label: number;
}

/** Class directories of `root` (sorted), each with its image files (sorted); symlinks and other files skipped. */
function listSplit(root: string, classNames?: string[]): { classes: string[]; entries: Entry[]; skipped: number } {
  const dirs = readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const classes = classNames ?? dirs;
  if (classNames) {
    const extra = dirs.filter((d) => !classNames.includes(d));
    if (extra.length)
      throw new DataError(
        `${root} has class folder(s) ${extra.slice(0, 3).join(', ')} that train/ does not; the test classes must be the training classes`,
      );
  }
  if (!classNames && classes.length < 2)
    throw new DataError(
      `${root} holds ${classes.length} class folder(s); an image folder needs train/<class>/ images for at least 2 classes`,
    );
  if (classes.length > MAX_CLASSES)
    throw new DataError(`${root} holds ${classes.length} class folders; at most ${MAX_CLASSES} classes are supported`);
  const entries: Entry[] = [];
  let skipped = 0;
  classes.forEach((c, label) => {
    const dir = join(root, c);
    if (!existsSync(dir)) return;
    for (const f of readdirSync(dir).sort()) {
      const p = join(dir, f);
      const st = lstatSync(p);
      const ok = st.isFile() && IMAGE_EXTENSIONS.some((e) => f.toLowerCase().endsWith(e));
      if (ok) entries.push({ path: p, label });
      else skipped++;
    }
  });
  if (!entries.length) throw new DataError(`${root} holds no images (${IMAGE_EXTENSIONS.join(', ')}) in its class folders`);
  return { classes, entries, skipped };
}

/** Runs `f` over `items` with at most `k` in flight, in order of results. */
async function pool<T, R>(items: T[], k: number, f: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(k, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await f(items[i], i);
      }
    }),
  );
  return out;
}

type Sharp = typeof import('sharp').default;

async function loadSharp(): Promise<Sharp> {
  try {
    return (await import('sharp')).default;
  } catch (e) {
    throw new DataError(`image folders need the sharp package, which did not load (${(e as Error).message}); run npm ci`);
  }
}

export async function openFolder(dir: string, o: OpenOptions): Promise<{ train: ImageSplit; test: ImageSplit | null }> {
  const sharp = await loadSharp();
  const train = listSplit(join(dir, 'train'));
  const hasTest = existsSync(join(dir, 'test')) && lstatSync(join(dir, 'test')).isDirectory();
  const test = hasTest ? listSplit(join(dir, 'test'), train.classes) : null;
  const all = [...train.entries, ...(test?.entries ?? [])];
  const skipped = train.skipped + (test?.skipped ?? 0);
  if (skipped && !o.quiet) process.stderr.write(`${dir}: skipped ${skipped} entries that are not image files (or are symlinks)\n`);

  // pass 1: read and hash every file, read each header (size, channels) without decoding
  const bar = o.quiet ? null : new Progress(`reading ${dir}`, all.length, 'img');
  const heads = await pool(all, 8, async (e, i) => {
    const buf = readImage(e.path);
    let meta;
    try {
      meta = await sharp(buf, { limitInputPixels: MAX_IMAGE_PIXELS }).metadata();
    } catch (err) {
      throw new DataError(`${e.path} is not a readable image (${(err as Error).message}); remove or replace it`);
    }
    bar?.update(i + 1);
    if (!meta.width || !meta.height) throw new DataError(`${e.path}: the image has no size; remove or replace it`);
    // EXIF orientations 5-8 swap width and height
    const swap = (meta.orientation ?? 1) >= 5;
    return {
      hash: createHash('sha256').update(buf).digest('hex'),
      w: swap ? meta.height : meta.width,
      h: swap ? meta.width : meta.height,
      gray: (meta.channels ?? 3) <= 2 && meta.space !== 'srgb',
    };
  });
  const first = heads[0];
  const [h, w] = o.resize ?? [first.h, first.w];
  if (!o.resize) {
    const odd = heads.findIndex((m) => m.h !== h || m.w !== w);
    if (odd >= 0)
      throw new DataError(
        `${all[odd].path} is ${heads[odd].w}x${heads[odd].h} but ${all[0].path} is ${w}x${h} (width x height); pass --resize HxW to bring every image to one size`,
      );
  }
  const c = heads.every((m) => m.gray) ? 1 : 3;
  const pix = h * w * c;
  const bytes = all.length * pix;
  const limit = Number(process.env.AURAPRUNE_IN_MEMORY_MB) > 0 ? Number(process.env.AURAPRUNE_IN_MEMORY_MB) * 2 ** 20 : IN_MEMORY_BYTES;
  const stream = o.stream ?? bytes > limit;
  if (!stream && bytes > MAX_FOLDER_BYTES)
    throw new DataError(
      `${dir}: ${all.length} images of ${h}x${w}x${c} need ${(bytes / 2 ** 30).toFixed(1)} GiB decoded, more than the ${MAX_FOLDER_BYTES / 2 ** 30} GiB held in memory; pass --stream (or a smaller --resize)`,
    );

  const key = createHash('sha256')
    .update(
      JSON.stringify({
        v: 1,
        shape: [h, w, c],
        classes: train.classes,
        files: all.map((e, i) => [e.label, heads[i].hash]),
        nTrain: train.entries.length,
      }),
    )
    .digest('hex')
    .slice(0, 32);
  const cacheFile = join(folderCacheDir(), `${key}.bin`);
  let images: Uint8Array;
  const cached = existsSync(cacheFile) && lstatSync(cacheFile).size === bytes;
  if (cached && stream) {
    images = new Uint8Array(0);
    if (!o.quiet) process.stderr.write(`${dir}: streaming the decoded images from the cache ${cacheFile}\n`);
  } else if (cached) {
    images = new Uint8Array(readFileSync(cacheFile));
    if (!o.quiet) process.stderr.write(`${dir}: decoded images read from the cache ${cacheFile}\n`);
  } else {
    // streamed: each decoded image goes straight to its row of the cache file (memory: the images in flight)
    mkdirSync(folderCacheDir(), { recursive: true });
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    const fd = stream ? openSync(tmp, 'w') : -1;
    images = stream ? new Uint8Array(0) : new Uint8Array(bytes);
    const dbar = o.quiet ? null : new Progress(`decoding ${dir}`, all.length, 'img');
    let done = 0;
    const decodeAll = () =>
      pool(all, 4, async (e, i) => {
        const buf = readImage(e.path);
        let img = sharp(buf, { limitInputPixels: MAX_IMAGE_PIXELS }).rotate().removeAlpha();
        if (o.resize) img = img.resize(w, h, { fit: 'fill' });
        img = c === 1 ? img.toColourspace('b-w') : img.toColourspace('srgb');
        let out: { data: Buffer; info: { width: number; height: number; channels: number } };
        try {
          out = await img.raw().toBuffer({ resolveWithObject: true });
        } catch (err) {
          throw new DataError(`${e.path} does not decode (${(err as Error).message}); remove or replace it`);
        }
        if (out.info.width !== w || out.info.height !== h || out.info.channels !== c)
          throw new DataError(
            `${e.path} decoded to ${out.info.width}x${out.info.height}x${out.info.channels}, expected ${w}x${h}x${c}; remove or replace it`,
          );
        if (stream) writeSync(fd, out.data, 0, pix, i * pix);
        else images.set(out.data, i * pix);
        dbar?.update(++done);
      });
    if (stream) {
      try {
        await decodeAll();
      } catch (err) {
        closeSync(fd);
        rmSync(tmp, { force: true });
        throw err;
      }
      closeSync(fd);
      renameSync(tmp, cacheFile);
    } else {
      await decodeAll();
      try {
        writeFileAtomic(cacheFile, images);
      } catch (err) {
        if (!o.quiet)
          process.stderr.write(
            `note: could not write the decoded cache ${cacheFile} (${(err as Error).message}); the next run decodes again\n`,
          );
      }
    }
  }
  const info: DataInfo = {
    name: dir.replace(/\/+$/, '').split('/').pop() || 'folder',
    format: 'folder',
    shape: [h, w, c],
    classNames: train.classes,
    mean: [],
    std: [],
    stats: 'training split',
  };
  const nTrain = train.entries.length;
  const labels = labelArray(all.length, train.classes.length);
  all.forEach((e, i) => (labels[i] = e.label));
  const split = (a: number, b: number): ImageSplit =>
    stream
      ? {
          images: new Uint8Array(0),
          labels: labels.subarray(a, b),
          n: b - a,
          info,
          disk: { path: cacheFile, rows: Int32Array.from({ length: b - a }, (_, i) => a + i) },
        }
      : { images: images.subarray(a * pix, b * pix), labels: labels.subarray(a, b), n: b - a, info };
  return { train: split(0, nTrain), test: test ? split(nTrain, all.length) : null };
}
