import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { decodePng, greyVariance } from './helpers/png.js';

function crc32(b: Uint8Array): number {
  let c = ~0;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
function chunk(type: string, body: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.write(type, 4, 'latin1');
  Buffer.from(body).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + body.length)), 8 + body.length);
  return out;
}
/** 2x2 RGB PNG with filter type 1 (Sub) on row 0 and 2 (Up) on row 1. */
function tiny(): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(2, 0);
  ihdr.writeUInt32BE(2, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const raw = Uint8Array.from([1, 0, 0, 0, 255, 255, 255, 2, 255, 255, 255, 0, 0, 0]);
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array()),
  ]);
}

test('PNG decoder undoes Sub/Up filters: a 2x2 black/white checkerboard', () => {
  const d = decodePng(tiny());
  assert.deepEqual(Array.from(d.pixels), [0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255, 255]);
  // grey levels 0, 255, 255, 255: mean 191.25, variance 12192.1875
  assert.ok(Math.abs(greyVariance(tiny()) - 12192.1875) < 1e-9);
});
