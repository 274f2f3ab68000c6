import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { readIdx, readIdxSplit } from './idx.js';

const tmp = mkdtempSync(join(tmpdir(), 'auraprune-idx-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** An IDX file by the format's rules: 00 00, type 0x08, d, big-endian sizes, data. */
function idx(dims: number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((v, i) => head.writeUInt32BE(v, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(data)]);
}
const write = (name: string, b: Buffer) => {
  const p = join(tmp, name);
  writeFileSync(p, b);
  return p;
};

describe('IDX files made by hand', () => {
  test('images and labels, plain and gzipped, parse to their bytes and shape', () => {
    const pixels = Uint8Array.from({ length: 3 * 4 * 5 }, (_, i) => (i * 37) % 256);
    const labels = Uint8Array.from([7, 0, 9]);
    for (const gz of [false, true]) {
      const f = (b: Buffer) => (gz ? gzipSync(b) : b);
      const im = write(`im${gz}`, f(idx([3, 4, 5], pixels)));
      const lb = write(`lb${gz}`, f(idx([3], labels)));
      const s = readIdxSplit(im, lb);
      assert.deepEqual(s.shape, [4, 5, 1]);
      assert.equal(s.n, 3);
      assert.deepEqual(Array.from(s.images), Array.from(pixels));
      assert.deepEqual(Array.from(s.labels), [7, 0, 9]);
    }
  });

  test('corrupt, truncated, mismatched and mislabeled files: one line naming the file and the fix', () => {
    const pixels = new Uint8Array(2 * 2 * 2);
    const good = write('good-im', idx([2, 2, 2], pixels));
    const goodLb = write('good-lb', idx([2], Uint8Array.from([1, 2])));
    const cases: Array<[string, () => unknown, RegExp]> = [
      [
        'truncated',
        () => readIdx(write('trunc', idx([2, 2, 2], pixels).subarray(0, 18))),
        /trunc: its header declares 2 x 2 x 2 = 8 bytes of data but the file holds 2: it is truncated; fetch it again/,
      ],
      ['header', () => readIdx(write('short', Buffer.from([0, 0, 8, 3, 0]))), /short ends inside its header/],
      ['magic', () => readIdx(write('png', Buffer.from('\x89PNG\r\n\x1a\n'))), /png is not an IDX file/],
      ['type', () => readIdx(write('float', Buffer.from([0, 0, 0x0d, 1, 0, 0, 0, 0]))), /element type 0xd is not unsigned bytes/],
      ['gzip', () => readIdx(write('badgz', Buffer.from([0x1f, 0x8b, 1, 2, 3]))), /badgz: not a readable gzip file/],
      [
        'count',
        () => readIdxSplit(good, write('three-lb', idx([3], Uint8Array.from([1, 2, 3])))),
        /holds 3 labels for the 2 images .*do not belong together/,
      ],
      [
        'label',
        () => readIdxSplit(good, write('bad-lb', idx([2], Uint8Array.from([1, 12])))),
        /bad-lb: label 12 at record 1 is not below 10 classes/,
      ],
      [
        'empty',
        () => readIdxSplit(write('none-im', idx([0, 2, 2], new Uint8Array(0))), write('none-lb', idx([0], new Uint8Array(0)))),
        /none-im holds no images/,
      ],
      ['swapped', () => readIdxSplit(goodLb, good), /good-lb: 1 dimensions; an IDX images file has 3/],
      ['missing', () => readIdx(join(tmp, 'nope')), /nope: cannot open it \(ENOENT\)/],
    ];
    for (const [what, f, re] of cases) assert.throws(f, re, what);
  });
});

const FM = '/usr/share/datasets/fashion-mnist';
describe(
  'Fashion-MNIST from the Debian package',
  existsSync(join(FM, 't10k-images-idx3-ubyte.gz')) ? {} : { skip: `${FM} not found: apt-get install dataset-fashion-mnist` },
  () => {
    test('the test split: 10,000 28x28 grayscale images, 1,000 per class', () => {
      const s = readIdxSplit(join(FM, 't10k-images-idx3-ubyte.gz'), join(FM, 't10k-labels-idx1-ubyte.gz'));
      assert.equal(s.n, 10000);
      assert.deepEqual(s.shape, [28, 28, 1]);
      assert.equal(s.images.length, 10000 * 784);
      const counts = new Array(10).fill(0);
      for (const l of s.labels) counts[l]++;
      assert.deepEqual(counts, new Array(10).fill(1000));
      // pixels use the whole byte range (background 0, ink up to 255)
      assert.equal(Math.min(...s.images.subarray(0, 784 * 10)), 0);
      assert.equal(Math.max(...s.images.subarray(0, 784 * 10)), 255);
    });
  },
);
