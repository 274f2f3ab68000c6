import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import sharp from 'sharp';
import { channelStats, CIFAR10_INFO, closeDiskImages, gatherImages, inMemory, resizeImages } from './dataset.js';
import { fillBatch, subset } from './pipeline.js';
import { Rng } from '../util/rng.js';
import { DataError } from './errors.js';
import { DEBIAN_FASHION_MNIST, detectFormat, openDataSet } from './open.js';
import { npy, zip } from '../../tests/helpers/numpy.js';
import { balancedSample, trainValSplit } from './pipeline.js';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { checkModelFitsData } from '../models/io.js';

const tmp = mkdtempSync(join(tmpdir(), 'auraprune-open-'));
process.env.AURAPRUNE_FOLDER_CACHE = join(tmp, 'cache');
after(() => rmSync(tmp, { recursive: true, force: true }));
const dir = (name: string) => {
  const d = join(tmp, name);
  mkdirSync(d, { recursive: true });
  return d;
};

describe('CIFAR-100 binary', () => {
  // record r: coarse label r % 20, fine label (7 * r) % 100, R plane = r, G plane = 2r, B plane = 255 - r
  const records = (n: number) => {
    const b = Buffer.alloc(n * 3074);
    for (let r = 0; r < n; r++) {
      b[r * 3074] = r % 20;
      b[r * 3074 + 1] = (7 * r) % 100;
      b.fill(r, r * 3074 + 2, r * 3074 + 2 + 1024);
      b.fill(2 * r, r * 3074 + 2 + 1024, r * 3074 + 2 + 2048);
      b.fill(255 - r, r * 3074 + 2 + 2048, r * 3074 + 3074);
    }
    return b;
  };
  const d = dir('c100');
  writeFileSync(join(d, 'train.bin'), records(30));
  writeFileSync(join(d, 'test.bin'), records(5));
  writeFileSync(join(d, 'coarse_label_names.txt'), Array.from({ length: 20 }, (_, i) => `super${i}`).join('\n') + '\n');

  test('fine and coarse labels, planar records interleaved to channels last, statistics from the training file', async () => {
    assert.equal(detectFormat(d), 'cifar100');
    const fine = await openDataSet(d, { quiet: true });
    assert.deepEqual(fine.info.shape, [32, 32, 3]);
    assert.equal(fine.info.classNames.length, 100);
    assert.deepEqual(Array.from(fine.train.labels.subarray(0, 4)), [0, 7, 14, 21]);
    // image 3, pixel 500: (3, 6, 252)
    assert.deepEqual(Array.from(fine.train.images.subarray(3 * 3072 + 500 * 3, 3 * 3072 + 501 * 3)), [3, 6, 252]);
    assert.equal(fine.test.n, 5);
    assert.equal(fine.testFrom, 'file');
    // mean of R over r = 0..29 is 14.5 / 255
    assert.ok(Math.abs(fine.info.mean[0] - 14.5 / 255) < 1e-6);
    const coarse = await openDataSet(d, { quiet: true, labels: 'coarse' });
    assert.deepEqual(coarse.info.classNames.slice(0, 2), ['super0', 'super1']);
    assert.deepEqual(Array.from(coarse.train.labels.subarray(19, 22)), [19, 0, 1]);
  });

  test('a truncated file and an out-of-range label each give one line naming the file', async () => {
    const t = dir('c100-bad');
    writeFileSync(join(t, 'train.bin'), records(3).subarray(0, 3074 * 2 + 100));
    writeFileSync(join(t, 'test.bin'), records(2));
    await assert.rejects(openDataSet(t, { quiet: true }), (e: Error) => e instanceof DataError && /train\.bin.*truncated/.test(e.message));
    const bad = records(3);
    bad[3074 + 1] = 140;
    writeFileSync(join(t, 'train.bin'), bad);
    await assert.rejects(openDataSet(t, { quiet: true }), /train\.bin: record 1 has labels .*not CIFAR-100/);
  });
});

