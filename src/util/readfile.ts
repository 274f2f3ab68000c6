/**
 * Reading a file a user named: opened once, a regular file only (a FIFO or device would block or
 * never end), its size checked against `max` before the buffer is allocated, and every failure a
 * DataError-style one-liner naming the file.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export function readRegularFile(path: string, max: number, what: string, fail: (msg: string) => Error): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw fail(`${path}: cannot open it (${(e as NodeJS.ErrnoException).code}); check the path given with --data`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw fail(`${path} is not a regular file; give the ${what} itself`);
    if (st.size > max) throw fail(`${path} is ${st.size} bytes, more than the ${max} bytes a ${what} is read up to`);
    const buf = new Uint8Array(st.size);
    let off = 0;
    while (off < buf.length) {
      const r = readSync(fd, buf, off, buf.length - off, off);
      if (r <= 0) break;
      off += r;
    }
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}
