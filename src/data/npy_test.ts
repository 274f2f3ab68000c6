import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseNpy, readNpy, readNpz } from './npy.js';
import { npy, zip } from '../../tests/helpers/numpy.js';

const tmp = mkdtempSync(join(tmpdir(), 'auraprune-npy-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('.npy and .npz made by the format rules', () => {
  test('uint8 images, float32 images little- and big-endian, int64 labels; version 2 headers', () => {
    const u8 = Uint8Array.from({ length: 2 * 3 * 3 * 1 }, (_, i) => i * 10);
    const a = parseNpy(npy('|u1', [2, 3, 3, 1], u8), 'a');
    assert.deepEqual([a.dtype, a.shape, Array.from(a.data as Uint8Array)], ['u1', [2, 3, 3, 1], Array.from(u8)]);
    const f = new Float32Array([0.5, -1.25, 3]);
    const le = parseNpy(npy('<f4', [3], new Uint8Array(f.buffer)), 'le');
    const be = Buffer.from(new Uint8Array(f.buffer));
    for (let i = 0; i < be.length; i += 4) be.subarray(i, i + 4).reverse();
    const bigEndian = parseNpy(npy('>f4', [3], be, { version: 2 }), 'be');
    assert.deepEqual(Array.from(le.data as Float32Array), [0.5, -1.25, 3]);
    assert.deepEqual(Array.from(bigEndian.data as Float32Array), [0.5, -1.25, 3]);
    const labels = parseNpy(npy('<i8', [2], new Uint8Array(new BigInt64Array([7n, 2n]).buffer)), 'l');
    assert.deepEqual(Array.from(labels.data as BigInt64Array), [7n, 2n]);
  });

  test('refused with one line naming the file: Fortran order, truncated data, a foreign dtype, not npy', () => {
    const p = (name: string, b: Buffer) => {
      writeFileSync(join(tmp, name), b);
      return join(tmp, name);
    };
    assert.throws(
      () => readNpy(p('f.npy', npy('|u1', [2, 2], new Uint8Array(4), { fortran: true }))),
      /f\.npy is stored in Fortran order; save it in C order/,
    );
    assert.throws(
      () => readNpy(p('t.npy', npy('<f4', [4], new Uint8Array(12)))),
      /t\.npy: its header declares shape \(4\) of f4 = 16 bytes but 12 follow: the file is truncated/,
    );
    assert.throws(() => readNpy(p('c.npy', npy('<c8', [1], new Uint8Array(8)))), /c\.npy: dtype <c8 is not supported/);
    assert.throws(() => readNpy(p('x.npy', Buffer.from('hello world!'))), /x\.npy is not a NumPy \.npy file/);
    assert.throws(
      () => readNpz(p('x.npz', Buffer.from('not a zip at all, just text padding it out'))),
      /x\.npz is not an \.npz \(zip\) archive/,
    );
  });

  test('an .npz, stored and deflated, holds its arrays by name', () => {
    const x = npy(
      '|u1',
      [1, 2, 2, 3],
      Uint8Array.from({ length: 12 }, (_, i) => i),
    );
    const y = npy('<i4', [1], new Uint8Array(new Int32Array([4]).buffer));
    for (const deflate of [false, true]) {
      writeFileSync(
        join(tmp, `d${deflate}.npz`),
        zip(
          [
            ['x.npy', x],
            ['y.npy', y],
          ],
          deflate,
        ),
      );
      const m = readNpz(join(tmp, `d${deflate}.npz`));
      assert.deepEqual([...m.keys()], ['x', 'y']);
      assert.deepEqual(m.get('x')!.shape, [1, 2, 2, 3]);
      assert.deepEqual(Array.from(m.get('y')!.data as Int32Array), [4]);
    }
  });
});

const numpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
test(
  'files NumPy itself wrote (np.save, np.savez_compressed) read back equal',
  numpy ? {} : { skip: 'python3 with numpy not found' },
  () => {
    const script = `
import numpy as np
x = (np.arange(2*4*4*3) % 251).astype(np.uint8).reshape(2, 4, 4, 3)
np.save('${tmp}/np_x.npy', x)
np.save('${tmp}/np_f.npy', np.array([[0.25, -2.0]], dtype='>f4'))
np.savez_compressed('${tmp}/np_xy.npz', x=x, y=np.array([3, 9], dtype=np.int64))
`;
    const r = spawnSync('python3', ['-c', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const x = readNpy(join(tmp, 'np_x.npy'));
    assert.deepEqual(x.shape, [2, 4, 4, 3]);
    assert.deepEqual(
      Array.from(x.data as Uint8Array),
      Array.from({ length: 96 }, (_, i) => i % 251),
    );
    assert.deepEqual(Array.from(readNpy(join(tmp, 'np_f.npy')).data as Float32Array), [0.25, -2]);
    const z = readNpz(join(tmp, 'np_xy.npz'));
    assert.deepEqual(Array.from(z.get('y')!.data as BigInt64Array), [3n, 9n]);
    assert.deepEqual(Array.from(z.get('x')!.data as Uint8Array), Array.from(x.data as Uint8Array));
  },
);