describe('NumPy data sets', () => {
  test('an .npz without a test split: float images in [0, 1] scaled to bytes, a stratified held-out test set', async () => {
    const n = 40;
    const x = new Float32Array(n * 4 * 5);
    for (let i = 0; i < x.length; i++) x[i] = (i % 11) / 10;
    const y = new BigInt64Array(n);
    for (let i = 0; i < n; i++) y[i] = BigInt(i % 4);
    const f = join(tmp, 'toy.npz');
    writeFileSync(
      f,
      zip(
        [
          ['x_train.npy', npy('<f4', [n, 4, 5], new Uint8Array(x.buffer))],
          ['y_train.npy', npy('<i8', [n], new Uint8Array(y.buffer))],
        ],
        true,
      ),
    );
    assert.equal(detectFormat(f), 'npz');
    const d = await openDataSet(f, { quiet: true });
    assert.deepEqual(d.info.shape, [4, 5, 1]);
    assert.deepEqual(d.info.classNames, ['0', '1', '2', '3']);
    assert.deepEqual(d.testFrom, { heldOut: 4, seed: 0 });
    assert.equal(d.train.n + d.test.n, n);
    // one held-out image per class
    assert.deepEqual(Array.from(d.test.labels).sort(), [0, 1, 2, 3]);
    const all = new Set([...d.train.images, ...d.test.images]);
    const allowed = Array.from({ length: 11 }, (_, k) => Math.round(Math.fround(k / 10) * 255));
    for (const v of all) assert.ok(allowed.includes(v), `value ${v}`);
  });

  test('more than 256 classes: labels keep two bytes through the held-out split, validation and calibration subsets', async () => {
    // 300 classes, 3 images each, class c's images filled with c % 251 so labels and pixels can be matched
    const k = 300,
      n = 3 * k;
    const x = new Uint8Array(n * 2 * 2);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % k;
      x.fill(y[i] % 251, i * 4, (i + 1) * 4);
    }
    const d = dir('npy-many');
    writeFileSync(join(d, 'x_train.npy'), npy('|u1', [n, 2, 2], x));
    writeFileSync(join(d, 'y_train.npy'), npy('<i4', [n], new Uint8Array(y.buffer)));
    const ds = await openDataSet(d, { quiet: true });
    assert.equal(ds.info.classNames.length, 300);
    assert.ok(ds.train.labels instanceof Uint16Array);
    // the held-out test split (one per class, up to 10% of the images) and the train/val split keep labels above 255
    for (const split of [ds.train, ds.test, trainValSplit(ds.train, 300, 1).val, balancedSample(ds.train, 1, 1)]) {
      assert.ok(split.labels instanceof Uint16Array);
      for (let i = 0; i < split.n; i++) assert.equal(split.images[i * 4], split.labels[i] % 251, `image ${i}: label ${split.labels[i]}`);
    }
    assert.ok(Math.max(...ds.train.labels) > 255);
    assert.deepEqual(
      Array.from(balancedSample(ds.train, 1, 1).labels).sort((a, b) => a - b),
      Array.from({ length: 300 }, (_, c) => c),
    );
  });

  test('normalised (negative) images, float labels and mismatched counts are refused with the file named', async () => {
    const d = dir('npy-bad');
    const x = new Float32Array(2 * 4).fill(-1);
    writeFileSync(join(d, 'x_train.npy'), npy('<f4', [2, 2, 2], new Uint8Array(x.buffer)));
    writeFileSync(join(d, 'y_train.npy'), npy('|u1', [2], Uint8Array.from([0, 1])));
    await assert.rejects(openDataSet(d, { quiet: true }), /x_train\.npy: values span \[-1, -1\]; give raw pixels/);
    writeFileSync(join(d, 'x_train.npy'), npy('|u1', [2, 2, 2], new Uint8Array(8)));
    writeFileSync(join(d, 'y_train.npy'), npy('<f4', [2], new Uint8Array(8)));
    await assert.rejects(openDataSet(d, { quiet: true }), /y_train\.npy: dtype f4; labels must be integers/);
    writeFileSync(join(d, 'y_train.npy'), npy('|u1', [3], Uint8Array.from([0, 1, 1])));
    await assert.rejects(openDataSet(d, { quiet: true }), /y_train\.npy: shape \(3\); labels must be \(2,\)/);
  });
});

