#!/usr/bin/env node
// Writes CIFAR-10 images as PNG files in an image-folder layout (train/<class>/N.png, test/<class>/N.png),
// the input of `auraprune bench data` (BENCHMARKS.md): node scripts/cifar-image-folder.mjs CIFAR_DIR OUT [TRAIN] [TEST]
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

const [dir, out, nTrain = '18000', nTest = '2000'] = process.argv.slice(2);
if (!dir || !out) {
  console.error('usage: node scripts/cifar-image-folder.mjs CIFAR_DIR OUT [TRAIN=18000] [TEST=2000]');
  process.exit(2);
}
const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const files = { train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`), test: ['test_batch.bin'] };
for (const [split, n] of [
  ['train', Number(nTrain)],
  ['test', Number(nTest)],
]) {
  for (const c of CLASSES) mkdirSync(join(out, split, c), { recursive: true });
  let k = 0;
  for (const f of files[split]) {
    const buf = readFileSync(join(dir, f));
    for (let r = 0; r < buf.length / 3073 && k < n; r += 64) {
      const jobs = [];
      for (let q = r; q < Math.min(r + 64, buf.length / 3073) && k < n; q++, k++) {
        const rec = buf.subarray(q * 3073, (q + 1) * 3073);
        // planar R, G, B -> interleaved
        const px = Buffer.alloc(3072);
        for (let p = 0; p < 1024; p++) for (let ch = 0; ch < 3; ch++) px[p * 3 + ch] = rec[1 + ch * 1024 + p];
        jobs.push(
          sharp(px, { raw: { width: 32, height: 32, channels: 3 } })
            .png()
            .toFile(join(out, split, CLASSES[rec[0]], `${k}.png`)),
        );
      }
      await Promise.all(jobs);
    }
  }
  console.log(`${split}: ${k} images`);
}
