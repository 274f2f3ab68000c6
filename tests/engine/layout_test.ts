/**
 * The two memory formats the native convolution, pooling and batch-norm-gradient kernels run in:
 * contiguous NCHW (default) and channels_last (NHWC in memory, tfjs's own layout). Where activations
 * live in each, and that a conv -> BN -> ReLU -> pool -> conv chain, forward and backward, copies no
 * operand into another layout once its input is in place (counted in the addon). Numerical agreement
 * with the CPU reference in both layouts is in kernels_conformance_test.ts and the training test. Also:
 * converted convolution weights are cached, never past their tensor's life or an in-place change.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { HAVE_LIBTORCH } from '../helpers/backends.js';
import { nativeAddon } from '../../src/engine/backend/index.js';
import type { LibtorchBackend } from '../../src/engine/backend/backend_libtorch.js';

const skip = !HAVE_LIBTORCH && 'libtorch addon not built';

describe('layouts', { skip }, () => {
  const addon = () => nativeAddon()!;
  const initial = HAVE_LIBTORCH ? addon().setLayout() : 'nchw';
  // these are the dense layouts; inference's blocked one is blocked_test.ts
  const blocked = HAVE_LIBTORCH ? addon().setBlockedInference(false) : false;
  after(() => {
    if (HAVE_LIBTORCH) addon().setLayout(initial);
    if (HAVE_LIBTORCH) addon().setBlockedInference(blocked);
  });
  const conv = (x: tf.Tensor, cin: number, cout: number) =>
    tf.conv2d(x as tf.Tensor4D, tf.ones([3, 3, cin, cout]) as tf.Tensor4D, 1, 'same');
  const chain = (x: tf.Tensor) => {
    const c1 = conv(x, 3, 4);
    const bn = tf.batchNorm(c1, tf.fill([4], 0.5), tf.fill([4], 2), tf.zeros([4]), tf.ones([4]));
    return conv(tf.maxPool(tf.relu(bn) as tf.Tensor4D, 2, 2, 'valid'), 4, 5);
  };

  test('nchw: conv outputs are NCHW in memory, seen by tfjs as a strided NHWC view', () => {
    tf.setBackend('libtorch');
    addon().setLayout('nchw');
    const be = tf.backend() as LibtorchBackend;
    const y = conv(tf.ones([2, 5, 6, 3]), 3, 4);
    // logical [N,H,W,C] over physical [N,C,H,W]: C has stride H*W, W has stride 1
    assert.deepEqual(addon().strides(be.handle(y)), [4 * 5 * 6, 6, 1, 5 * 6]);
    const r = tf.relu(y);
    assert.deepEqual(addon().strides(be.handle(r)), [4 * 5 * 6, 6, 1, 5 * 6], 'element-wise ops keep the layout');
    tf.dispose([y, r]);
  });

  test('channels_last: conv outputs are NHWC in memory, plain contiguous tensors for tfjs', () => {
    tf.setBackend('libtorch');
    addon().setLayout('channels_last');
    const be = tf.backend() as LibtorchBackend;
    const y = conv(tf.ones([2, 5, 6, 3]), 3, 4);
    assert.deepEqual(addon().strides(be.handle(y)), [5 * 6 * 4, 6 * 4, 4, 1]);
    const p = tf.maxPool(tf.relu(y) as tf.Tensor4D, 2, 2, 'valid');
    assert.deepEqual(addon().strides(be.handle(p)), [2 * 3 * 4, 3 * 4, 4, 1], 'pooling keeps channels_last');
    tf.dispose([y, p]);
  });

  for (const layout of ['nchw', 'channels_last'] as const) {
    test(`${layout}: conv -> BN -> ReLU -> pool -> conv copies only the input image into the layout, forward and backward`, () => {
      tf.setBackend('libtorch');
      addon().setLayout(layout);
      const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 1);
      addon().layoutCopies(true);
      const y = chain(x);
      y.dataSync();
      // the image arrives NHWC from JS: already channels_last, one copy to reach contiguous NCHW
      assert.equal(addon().layoutCopies(true), layout === 'nchw' ? 1 : 0, `${layout} forward`);
      // a weighted sum as the loss: the gradient of a plain sum is a zero-stride broadcast, which any
      // layout has to materialise once
      const w = tf.randomNormal(y.shape, 0, 1, 'float32', 2);
      const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(chain(v), w)))(x);
      g.dataSync();
      // nchw copies the image for the forward and again for the first conv's filter gradient;
      // channels_last copies nothing: every gradient is born in the layout its kernel wants
      assert.equal(addon().layoutCopies(true), layout === 'nchw' ? 2 : 0, `${layout} forward + backward`);
      tf.dispose([x, y, w, g]);
    });
  }

  test('converted conv weights are reused only while their tensor lives unchanged', () => {
    // freed weights' memory is reused by the next ones, and a variable's assign swaps its data: the
    // cache must never hand back the old conversion (checked against the CPU reference)
    const x = tf.tensor4d(
      Float32Array.from({ length: 2 * 6 * 6 * 3 }, (_, i) => Math.sin(i)),
      [2, 6, 6, 3],
    );
    const ref = (w: Float32Array) => {
      tf.setBackend('cpu');
      const out = tf.tidy(() =>
        tf.conv2d(tf.tensor4d(Array.from(x.dataSync()), x.shape), tf.tensor4d(w, [3, 3, 3, 4]), 1, 'same').dataSync(),
      );
      tf.setBackend('libtorch');
      return out;
    };
    tf.setBackend('libtorch');
    const v = tf.variable(tf.zeros([3, 3, 3, 4]));
    for (let k = 0; k < 30; k++) {
      const w = Float32Array.from({ length: 108 }, (_, i) => Math.cos(i * (k + 1)));
      const want = ref(w);
      const wt = tf.tensor4d(w, [3, 3, 3, 4]);
      for (const got of [tf.conv2d(x, wt, 1, 'same'), tf.conv2d(x, wt, 1, 'same')]) {
        got.dataSync().forEach((g, i) => assert.ok(Math.abs(g - want[i]) < 1e-4, `weights ${k}, fresh tensor, [${i}]`));
        got.dispose();
      }
      wt.dispose();
      v.assign(tf.tensor4d(w, [3, 3, 3, 4]));
      const viaVar = tf.conv2d(x, v as tf.Tensor4D, 1, 'same');
      viaVar.dataSync().forEach((g, i) => assert.ok(Math.abs(g - want[i]) < 1e-4, `weights ${k}, variable, [${i}]`));
      viaVar.dispose();
    }
    tf.dispose([x, v]);
  });
});
