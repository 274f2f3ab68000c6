/**
 * Inference in oneDNN's blocked layout (native registry.h): without a gradient tape, convolutions hand
 * their outputs on blocked, batch norm, ReLU/GELU/sigmoid/tanh, pooling and residual sums keep them
 * blocked, and any other op or a read gets one dense conversion. Checked here: the values equal the CPU
 * reference (model-shaped chains, the fallbacks, a weight that changes), tfjs sees NHWC shapes, a
 * conv -> BN -> ReLU -> pool -> conv chain converts only at its two ends (counted in the addon),
 * training makes no blocked tensors, and a blocked tensor read twice converts once.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { conform, HAVE_LIBTORCH, materialise } from '../helpers/backends.js';
import { buildAirbench } from '../../src/models/airbench.js';
import { nativeAddon } from '../../src/engine/backend/index.js';
import type { LibtorchBackend } from '../../src/engine/backend/backend_libtorch.js';

const skip = !HAVE_LIBTORCH && 'libtorch addon not built';
const TOL = { atol: 2e-4, rtol: 2e-4 };

describe('blocked inference', { skip }, () => {
  const addon = () => nativeAddon()!;
  const initial = HAVE_LIBTORCH ? addon().setBlockedInference(true) : true;
  after(() => {
    if (HAVE_LIBTORCH) addon().setBlockedInference(initial);
  });
  const w = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 0.3, 'float32', seed);
  const chain = (x: tf.Tensor) => {
    const c1 = tf.conv2d(x as tf.Tensor4D, w([3, 3, 3, 4], 1) as tf.Tensor4D, 1, 'same');
    const bn = tf.batchNorm(c1, tf.fill([4], 0.1), tf.fill([4], 2), tf.fill([4], 0.2), tf.fill([4], 1.5));
    return tf.conv2d(tf.maxPool(tf.relu(bn) as tf.Tensor4D, 2, 2, 'valid'), w([3, 3, 4, 5], 2) as tf.Tensor4D, 1, 'same');
  };

  test('conv -> BN -> ReLU -> pool -> conv converts once into the blocked layout and once out, equal to CPU', () => {
    conform('chain', [{ shape: [2, 8, 8, 3] }], chain, TOL);
    tf.setBackend('libtorch');
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 3);
    addon().reorders(true);
    const y = chain(x);
    assert.deepEqual(addon().reorders(), [1, 0], 'the image is converted; nothing in the chain goes back to dense');
    assert.deepEqual(y.shape, [2, 4, 4, 5], 'tfjs sees NHWC');
    assert.deepEqual(addon().shape((tf.backend() as LibtorchBackend).handle(y)), [2, 4, 4, 5]);
    y.dataSync();
    y.dataSync();
    assert.deepEqual(addon().reorders(true), [1, 1], 'reading converts once');
    tf.dispose([x, y]);
  });

  test('a blocked tensor used by several dense-only ops converts once', () => {
    tf.setBackend('libtorch');
    const x = tf.randomNormal([1, 6, 6, 3], 0, 1, 'float32', 4);
    const y = tf.conv2d(x as tf.Tensor4D, w([3, 3, 3, 2], 5) as tf.Tensor4D, 1, 'same');
    addon().reorders(true);
    const a = tf.sum(y),
      b = tf.mean(y),
      c = tf.reshape(y, [-1]);
    assert.deepEqual(addon().reorders(true), [0, 1]);
    tf.dispose([x, y, a, b, c]);
  });

  test('training makes no blocked tensors: under a gradient tape the convolution stays dense', () => {
    tf.setBackend('libtorch');
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 6);
    addon().reorders(true);
    const g = tf.grad((v: tf.Tensor) => tf.sum(chain(v)))(x);
    g.dataSync();
    assert.deepEqual(addon().reorders(true), [0, 0]);
    tf.dispose([x, g]);
  });

  test('fused conv + bias + ReLU / sigmoid / ELU, depthwise, residual add, GELU, tanh, average pool equal CPU', () => {
    const k = (seed: number, shape: number[]) => w(shape, seed) as tf.Tensor4D;
    for (const activation of ['relu', 'sigmoid', 'elu', 'linear'] as const)
      conform(
        `fused ${activation}`,
        [{ shape: [2, 7, 7, 3] }, { shape: [4] }],
        (x, b) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: k(7, [3, 3, 3, 4]), bias: b, activation, strides: 1, pad: 'same' }),
        TOL,
      );
    conform(
      'residual block',
      [{ shape: [2, 6, 6, 4] }],
      (x) => {
        const a = tf.relu(tf.conv2d(x as tf.Tensor4D, k(8, [3, 3, 4, 4]), 1, 'same'));
        const b = tf.conv2d(a as tf.Tensor4D, k(9, [3, 3, 4, 4]), 1, 'same');
        const c = tf.conv2d(x as tf.Tensor4D, k(10, [1, 1, 4, 4]), 1, 'same');
        return tf.avgPool(tf.tanh(tf.add(b, c)) as tf.Tensor4D, 3, 1, 'same');
      },
      TOL,
    );
    conform(
      'depthwise, sigmoid, average pool (valid)',
      [{ shape: [2, 8, 8, 3] }],
      (x) => {
        const d = tf.depthwiseConv2d(x as tf.Tensor4D, k(11, [3, 3, 3, 2]), 1, 'same');
        return tf.avgPool(tf.sigmoid(d) as tf.Tensor4D, 2, 2, 'valid');
      },
      TOL,
    );
    conform(
      'residual add of a blocked and a dense tensor',
      [{ shape: [1, 5, 5, 3] }, { shape: [1, 5, 5, 3] }],
      (x, r) => tf.add(tf.conv2d(x as tf.Tensor4D, k(12, [1, 1, 3, 3]), 1, 'same'), r),
      TOL,
    );
  });

  test('ReLU6 and ClipByValue of blocked activations equal CPU, and stay blocked where the addon has oneDNN clip', () => {
    const k = (seed: number, shape: number[]) => tf.mul(w(shape, seed), 4) as tf.Tensor4D; // outputs beyond 6 and below 0
    conform(
      'MobileNetV2-style: conv -> BN -> ReLU then clip 6 (tfjs-layers ReLU maxValue) -> depthwise -> relu6 -> conv',
      [{ shape: [2, 7, 7, 3] }],
      (x) => {
        const c = tf.conv2d(x as tf.Tensor4D, k(30, [1, 1, 3, 8]), 1, 'same');
        const bn = tf.batchNorm(c, tf.fill([8], 0.1), tf.fill([8], 2), tf.fill([8], 0.2), tf.fill([8], 1.5));
        const a = tf.clipByValue(tf.relu(bn), 0, 6);
        const d = tf.relu6(tf.depthwiseConv2d(a as tf.Tensor4D, k(31, [3, 3, 8, 1]), 1, 'same'));
        return tf.conv2d(d as tf.Tensor4D, k(32, [1, 1, 8, 4]), 1, 'same');
      },
      TOL,
    );
    conform(
      'clip with other bounds, and a fused conv with relu6',
      [{ shape: [1, 6, 6, 3] }, { shape: [5] }],
      (x, b) => {
        const y = tf.fused.conv2d({
          x: x as tf.Tensor4D,
          filter: k(33, [3, 3, 3, 5]),
          bias: b,
          activation: 'relu6',
          strides: 1,
          pad: 'same',
        });
        return tf.clipByValue(tf.conv2d(y, k(34, [1, 1, 5, 5]), 1, 'same'), -1.5, 2.25);
      },
      TOL,
    );
    tf.setBackend('libtorch');
    const x = tf.randomNormal([2, 6, 6, 3], 0, 1, 'float32', 35);
    addon().reorders(true);
    const y = tf.conv2d(
      tf.relu6(tf.conv2d(x as tf.Tensor4D, k(36, [3, 3, 3, 4]), 1, 'same')) as tf.Tensor4D,
      k(37, [1, 1, 4, 4]),
      1,
      'same',
    );
    const z = tf.clipByValue(y, 0, 6);
    z.dataSync();
    // with oneDNN's clip the chain converts only at its ends; without it each clip goes dense (and the
    // next conv converts back)
    assert.deepEqual(addon().reorders(true), addon().blockedClip ? [1, 1] : [2, 3]);
    tf.dispose([x, y, z]);
  });

  test('global average pooling (a mean over H and W) of a blocked activation pools before converting, equal to CPU', () => {
    for (const keepDims of [false, true])
      conform(
        `mean over H, W (keepDims ${keepDims})`,
        [{ shape: [3, 5, 6, 4] }],
        (x) => tf.mean(tf.relu(tf.conv2d(x as tf.Tensor4D, w([3, 3, 4, 7], 19) as tf.Tensor4D, 1, 'same')), [1, 2], keepDims),
        TOL,
      );
    tf.setBackend('libtorch');
    const x = tf.randomNormal([2, 6, 6, 4], 0, 1, 'float32', 20);
    const y = tf.conv2d(x as tf.Tensor4D, w([3, 3, 4, 7], 21) as tf.Tensor4D, 1, 'same');
    addon().reorders(true);
    const m = tf.mean(y, [2, 1]);
    assert.deepEqual(m.shape, [2, 7]);
    m.dataSync();
    y.dataSync();
    // the pooled values leave the blocked layout inside MeanHW (not counted); the activation itself
    // is converted only when read
    assert.deepEqual(addon().reorders(true), [0, 1]);
    const plain = tf.mean(tf.add(x, 0), [1, 2]);
    assert.deepEqual(plain.shape, [2, 4], 'a dense input takes the plain mean');
    tf.dispose([x, y, m, plain]);
  });

  test('what the blocked path cannot express takes the dense one: asymmetric same padding, odd pools, BN without scale', () => {
    conform(
      'stride-2 same conv on an even input, same max pool on an odd one',
      [{ shape: [2, 8, 8, 3] }],
      (x) => {
        const y = tf.conv2d(x as tf.Tensor4D, w([3, 3, 3, 4], 13) as tf.Tensor4D, 2, 'same');
        const z = tf.conv2d(y as tf.Tensor4D, w([2, 2, 4, 4], 14) as tf.Tensor4D, 1, 'valid');
        return tf.maxPool(z as tf.Tensor4D, 2, 2, 'same');
      },
      TOL,
    );
    conform(
      'batch norm with offset only, broadcast statistics',
      [{ shape: [2, 4, 4, 3] }],
      (x) => {
        const c = tf.conv2d(x as tf.Tensor4D, w([1, 1, 3, 3], 15) as tf.Tensor4D, 1, 'same');
        const a = tf.batchNorm(c, tf.fill([3], 0.3), tf.fill([3], 1.7), tf.fill([3], -0.4));
        return tf.batchNorm(tf.relu(a), tf.fill([1, 1, 1, 3], 0.3), tf.fill([1, 1, 1, 3], 1.7));
      },
      TOL,
    );
  });

  test('a model (airbench: whitening conv, GELU, conv -> max-pool -> BN -> GELU blocks) predicts as on CPU, blocked to its head', () => {
    const [m] = materialise([{ shape: [4, 32, 32, 3] }], 18);
    const predict = (backend: string) => {
      tf.setBackend(backend);
      const model = buildAirbench({ width: 0.125, seed: 3 });
      const y = tf.tidy(() => (model.predict(tf.tensor4d(m.values as Float32Array, [4, 32, 32, 3])) as tf.Tensor).dataSync());
      model.dispose();
      return y;
    };
    const want = predict('cpu');
    addon().reorders(true);
    const got = predict('libtorch');
    // in: the image; out: once before the head's flatten (pooling, BN and GELU all stay blocked)
    assert.deepEqual(addon().reorders(true), [1, 1]);
    want.forEach((e, i) => assert.ok(Math.abs(got[i] - e) <= 2e-4 + 2e-4 * Math.abs(e), `logit [${i}] ${got[i]} vs ${e}`));
  });

  test('with the blocked path off the same chain makes no blocked tensors and gives the same values', () => {
    tf.setBackend('libtorch');
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 16);
    const on = chain(x).dataSync();
    addon().setBlockedInference(false);
    addon().reorders(true);
    const off = chain(x).dataSync();
    assert.deepEqual(addon().reorders(true), [0, 0]);
    addon().setBlockedInference(true);
    off.forEach((v, i) => assert.ok(Math.abs(v - on[i]) <= 1e-4 + 1e-4 * Math.abs(v), `[${i}] ${v} vs ${on[i]}`));
    x.dispose();
  });

  test('blocked weights follow their tensor: a variable assigned new values convolves with the new ones', () => {
    tf.setBackend('libtorch');
    const x = tf.randomNormal([1, 6, 6, 3], 0, 1, 'float32', 17);
    const v = tf.variable(tf.zeros([3, 3, 3, 2]));
    for (let k = 0; k < 5; k++) {
      const wv = Float32Array.from({ length: 54 }, (_, i) => Math.cos(i * (k + 1)));
      v.assign(tf.tensor4d(wv, [3, 3, 3, 2]));
      const got = tf.conv2d(x as tf.Tensor4D, v as tf.Tensor4D, 1, 'same').dataSync();
      tf.setBackend('cpu');
      const want = tf.conv2d(tf.tensor4d(x.dataSync(), [1, 6, 6, 3]), tf.tensor4d(wv, [3, 3, 3, 2]), 1, 'same').dataSync();
      tf.setBackend('libtorch');
      want.forEach((e, i) => assert.ok(Math.abs(got[i] - e) <= 1e-4 + 1e-4 * Math.abs(e), `weights ${k} [${i}]`));
    }
    tf.dispose([x, v]);
  });
});