describe('image folders', () => {
  const root = dir('folder');
  const w = 9,
    h = 7;
  // a horizontal ramp 10..250 (RGB, PNG), solid colours (JPEG), a grayscale ramp (PNG)
  const ramp = (c: number) => {
    const b = Buffer.alloc(w * h * c);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) b[(y * w + x) * c + k] = 10 + 30 * x;
    return b;
  };
  const write = async (rel: string, data: Buffer, c: 1 | 3, fmt: 'png' | 'jpeg') => {
    const p = join(root, rel);
    mkdirSync(join(p, '..'), { recursive: true });
    let img = sharp(data, { raw: { width: w, height: h, channels: c } });
    if (c === 1) img = img.toColourspace('b-w'); // else sharp writes the gray image as RGB
    await (fmt === 'png' ? img.png() : img.jpeg({ quality: 95 })).toFile(p);
  };

  test('PNG and JPEG, RGB and grayscale, odd sizes: decoded and resized to the expected pixels (within 4 levels)', async () => {
    await write('train/cat/a.png', ramp(3), 3, 'png');
    await write('train/cat/b.jpg', Buffer.alloc(w * h * 3, 200), 3, 'jpeg');
    await write('train/dog/c.png', ramp(1), 1, 'png');
    await write('train/dog/d.jpg', Buffer.alloc(w * h * 3, 40), 3, 'jpeg');
    await write('test/cat/e.png', ramp(3), 3, 'png');
    await write('test/dog/f.jpg', Buffer.alloc(w * h * 3, 90), 3, 'jpeg');
    writeFileSync(join(root, 'train', 'cat', 'notes.txt'), 'not an image');
    assert.equal(detectFormat(root), 'folder');
    const d = await openDataSet(root, { quiet: true });
    assert.deepEqual(d.info.shape, [h, w, 3]); // one RGB image makes the set RGB
    assert.deepEqual(d.info.classNames, ['cat', 'dog']);
    assert.deepEqual(Array.from(d.train.labels), [0, 0, 1, 1]);
    assert.equal(d.test.n, 2);
    const px = (img: number, y: number, x: number, c = 0) => d.train.images[img * h * w * 3 + (y * w + x) * 3 + c];
    assert.equal(px(0, 3, 4), 130); // lossless PNG: exact
    assert.ok(Math.abs(px(1, 2, 2, 1) - 200) <= 4); // JPEG: within 4 levels
    assert.equal(px(2, 5, 8, 2), 250); // grayscale replicated into RGB
    // resized to 5x4: a linear ramp stays linear at the new sample centres (x' = (i + 0.5) * 9/4 - 0.5)
    const r = await openDataSet(root, { quiet: true, resize: [5, 4] });
    assert.deepEqual(r.info.shape, [5, 4, 3]);
    for (let i = 1; i < 3; i++) {
      const want = 10 + 30 * ((i + 0.5) * (9 / 4) - 0.5);
      const got = r.train.images[(2 * 4 + i) * 3];
      assert.ok(Math.abs(got - want) <= 4, `column ${i}: ${got} vs ${want.toFixed(1)}`);
    }
  });

  test('a second open reads the decoded cache keyed by the files', async () => {
    const cache = process.env.AURAPRUNE_FOLDER_CACHE!;
    const files = readdirSync(cache).filter((f) => f.endsWith('.bin'));
    assert.ok(files.length >= 1);
    // overwrite every cached image with 7s: an open that reads the cache returns them
    for (const f of files) writeFileSync(join(cache, f), Buffer.alloc((await import('node:fs')).statSync(join(cache, f)).size, 7));
    const d = await openDataSet(root, { quiet: true });
    assert.ok(d.train.images.every((v) => v === 7));
    // a changed file changes the key: decoded again
    await write('train/dog/d.jpg', Buffer.alloc(w * h * 3, 41), 3, 'jpeg');
    const e = await openDataSet(root, { quiet: true });
    assert.ok(!e.train.images.every((v) => v === 7));
  });

  test('streamed from the decoded cache on disk: the same batches, statistics and subsets as in memory', async () => {
    // each decoded independently into its own cache: streamed rows written to disk vs decoded in memory
    const cache = process.env.AURAPRUNE_FOLDER_CACHE;
    process.env.AURAPRUNE_FOLDER_CACHE = join(tmp, 'cache-disk');
    const disk = await openDataSet(root, { quiet: true, stream: true, resize: [5, 4] });
    process.env.AURAPRUNE_FOLDER_CACHE = join(tmp, 'cache-mem');
    const mem = await openDataSet(root, { quiet: true, stream: false, resize: [5, 4] });
    process.env.AURAPRUNE_FOLDER_CACHE = cache;
    assert.deepEqual(
      readdirSync(join(tmp, 'cache-disk')).filter((f) => f.endsWith('.tmp')),
      [],
      'no temp file left',
    );
    assert.ok(disk.train.disk && disk.train.images.length === 0, 'no pixels held in memory');
    assert.deepEqual(disk.info, mem.info);
    const idx = [3, 0, 2];
    const a = new Float32Array(3 * 60),
      b = new Float32Array(3 * 60);
    fillBatch(mem.train, idx, a, new Rng(5), { pad: 1, flip: true });
    fillBatch(disk.train, idx, b, new Rng(5), { pad: 1, flip: true });
    assert.deepEqual(b, a);
    const sub = subset(disk.train, [2, 1]);
    assert.ok(sub.disk, 'a subset of a streamed split stays on disk');
    assert.deepEqual(gatherImages(sub, [0, 1]), gatherImages(mem.train, [2, 1]));
    assert.deepEqual(inMemory(disk.test).images, mem.test.images);
    closeDiskImages();
  });

  test('grayscale-only folders stay one channel; mixed sizes, corrupt files and links out are handled', async () => {
    const g = dir('gray');
    const put = async (rel: string, width: number) => {
      mkdirSync(join(g, rel, '..'), { recursive: true });
      await sharp(Buffer.alloc(width * 3, 128), { raw: { width, height: 3, channels: 1 } })
        .toColourspace('b-w')
        .png()
        .toFile(join(g, rel));
    };
    await put('train/a/1.png', 4);
    await put('train/b/2.png', 4);
    const d = await openDataSet(g, { quiet: true, heldOut: 1 });
    assert.deepEqual(d.info.shape, [3, 4, 1]);
    await put('train/b/3.png', 5);
    await assert.rejects(openDataSet(g, { quiet: true }), /3\.png is 5x3 but .*1\.png is 4x3.*--resize HxW/);
    rmSync(join(g, 'train/b/3.png'));
    writeFileSync(join(g, 'train/b/4.png'), 'PNG? no');
    await assert.rejects(openDataSet(g, { quiet: true }), /4\.png is not a readable image .*remove or replace it/);
    rmSync(join(g, 'train/b/4.png'));
    // a corrupt file while streaming: the partial decoded cache is removed, nothing is left behind
    // (a truncated PNG: its header reads, its pixels do not)
    const whole = await sharp(Buffer.alloc(4 * 3, 128), { raw: { width: 4, height: 3, channels: 1 } })
      .toColourspace('b-w')
      .png({ compressionLevel: 0 })
      .toBuffer();
    writeFileSync(join(g, 'train/b/6.png'), whole.subarray(0, Math.floor(whole.length * 0.6)));
    const cacheDir = process.env.AURAPRUNE_FOLDER_CACHE!;
    const before = existsSync(cacheDir) ? readdirSync(cacheDir).length : 0;
    await assert.rejects(openDataSet(g, { quiet: true, stream: true }), /6\.png does not decode .*remove or replace it/);
    assert.equal(existsSync(cacheDir) ? readdirSync(cacheDir).length : 0, before, 'no cache or temp file written');
    rmSync(join(g, 'train/b/6.png'));
    // empty: class folders without images, or a single class
    const empty = dir('empty');
    mkdirSync(join(empty, 'train', 'x'), { recursive: true });
    mkdirSync(join(empty, 'train', 'y'), { recursive: true });
    await assert.rejects(openDataSet(empty, { quiet: true }), /train holds no images \(\.png, \.jpg, \.jpeg, \.webp\)/);
    rmSync(join(empty, 'train', 'y'), { recursive: true });
    await assert.rejects(openDataSet(empty, { quiet: true }), /holds 1 class folder\(s\); an image folder needs .* at least 2 classes/);
    // a link to a file outside the folder is skipped, never read
    symlinkSync(join(tmp, 'toy.npz'), join(g, 'train/b/5.png'));
    const e = await openDataSet(g, { quiet: true, heldOut: 1 });
    assert.equal(e.train.n + e.test.n, 2);
    assert.ok(existsSync(join(g, 'train/b/5.png')));
  });
});

