/** NumPy files written by numpy.lib.format's rules, for the loaders' tests. */
import { deflateRawSync } from 'node:zlib';

/** A .npy by numpy.lib.format's rules: magic, version, header padded to a multiple of 64 with \n. */
export function npy(descr: string, shape: number[], data: Uint8Array, o: { fortran?: boolean; version?: 1 | 2 } = {}): Buffer {
  const version = o.version ?? 1;
  const dict = `{'descr': '${descr}', 'fortran_order': ${o.fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pre = 8 + (version === 1 ? 2 : 4);
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  const header = dict + ' '.repeat(total - pre - dict.length - 1) + '\n';
  const len = Buffer.alloc(version === 1 ? 2 : 4);
  if (version === 1) len.writeUInt16LE(header.length);
  else len.writeUInt32LE(header.length);
  return Buffer.concat([
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]),
    len,
    Buffer.from(header, 'latin1'),
    Buffer.from(data),
  ]);
}

/** A zip of named entries (stored or deflated) with its central directory, as np.savez writes. */
export function zip(entries: Array<[string, Buffer]>, deflate: boolean): Buffer {
  const locals: Buffer[] = [],
    centrals: Buffer[] = [];
  let off = 0;
  for (const [name, body] of entries) {
    const data = deflate ? deflateRawSync(body) : body;
    const n = Buffer.from(name);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(deflate ? 8 : 0, 8);
    lh.writeUInt32LE(data.length, 18);
    lh.writeUInt32LE(body.length, 22);
    lh.writeUInt16LE(n.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(deflate ? 8 : 0, 10);
    ch.writeUInt32LE(data.length, 20);
    ch.writeUInt32LE(body.length, 24);
    ch.writeUInt16LE(n.length, 28);
    ch.writeUInt32LE(off, 42);
    locals.push(lh, n, data);
    centrals.push(ch, n);
    off += 30 + n.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(off, 16);
  return Buffer.concat([...locals, cd, end]);
}
