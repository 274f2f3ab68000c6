/**
 * MNIST-format IDX files (MNIST, Fashion-MNIST; Debian's `dataset-fashion-mnist` installs the latter in
 * /usr/share/datasets/fashion-mnist), gzipped or not. Untrusted input: the header's magic, type and
 * dimensions are checked against the file's size before anything is allocated, and every error is one
 * line naming the file and what to do.
 *
 * Format: bytes 0-1 zero, byte 2 the element type (0x08 unsigned byte is the only one images and
 * labels use), byte 3 the number of dimensions d, then d big-endian uint32 sizes, then the data.
 */
import { gunzipSync } from 'node:zlib';
import { DataError } from './cifar10.js';
import { readRegularFile } from '../util/readfile.js';

/** Largest file read (compressed or not): 1 GiB. */
export const MAX_IDX_BYTES = 2 ** 30;

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const readCapped = (path: string) => readRegularFile(path, MAX_IDX_BYTES, 'IDX file', (m) => new DataError(m));

/** Parses one IDX file (`.gz` or plain, told apart by content). */
export function readIdx(path: string): IdxArray {
  let buf = readCapped(path);
  if (buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf, { maxOutputLength: MAX_IDX_BYTES });
    } catch (e) {
      throw new DataError(
        `${path}: not a readable gzip file (${(e as Error).message}); the download is corrupt or truncated: fetch it again`,
      );
    }
  }
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0)
    throw new DataError(
      `${path} is not an IDX file (its first bytes are not 00 00); give MNIST-format files (train-images-idx3-ubyte[.gz], ...)`,
    );
  if (buf[2] !== 0x08)
    throw new DataError(
      `${path}: IDX element type 0x${buf[2].toString(16)} is not unsigned bytes (0x08), the only type images and labels use`,
    );
  const d = buf[3];
  if (d < 1 || d > 4) throw new DataError(`${path}: ${d} dimensions; IDX images have 3 (N, rows, cols) and labels 1`);
  if (buf.length < 4 + 4 * d) throw new DataError(`${path} ends inside its header: the file is truncated; fetch it again`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims = Array.from({ length: d }, (_, i) => view.getUint32(4 + 4 * i, false));
  const need = dims.reduce((a, b) => a * b, 1);
  const have = buf.length - 4 - 4 * d;
  if (have !== need)
    throw new DataError(
      `${path}: its header declares ${dims.join(' x ')} = ${need} bytes of data but the file holds ${have}: it is ${have < need ? 'truncated' : 'longer than declared'}; fetch it again`,
    );
  return { dims, data: buf.subarray(4 + 4 * d) };
}

/** An images file and its labels file as one split: N x rows x cols x 1 images, labels checked against `classes`. */
export function readIdxSplit(
  imagesPath: string,
  labelsPath: string,
  classes = 10,
): { images: Uint8Array; labels: Uint8Array; n: number; shape: [number, number, number]; classes: number } {
  const im = readIdx(imagesPath);
  const lb = readIdx(labelsPath);
  if (im.dims.length !== 3) throw new DataError(`${imagesPath}: ${im.dims.length} dimensions; an IDX images file has 3 (N, rows, cols)`);
  if (lb.dims.length !== 1) throw new DataError(`${labelsPath}: ${lb.dims.length} dimensions; an IDX labels file has 1`);
  const [n, h, w] = im.dims;
  if (n === 0) throw new DataError(`${imagesPath} holds no images`);
  if (lb.dims[0] !== n)
    throw new DataError(`${labelsPath} holds ${lb.dims[0]} labels for the ${n} images of ${imagesPath}: the files do not belong together`);
  const bad = lb.data.findIndex((v) => v >= classes);
  if (bad >= 0)
    throw new DataError(
      `${labelsPath}: label ${lb.data[bad]} at record ${bad} is not below ${classes} classes; the labels file is corrupt or mislabeled`,
    );
  return { images: im.data, labels: lb.data, n, shape: [h, w, 1], classes };
}
