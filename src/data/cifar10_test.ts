import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { DataError, findCifarDir, loadCifar10, readBatchFile, TEST_FILES, TRAIN_FILES } from './cifar10.js';
import { extractArchive, untar } from './download.js';
import { CIFAR_DIR, NEEDS_CIFAR } from '../../tests/helpers/fixtures.js';

const DIR = CIFAR_DIR;
const tmp = mkdtempSync(join(tmpdir(), 'auraprune-cifar-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('CIFAR-10 loader on the real data', NEEDS_CIFAR, () => {
  test('first labels and pixels match the published references', () => {
    const train = loadCifar10(DIR, 'train', { limit: 10 });
    assert.deepEqual(Array.from(train.labels), [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]);
    // NHWC: red bytes of image 0 are every third byte
    assert.deepEqual(
      Array.from({ length: 8 }, (_, i) => train.images[i * 3]),
      [59, 43, 50, 68, 98, 119, 139, 145],
    );
    const test10 = loadCifar10(DIR, 'test', { limit: 10 });
    assert.deepEqual(Array.from(test10.labels), [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]);
  });
  test('per-class counts: 1000 of each class in test; data_batch_1 as published', () => {
    const t = loadCifar10(DIR, 'test');
    const counts = new Array(10).fill(0);
    t.labels.forEach((l) => counts[l]++);
    assert.deepEqual(counts, new Array(10).fill(1000));
    const b1 = loadCifar10(DIR, 'train', { limit: 10000 });
    const c1 = new Array(10).fill(0);
    b1.labels.forEach((l) => c1[l]++);
    assert.deepEqual(c1, [1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981]);
  });
  test('findCifarDir honours the flag and refuses a wrong folder with a hint', () => {
    assert.equal(findCifarDir(DIR), DIR);
    assert.throws(() => findCifarDir(tmp), /does not hold the CIFAR-10 binary files/);
  });
});

describe('bad data gives one-line errors naming the file and the fix', NEEDS_CIFAR, () => {
  test('missing, truncated and corrupt files', () => {
    const dir = join(tmp, 'bad');
    execFileSync('mkdir', ['-p', dir]);
    for (const f of [...TRAIN_FILES, ...TEST_FILES]) symlinkSync(join(DIR, f), join(dir, f));
    rmSync(join(dir, 'data_batch_2.bin'));
    assert.throws(
      () => readBatchFile(dir, 'data_batch_2.bin'),
      (e: Error) => e instanceof DataError && /data_batch_2\.bin is missing/.test(e.message),
    );
    writeFileSync(join(dir, 'data_batch_2.bin'), readFileSync(join(DIR, 'data_batch_2.bin')).subarray(0, 1000 * 3073));
    assert.throws(() => readBatchFile(dir, 'data_batch_2.bin'), /is 3073000 bytes, expected 30730000: it is truncated/);
    rmSync(join(dir, 'test_batch.bin'));
    copyFileSync(join(DIR, 'test_batch.bin'), join(dir, 'test_batch.bin'));
    const buf = readFileSync(join(dir, 'test_batch.bin'));
    buf[5] ^= 0xff; // a pixel byte: size and labels stay valid, only the md5 catches it
    writeFileSync(join(dir, 'test_batch.bin'), buf);
    assert.throws(() => readBatchFile(dir, 'test_batch.bin'), /md5 [0-9a-f]{32}, expected the official 803d5f7f4d78ea53de84dbe85f74fb6d/);
    // a folder the user named is never downloaded into: the fix is to replace the file, not to rerun
    assert.throws(() => readBatchFile(dir, 'test_batch.bin'), /replace it with the official test_batch\.bin .*point --data/);
    // the download cache is refetched by a rerun
    const saved = process.env.AURAPRUNE_CACHE;
    process.env.AURAPRUNE_CACHE = dir;
    try {
      assert.throws(() => readBatchFile(dir, 'test_batch.bin'), /it is corrupt; delete it and rerun to download it again/);
    } finally {
      if (saved === undefined) delete process.env.AURAPRUNE_CACHE;
      else process.env.AURAPRUNE_CACHE = saved;
    }
  });
  test('untar reads files written by GNU tar; an archive without the batches is refused', () => {
    const src = join(tmp, 'tarsrc');
    execFileSync('mkdir', ['-p', join(src, 'cifar-10-batches-bin')]);
    writeFileSync(join(src, 'cifar-10-batches-bin', 'a.txt'), 'hello');
    writeFileSync(join(src, 'cifar-10-batches-bin', 'b.bin'), new Uint8Array(1500).fill(7));
    const tarPath = join(tmp, 'x.tar');
    execFileSync('tar', ['-cf', tarPath, '-C', src, 'cifar-10-batches-bin']);
    const files = untar(readFileSync(tarPath));
    assert.equal(new TextDecoder().decode(files.get('a.txt')), 'hello');
    assert.equal(files.get('b.bin')!.length, 1500);
    assert.ok(files.get('b.bin')!.every((v) => v === 7));
    assert.throws(() => extractArchive(gzipSync(readFileSync(tarPath)), join(tmp, 'out')), /archive lacks data_batch_1\.bin/);
  });
});

describe('untrusted tar archives', () => {
  const header = (name: string, size: string) => {
    const h = new Uint8Array(512);
    h.set(new TextEncoder().encode(name), 0);
    h.set(new TextEncoder().encode(size), 124);
    h[156] = '0'.charCodeAt(0);
    return h;
  };
  test('negative, non-octal and oversize size fields are refused instead of looping', () => {
    for (const size of ['-1', '99999999999', 'zz']) {
      const tar = new Uint8Array(2048);
      tar.set(header('a.bin', size), 0);
      assert.throws(() => untar(tar), /invalid size field|runs past the end/, size);
    }
    const ok = new Uint8Array(2048);
    ok.set(header('a.bin', '00000000005'), 0);
    ok.set([1, 2, 3, 4, 5], 512);
    assert.deepEqual(Array.from(untar(ok).get('a.bin')!), [1, 2, 3, 4, 5]);
  });
});
