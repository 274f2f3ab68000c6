/**
 * NumPy `.npy` arrays and `.npz` archives (what users export from Python: `np.save`, `np.savez`,
 * `np.savez_compressed`), for image sets as uint8 or float32 NHWC arrays with integer labels.
 * Untrusted input: the header is parsed as data (never evaluated), the declared shape is checked
 * against the bytes present before anything is allocated, and errors are one line naming the file.
 *
 * Format (numpy.lib.format): "\x93NUMPY", major and minor version, the header length (2 bytes
 * little-endian in version 1, 4 in 2 and 3), an ASCII dict {'descr': '<f4', 'fortran_order': False,
 * 'shape': (N, H, W, C), }, then the data in C order. An .npz is a zip of such files (stored or
 * deflated).
 */
import { inflateRawSync } from 'node:zlib';
import { DataError } from './cifar10.js';
import { readRegularFile } from '../util/readfile.js';

export const MAX_NPY_BYTES = 2 ** 31;

export type NpyData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

export interface NpyArray {
  dtype: string;
  shape: number[];
  data: NpyData;
}

const TYPES: Record<string, { bytes: number; make: (b: ArrayBuffer) => NpyData }> = {
  u1: { bytes: 1, make: (b) => new Uint8Array(b) },
  i1: { bytes: 1, make: (b) => new Int8Array(b) },
  u2: { bytes: 2, make: (b) => new Uint16Array(b) },
  i2: { bytes: 2, make: (b) => new Int16Array(b) },
  u4: { bytes: 4, make: (b) => new Uint32Array(b) },
  i4: { bytes: 4, make: (b) => new Int32Array(b) },
  u8: { bytes: 8, make: (b) => new BigUint64Array(b) },
  i8: { bytes: 8, make: (b) => new BigInt64Array(b) },
  f4: { bytes: 4, make: (b) => new Float32Array(b) },
  f8: { bytes: 8, make: (b) => new Float64Array(b) },
};

const readFileCapped = (path: string) => readRegularFile(path, MAX_NPY_BYTES, 'NumPy file', (m) => new DataError(m));

/** Parses one .npy held in `buf` (`name` names it in errors). */
export function parseNpy(buf: Uint8Array, name: string): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (buf.length < 10 || !magic.every((v, i) => buf[i] === v))
    throw new DataError(`${name} is not a NumPy .npy file (no \\x93NUMPY magic); save it with np.save`);
  const major = buf[6];
  if (major < 1 || major > 3) throw new DataError(`${name}: .npy format version ${major} is not one this reader knows (1-3)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  const hlen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes + hlen;
  if (start > buf.length) throw new DataError(`${name} ends inside its header: the file is truncated`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(buf.subarray(8 + lenBytes, start));
  const descr = /'descr'\s*:\s*'([<>|=])([a-z])(\d+)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeM = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeM)
    throw new DataError(`${name}: its header ${JSON.stringify(header.trim())} is not a NumPy array header`);
  if (fortran[1] === 'True')
    throw new DataError(`${name} is stored in Fortran order; save it in C order (np.save(path, np.ascontiguousarray(a)))`);
  const code = `${descr[2]}${descr[3]}`;
  const t = TYPES[code];
  if (!t)
    throw new DataError(`${name}: dtype ${descr.slice(1).join('')} is not supported; images must be uint8 or float32, labels integers`);
  const shape = shapeM[1]
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map(Number);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw new DataError(`${name}: shape (${shapeM[1]}) is not a tuple of sizes`);
  const count = shape.reduce((a, b) => a * b, 1);
  const bytes = count * t.bytes;
  if (buf.length - start !== bytes)
    throw new DataError(
      `${name}: its header declares shape (${shape.join(', ')}) of ${code} = ${bytes} bytes but ${buf.length - start} follow: the file is ${buf.length - start < bytes ? 'truncated' : 'longer than declared'}`,
    );
  // copy into an aligned buffer, swapping bytes of big-endian data
  const data = new Uint8Array(bytes);
  data.set(buf.subarray(start, start + bytes));
  if (descr[1] === '>' && t.bytes > 1) for (let i = 0; i < bytes; i += t.bytes) data.subarray(i, i + t.bytes).reverse();
  return { dtype: code, shape, data: t.make(data.buffer) };
}

export function readNpy(path: string): NpyArray {
  return parseNpy(readFileCapped(path), path);
}

/** The arrays of an .npz (a zip of .npy files, stored or deflated), by name without `.npy`. */
export function readNpz(path: string): Map<string, NpyArray> {
  const buf = readFileCapped(path);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  // end of central directory: the last 0x06054b50 record
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--)
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd < 0) throw new DataError(`${path} is not an .npz (zip) archive, or it is truncated; save it with np.savez`);
  const entries = view.getUint16(eocd + 10, true);
  let p = view.getUint32(eocd + 16, true);
  const out = new Map<string, NpyArray>();
  for (let k = 0; k < entries; k++) {
    if (p + 46 > buf.length || view.getUint32(p, true) !== 0x02014b50) throw new DataError(`${path}: its zip directory is corrupt`);
    const method = view.getUint16(p + 10, true);
    const csize = view.getUint32(p + 20, true);
    const usize = view.getUint32(p + 24, true);
    const nlen = view.getUint16(p + 28, true),
      xlen = view.getUint16(p + 30, true),
      clen = view.getUint16(p + 32, true);
    const local = view.getUint32(p + 42, true);
    const name = new TextDecoder().decode(buf.subarray(p + 46, p + 46 + nlen));
    p += 46 + nlen + xlen + clen;
    if (local + 30 > buf.length || view.getUint32(local, true) !== 0x04034b50) throw new DataError(`${path}: entry ${name} is corrupt`);
    const dataStart = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (dataStart + csize > buf.length) throw new DataError(`${path}: entry ${name} runs past the end of the archive: it is truncated`);
    if (usize > MAX_NPY_BYTES) throw new DataError(`${path}: entry ${name} declares ${usize} bytes, more than this reader takes`);
    const raw = buf.subarray(dataStart, dataStart + csize);
    let body: Uint8Array;
    if (method === 0) body = raw;
    else if (method === 8)
      try {
        body = inflateRawSync(raw, { maxOutputLength: Math.max(1, usize) });
      } catch (e) {
        throw new DataError(`${path}: entry ${name} does not inflate (${(e as Error).message}): the archive is corrupt`);
      }
    else throw new DataError(`${path}: entry ${name} uses zip method ${method}; np.savez writes stored or deflated entries only`);
    out.set(name.replace(/\.npy$/, ''), parseNpy(body, `${path}:${name}`));
  }
  return out;
}
