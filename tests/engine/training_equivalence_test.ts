/**
 * End to end: a small CNN (conv/BN/ReLU/pool/dense, as tfjs-layers dispatches them in training)
 * from the same initial weights, trained 5 SGD-momentum steps on the CPU reference backend and on
 * libtorch, gives the same losses within 1e-3 relative; and 200 libtorch training steps leak no
 * tensors and no native bytes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { HAVE_LIBTORCH } from '../helpers/backends.js';
import { Rng } from '../../src/util/rng.js';

const skip = !HAVE_LIBTORCH && 'libtorch addon not built';

function smallCnn(): tfl.Sequential {
  const m = tfl.sequential();
  m.add(
    tfl.layers.conv2d({
      filters: 8,
      kernelSize: 3,
      padding: 'same',
      inputShape: [12, 12, 3],
      kernelInitializer: tfl.initializers.heNormal({ seed: 1 }),
    }),
  );
  m.add(tfl.layers.batchNormalization({}));
  m.add(tfl.layers.reLU());
  m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  m.add(
    tfl.layers.conv2d({
      filters: 12,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      kernelInitializer: tfl.initializers.heNormal({ seed: 2 }),
    }),
  );
  m.add(tfl.layers.batchNormalization({}));
  m.add(tfl.layers.reLU());
  m.add(tfl.layers.globalAveragePooling2d({}));
  m.add(tfl.layers.dense({ units: 5, kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }));
  return m;
}

function data(n: number): { x: tf.Tensor; y: tf.Tensor } {
  const rng = new Rng(7);
  return {
    x: tf.tensor4d(
      Float32Array.from({ length: n * 12 * 12 * 3 }, () => rng.normal()),
      [n, 12, 12, 3],
    ),
    y: tf.oneHot(
      tf.tensor1d(
        Int32Array.from({ length: n }, () => rng.int(5)),
        'int32',
      ),
      5,
    ),
  };
}

function train(backend: string, steps: number, weights?: tf.Tensor[]): { losses: number[]; weights: tf.Tensor[] } {
  tf.setBackend(backend);
  const model = smallCnn();
  if (weights) model.setWeights(weights);
  const init = model.getWeights().map((w) => w.clone());
  const { x, y } = data(16);
  const opt = tf.train.momentum(0.05, 0.9);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    losses.push(
      tf.tidy(
        () =>
          opt
            .minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true)!
            .dataSync()[0],
      ),
    );
  }
  tf.dispose([x, y]);
  opt.dispose();
  model.dispose();
  return { losses, weights: init };
}

test('5 SGD steps: libtorch losses equal the CPU backend within 1e-3 relative, in both memory layouts', { skip }, async () => {
  const { nativeAddon } = await import('../../src/engine/backend/index.js');
  const cpu = train('cpu', 5);
  const initial = nativeAddon()!.setLayout();
  for (const layout of ['nchw', 'channels_last'] as const) {
    nativeAddon()!.setLayout(layout);
    const lt = train(
      'libtorch',
      5,
      cpu.weights.map((w) => tf.tensor(w.dataSync(), w.shape)),
    );
    for (let i = 0; i < 5; i++) {
      assert.ok(
        Math.abs(lt.losses[i] - cpu.losses[i]) <= 1e-3 * Math.abs(cpu.losses[i]),
        `${layout} step ${i}: libtorch ${lt.losses[i]} vs cpu ${cpu.losses[i]}`,
      );
    }
  }
  nativeAddon()!.setLayout(initial);
  assert.ok(cpu.losses[4] < cpu.losses[0], 'the loss falls (the comparison is not between constants)');
});

test('200 training steps keep tensor count and native bytes constant', { skip }, async () => {
  tf.setBackend('libtorch');
  const model = smallCnn();
  const { x, y } = data(8);
  const opt = tf.train.momentum(0.01, 0.9);
  const step = () =>
    tf.tidy(() => {
      opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
    });
  step(); // optimizer slots are created on the first step
  const m0 = tf.memory() as tf.MemoryInfo & { numBytesInNative: number; numNativeTensors: number };
  for (let i = 0; i < 200; i++) step();
  const m1 = tf.memory() as tf.MemoryInfo & { numBytesInNative: number; numNativeTensors: number };
  assert.equal(m1.numTensors, m0.numTensors);
  assert.equal(m1.numNativeTensors, m0.numNativeTensors);
  assert.equal(m1.numBytesInNative, m0.numBytesInNative);
  // every step makes new conv weights; the conversions of the freed ones do not pile up in the cache
  const { nativeAddon } = await import('../../src/engine/backend/index.js');
  assert.ok(nativeAddon()!.weightCacheEntries() < 40, `weight cache holds ${nativeAddon()!.weightCacheEntries()} entries`);
  tf.dispose([x, y]);
  opt.dispose();
  model.dispose();
});
