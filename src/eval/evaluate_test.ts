import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { setFallbackLogger, useBestBackend } from '../engine/backend/index.js';
import { loadCifar10 } from '../data/cifar10.js';
import { buildAirbench } from '../models/airbench.js';
import { evaluate, ttaLogits } from './evaluate.js';
import { CIFAR_DIR, NEEDS_CIFAR, normalisedImages } from '../../tests/helpers/fixtures.js';

before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
});

describe('test-time augmentation', NEEDS_CIFAR, () => {
  const data = loadCifar10(CIFAR_DIR, 'test', { limit: 24 });
  const model = buildAirbench({ width: 0.125, seed: 4 });

  test('on flip-symmetric images, mirror TTA equals plain evaluation', () => {
    // make every image symmetric: right half = mirror of the left half
    const sym = { ...data, images: data.images.slice() };
    for (let i = 0; i < sym.n; i++)
      for (let y = 0; y < 32; y++)
        for (let x = 16; x < 32; x++)
          for (let c = 0; c < 3; c++) {
            sym.images[i * 3072 + (y * 32 + x) * 3 + c] = sym.images[i * 3072 + (y * 32 + 31 - x) * 3 + c];
          }
    const plain = evaluate(model, sym),
      mirror = evaluate(model, sym, { tta: 1 });
    assert.equal(mirror.accuracy, plain.accuracy);
    assert.ok(Math.abs(mirror.loss - plain.loss) < 1e-5, `${mirror.loss} vs ${plain.loss}`);
    assert.deepEqual(mirror.confusion, plain.confusion);
  });

  test('level 2 equals the hand-built average of 6 views (mirror, +-1 pixel reflect shifts)', () => {
    const n = 8;
    const buf = normalisedImages(data, n);
    const refl = (i: number) => (i < 0 ? -i : i > 31 ? 62 - i : i);
    const view = (flip: boolean, d: number) => {
      const out = new Float32Array(n * 3072);
      for (let b = 0; b < n; b++)
        for (let y = 0; y < 32; y++)
          for (let x = 0; x < 32; x++)
            for (let c = 0; c < 3; c++) {
              const sy = refl(y + d),
                sx0 = refl(x + d);
              out[b * 3072 + (y * 32 + x) * 3 + c] = buf[b * 3072 + (sy * 32 + (flip ? 31 - sx0 : sx0)) * 3 + c];
            }
      return tf.tensor4d(out, [n, 32, 32, 3]);
    };
    // translated views are mirrored after the shift in our implementation (flip of the shifted image)
    const viewShiftThenFlip = (flip: boolean, d: number) => {
      const shifted = view(false, d);
      const r = flip ? tf.reverse(shifted, 2) : shifted;
      return r as tf.Tensor4D;
    };
    const logits = (t: tf.Tensor4D) => model.predict(t) as tf.Tensor2D;
    const want = tf.tidy(() => {
      const m0 = tf.mul(tf.add(logits(view(false, 0)), logits(view(true, 0))), 0.5);
      const mA = tf.mul(tf.add(logits(viewShiftThenFlip(false, -1)), logits(viewShiftThenFlip(true, -1))), 0.5);
      const mB = tf.mul(tf.add(logits(viewShiftThenFlip(false, 1)), logits(viewShiftThenFlip(true, 1))), 0.5);
      return tf.add(tf.mul(m0, 0.5), tf.mul(tf.add(mA, mB), 0.25)).dataSync();
    });
    const got = tf.tidy(() => ttaLogits(model, tf.tensor4d(buf, [n, 32, 32, 3]), 2).dataSync());
    for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-4, `logit ${i}: ${got[i]} vs ${want[i]}`);
    // and it is not the plain logits (the views matter)
    const plain = tf.tidy(() => logits(tf.tensor4d(buf, [n, 32, 32, 3])).dataSync());
    assert.ok(got.some((v, i) => Math.abs(v - plain[i]) > 1e-4));
  });
});
