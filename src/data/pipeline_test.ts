import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../util/rng.js';
import { loadCifar10 } from './cifar10.js';
import { alternatingFlipBase, balancedSample, CIFAR_MEAN, CIFAR_STD, epochBatches, fillBatch, trainValSplit } from './pipeline.js';
import { CIFAR_DIR, NEEDS_CIFAR } from '../../tests/helpers/fixtures.js';
import { CIFAR10_INFO } from '../data/dataset.js';

const DIR = CIFAR_DIR;
describe('input pipeline', NEEDS_CIFAR, () => {
  const data = loadCifar10(DIR, 'train', { limit: 2000 });
  test('normalisation without augmentation: pixel 0 of image 0 equals (59/255 - mean) / std', () => {
    const out = new Float32Array(3072);
    fillBatch(data, [0], out, null);
    assert.ok(Math.abs(out[0] - (59 / 255 - CIFAR_MEAN[0]) / CIFAR_STD[0]) < 1e-6);
  });
  test('augmentation keeps shapes and label order; the crop moves pixels; flip is its own inverse', () => {
    const plain = new Float32Array(4 * 3072),
      aug = new Float32Array(4 * 3072);
    fillBatch(data, [0, 1, 2, 3], plain, null);
    fillBatch(data, [0, 1, 2, 3], aug, new Rng(1), { pad: 4, flip: false });
    assert.notDeepEqual(Array.from(aug), Array.from(plain), 'a random crop moves pixels');
    // flip only, applied twice by flipping the source manually: mirror(mirror(x)) == x
    const once = new Float32Array(3072);
    const flipRng = () => ({ int: () => 0, next: () => 0 }) as unknown as Rng; // always flips, no shift
    fillBatch(data, [5], once, flipRng(), { pad: 0, flip: true });
    const mirrored = new Float32Array(3072);
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 32; x++) for (let c = 0; c < 3; c++) mirrored[(y * 32 + x) * 3 + c] = once[(y * 32 + 31 - x) * 3 + c];
    const ref = new Float32Array(3072);
    fillBatch(data, [5], ref, null);
    assert.deepEqual(Array.from(mirrored), Array.from(ref));
    const batches = epochBatches(10, 4, null);
    assert.deepEqual(
      batches.map((b) => Array.from(b)),
      [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
        [8, 9],
      ],
    );
  });
  test('crop shift is within ±pad and padding is black', () => {
    const out = new Float32Array(3072);
    const fixed = { int: () => 8, next: () => 0.9 } as unknown as Rng; // shift (+4, +4), no flip
    fillBatch(data, [0], out, fixed, { pad: 4 });
    const black = -CIFAR_MEAN[0] / CIFAR_STD[0];
    assert.ok(Math.abs(out[(31 * 32 + 31) * 3] - black) < 1e-6, 'bottom-right corner comes from the padding');
    const ref = new Float32Array(3072);
    fillBatch(data, [0], ref, null);
    assert.equal(out[0], ref[(4 * 32 + 4) * 3], 'pixel (0,0) comes from source (4,4)');
  });
  test('stratified validation split: disjoint, equal per class, seeded', () => {
    const { train, val } = trainValSplit(data, 500, 3);
    assert.equal(train.n + val.n, 2000);
    const counts = new Array(10).fill(0);
    val.labels.forEach((l) => counts[l]++);
    assert.deepEqual(counts, new Array(10).fill(50));
    assert.deepEqual(Array.from(trainValSplit(data, 500, 3).val.labels), Array.from(val.labels));
    assert.throws(() => trainValSplit(data, 5000, 1), /validation size/);
  });
  test('class-balanced sample has N per class', () => {
    const s = balancedSample(data, 20, 1);
    const counts = new Array(10).fill(0);
    s.labels.forEach((l) => counts[l]++);
    assert.deepEqual(counts, new Array(10).fill(20));
    assert.throws(() => balancedSample(data, 500, 1), /fewer than 500/);
  });
});

describe('airbench augmentation', () => {
  const n = 6;
  const split = {
    n,
    labels: new Uint8Array(n),
    images: Uint8Array.from({ length: n * 3072 }, (_, i) => (i * 7 + (i >> 5)) % 251),
    info: CIFAR10_INFO,
  };
  const plain = new Float32Array(n * 3072);
  fillBatch(
    split,
    Array.from({ length: n }, (_, i) => i),
    plain,
    null,
  );
  const mirrored = (img: Float32Array) => {
    const m = new Float32Array(3072);
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 32; x++) for (let c = 0; c < 3; c++) m[(y * 32 + x) * 3 + c] = img[(y * 32 + 31 - x) * 3 + c];
    return m;
  };
  test('alternating flip: image i is mirrored exactly when base[i] xor (epoch odd)', () => {
    const base = alternatingFlipBase(n, 3);
    assert.ok(base.some((b) => b === 1) && base.some((b) => b === 0), 'seed 3 gives both kinds');
    for (const epoch of [0, 1, 2, 3]) {
      const out = new Float32Array(n * 3072);
      fillBatch(
        split,
        Array.from({ length: n }, (_, i) => i),
        out,
        new Rng(epoch),
        { pad: 0, flip: 'alternate' },
        { flipBase: base, epoch },
      );
      for (let i = 0; i < n; i++) {
        const want =
          (base[i] ^ (epoch & 1)) === 1 ? mirrored(plain.subarray(i * 3072, (i + 1) * 3072)) : plain.subarray(i * 3072, (i + 1) * 3072);
        assert.deepEqual(out.subarray(i * 3072, (i + 1) * 3072), want, `epoch ${epoch} image ${i}`);
      }
    }
  });
  test('reflect translation by up to 2 pixels: every output pixel is the source pixel at the reflected offset', () => {
    const out = new Float32Array(n * 3072);
    const rng = new Rng(11);
    fillBatch(
      split,
      Array.from({ length: n }, (_, i) => i),
      out,
      rng,
      { pad: 2, padMode: 'reflect', flip: false },
    );
    // recover the offset of each image by search, then check all pixels against an independent reflect
    const refl = (i: number) => (i < 0 ? -i : i > 31 ? 62 - i : i);
    for (let i = 0; i < n; i++) {
      const img = plain.subarray(i * 3072, (i + 1) * 3072),
        got = out.subarray(i * 3072, (i + 1) * 3072);
      let found = 0;
      for (let dy = -2; dy <= 2; dy++)
        for (let dx = -2; dx <= 2; dx++) {
          let ok = true;
          for (let y = 0; y < 32 && ok; y++)
            for (let x = 0; x < 32 && ok; x++)
              for (let c = 0; c < 3; c++) {
                if (got[(y * 32 + x) * 3 + c] !== img[(refl(y + dy) * 32 + refl(x + dx)) * 3 + c]) {
                  ok = false;
                  break;
                }
              }
          if (ok) found++;
        }
      assert.ok(found >= 1, `image ${i} is a reflect-translation by at most 2 pixels`);
    }
  });
});