test('resizeImages: a constant image stays constant and a linear ramp stays linear between the edge samples', () => {
  const src = Uint8Array.from({ length: 8 }, (_, x) => 20 * x); // 1 x 8 x 1
  const out = resizeImages(src, 1, [1, 8, 1], [1, 4]);
  // centres at x' = (i + 0.5) * 2 - 0.5 = 0.5, 2.5, 4.5, 6.5
  assert.deepEqual(Array.from(out), [10, 50, 90, 130]);
  assert.ok(resizeImages(new Uint8Array(27).fill(9), 1, [3, 3, 3], [5, 2]).every((v) => v === 9));
});

test('channelStats: mean and standard deviation per channel from a hand-computed case', () => {
  // two pixels, two channels: c0 = 0 and 255 (mean 0.5, sd 0.5), c1 = 51 twice (mean 0.2, sd 0 -> floored)
  const s = channelStats(Uint8Array.from([0, 51, 255, 51]), 2);
  assert.deepEqual(s.mean, [0.5, 0.2]);
  assert.equal(s.std[0], 0.5);
  assert.ok(s.std[1] < 1e-5);
});

test('Fashion-MNIST from the Debian package: 60,000 + 10,000 images of 28x28x1 with its published statistics', async (t) => {
  if (!existsSync(DEBIAN_FASHION_MNIST)) return t.skip(`${DEBIAN_FASHION_MNIST} absent (apt-get install dataset-fashion-mnist)`);
  const d = await openDataSet(undefined, { dataset: 'fashion-mnist', quiet: true });
  assert.equal(d.info.name, 'fashion-mnist');
  assert.deepEqual(d.info.shape, [28, 28, 1]);
  assert.equal(d.train.n, 60000);
  assert.equal(d.test.n, 10000);
  assert.equal(d.info.classNames[9], 'Ankle boot');
  // the widely quoted normalisation of Fashion-MNIST: mean 0.2860, std 0.3530
  assert.ok(Math.abs(d.info.mean[0] - 0.286) < 5e-4 && Math.abs(d.info.std[0] - 0.353) < 5e-4);
});

test('a model that does not fit the data set is refused with both shapes and the fix', () => {
  const x = tfl.input({ shape: [32, 32, 3] });
  const m = tfl.model({ inputs: x, outputs: tfl.layers.dense({ units: 10 }).apply(tfl.layers.flatten().apply(x)) as tfl.SymbolicTensor });
  const fm = { ...CIFAR10_INFO, name: 'fm', shape: [28, 28, 3] as [number, number, number] };
  assert.throws(
    () => checkModelFitsData(m, fm, 'dir'),
    /dir: the model takes \[32, 32, 3\] images but fm has \[28, 28, 3\]; pass --resize 32x32/,
  );
  const gray = { ...CIFAR10_INFO, name: 'g', shape: [32, 32, 1] as [number, number, number] };
  assert.throws(() => checkModelFitsData(m, gray, 'dir'), /3-channel images .* but g has 1-channel/);
  const hundred = { ...CIFAR10_INFO, classNames: Array.from({ length: 100 }, String) };
  assert.throws(() => checkModelFitsData(m, hundred, 'dir'), /predicts 10 classes but cifar10 has 100/);
  checkModelFitsData(m, CIFAR10_INFO, 'dir');
});
