import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { setFallbackLogger, useBestBackend } from '../../engine/backend/index.js';
import { CIFAR_MEAN, CIFAR_STD } from '../../data/pipeline.js';
import { Rng } from '../../util/rng.js';
import { pruningUnits } from '../graph/graph.js';
import { scoreModel } from './registry.js';
import { CIFAR10_INFO } from '../../data/dataset.js';

before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
});

function sample(n: number, seed: number) {
  const rng = new Rng(seed);
  return {
    images: Uint8Array.from({ length: n * 3072 }, () => rng.int(256)),
    info: CIFAR10_INFO,
    labels: Uint8Array.from({ length: n }, () => rng.int(10)),
    n,
  };
}
type T = tfl.SymbolicTensor;

test('taylor equals a hand computation: 1x1 conv -> global pooling -> dense, one batch', async () => {
  const x = tfl.input({ shape: [32, 32, 3] });
  const conv = tfl.layers.conv2d({ filters: 2, kernelSize: 1, name: 'c' });
  const dense = tfl.layers.dense({ units: 10, name: 'd' });
  const model = tfl.model({ inputs: x, outputs: dense.apply(tfl.layers.globalAveragePooling2d({}).apply(conv.apply(x))) as T });
  const W = [0.5, -0.3, 0.2, 0.8, -0.6, 0.1]; // [1,1,3,2]: W[ch*2 + f]
  const bias = [0.05, -0.02];
  const V = Array.from({ length: 20 }, (_, i) => Math.sin(i + 1) * 0.4); // [2,10]
  conv.setWeights([tf.tensor4d(W, [1, 1, 3, 2]), tf.tensor1d(bias)]);
  dense.setWeights([tf.tensor2d(V, [2, 10]), tf.zeros([10])]);
  const s = sample(16, 1);
  // by hand: h_f = sum_ch W[ch,f] mean_ch + b_f (means of the normalised image), p = softmax(h V),
  // dL/dh_f = sum_k (p_k - y_k) V[f,k] / n, and sum over filter f's weights of g*w = h_f dL/dh_f
  const want = [0, 0];
  for (let i = 0; i < s.n; i++) {
    const mean = [0, 0, 0];
    for (let p = 0; p < 1024; p++)
      for (let ch = 0; ch < 3; ch++) mean[ch] += (s.images[i * 3072 + p * 3 + ch] / 255 - CIFAR_MEAN[ch]) / CIFAR_STD[ch] / 1024;
    const h = [0, 1].map((f) => mean.reduce((a, m, ch) => a + m * W[ch * 2 + f], bias[f]));
    const z = Array.from({ length: 10 }, (_, k) => h[0] * V[k] + h[1] * V[10 + k]);
    const mx = Math.max(...z);
    const e = z.map((v) => Math.exp(v - mx));
    const p = e.map((v) => v / e.reduce((a, b) => a + b, 0));
    for (const f of [0, 1]) want[f] += (h[f] * p.reduce((a, pk, k) => a + (pk - (k === s.labels[i] ? 1 : 0)) * V[f * 10 + k], 0)) / s.n;
  }
  const [r] = await scoreModel(model, s, ['taylor'], { quiet: true });
  const got = Array.from(r.scores.find((u) => u.conv === 'c')!.scores);
  want.forEach((w, f) => assert.ok(Math.abs(got[f] - Math.abs(w)) < 1e-5 + 1e-3 * Math.abs(w), `filter ${f}: ${got[f]} vs ${Math.abs(w)}`));
});

test("taylor ranks a group's channels as the loss changes when their parameters shrink (finite differences, BN included)", async () => {
  const x = tfl.input({ shape: [32, 32, 3] });
  let y = tfl.layers
    .conv2d({ filters: 6, kernelSize: 3, padding: 'same', name: 'c1', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) })
    .apply(x) as T;
  y = tfl.layers.reLU().apply(tfl.layers.batchNormalization({ name: 'bn1' }).apply(y)) as T;
  y = tfl.layers
    .conv2d({
      filters: 4,
      kernelSize: 3,
      strides: 2,
      name: 'c2',
      activation: 'relu',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }),
    })
    .apply(y) as T;
  y = tfl.layers
    .dense({ units: 10, name: 'd', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) })
    .apply(tfl.layers.globalAveragePooling2d({}).apply(y)) as T;
  const model = tfl.model({ inputs: x, outputs: y });
  const bn = model.getLayer('bn1');
  bn.setWeights(bn.getWeights().map((w, i) => (i < 2 ? tf.tensor1d([0.5, 1.5, -0.8, 1.1, 0.3, 2.0].map((v) => v + i * 0.2)) : w)));
  const s = sample(32, 2);
  const [r] = await scoreModel(model, s, ['taylor'], { quiet: true });
  const taylor = Array.from(r.scores.find((u) => u.conv === 'c1')!.scores);
  // loss of the whole sample (one batch of 32) with channel c's parameters scaled by (1 - eps)
  const { fillBatch } = await import('../../data/pipeline.js');
  const buf = new Float32Array(32 * 3072);
  fillBatch(
    s,
    Array.from({ length: 32 }, (_, i) => i),
    buf,
    null,
  );
  const xs = tf.tensor4d(buf, [32, 32, 32, 3]);
  const ys = tf.oneHot(tf.tensor1d(s.labels, 'int32'), 10);
  const loss = () => tf.tidy(() => tf.losses.softmaxCrossEntropy(ys, model.predict(xs) as tf.Tensor).dataSync()[0]);
  const layers = ['c1', 'bn1'].map((n) => model.getLayer(n));
  const orig = layers.map((l) => l.getWeights().map((w) => w.clone()));
  const scaled = (c: number, eps: number) => {
    layers.forEach((l, li) =>
      l.setWeights(
        orig[li].map((w, wi) => {
          if (li === 1 && wi >= 2) return w; // moving statistics are not parameters
          const m = Array.from({ length: w.shape[w.rank - 1] }, (_, k) => (k === c ? 1 - eps : 1));
          return tf.mul(w, tf.tensor1d(m));
        }),
      ),
    );
    const v = loss();
    layers.forEach((l, li) => l.setWeights(orig[li]));
    return v;
  };
  const eps = 1e-2;
  const fd = taylor.map((_, c) => Math.abs((scaled(c, eps) - scaled(c, -eps)) / (2 * eps)));
  const order = (v: number[]) => v.map((_, i) => i).sort((a, b) => v[a] - v[b]);
  assert.deepEqual(
    order(taylor),
    order(fd),
    `taylor ${taylor.map((v) => v.toFixed(4))} vs finite differences ${fd.map((v) => v.toFixed(4))}`,
  );
  taylor.forEach((t, c) => assert.ok(Math.abs(t - fd[c]) < 0.05 * fd[c] + 1e-4, `channel ${c}: ${t} vs ${fd[c]}`));
});

test('bn-scale is |gamma| of the batch norms on the group (mean over a coupled group); equal gammas are refused', async () => {
  const x = tfl.input({ shape: [32, 32, 3] });
  const a = tfl.layers
    .batchNormalization({ name: 'bn_a' })
    .apply(tfl.layers.conv2d({ filters: 3, kernelSize: 1, name: 'a' }).apply(x)) as T;
  const b = tfl.layers
    .batchNormalization({ name: 'bn_b' })
    .apply(tfl.layers.conv2d({ filters: 3, kernelSize: 1, name: 'b' }).apply(x)) as T;
  const sum = tfl.layers.reLU().apply(tfl.layers.add().apply([a, b])) as T;
  const c = tfl.layers
    .batchNormalization({ name: 'bn_c' })
    .apply(tfl.layers.conv2d({ filters: 2, kernelSize: 1, name: 'c' }).apply(sum)) as T;
  const model = tfl.model({
    inputs: x,
    outputs: tfl.layers.dense({ units: 10 }).apply(tfl.layers.globalAveragePooling2d({}).apply(c)) as T,
  });
  const s = sample(8, 3);
  await assert.rejects(scoreModel(model, s, ['bn-scale'], { quiet: true }), /every batch-norm scale in the model is 1/);
  const setGamma = (name: string, g: number[]) => {
    const l = model.getLayer(name);
    l.setWeights(l.getWeights().map((w, i) => (i === 0 ? tf.tensor1d(g) : w)));
  };
  setGamma('bn_a', [0.5, -2, 1]);
  setGamma('bn_b', [1.5, 1, -0.2]);
  setGamma('bn_c', [-0.7, 0.3]);
  const units = pruningUnits(model);
  assert.deepEqual(units.map((u) => u.conv).sort(), ['a', 'c']);
  const [r] = await scoreModel(model, s, ['bn-scale'], { quiet: true });
  const by = Object.fromEntries(r.scores.map((u) => [u.conv, Array.from(u.scores).map((v) => +v.toFixed(6))]));
  assert.deepEqual(by.a, [1, 1.5, 0.6]);
  assert.deepEqual(by.c, [0.7, 0.3]);
});
