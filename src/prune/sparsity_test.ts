import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { setFallbackLogger, useBestBackend } from '../engine/backend/index.js';
import { optimiserFor, sgdStep, TrainConfig } from '../train/loop.js';
import { Rng } from '../util/rng.js';
import { SMALL_SGD } from '../../tests/helpers/fixtures.js';
import { sparsityGradients, sparsityLambda } from './sparsity.js';

before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
});

type T = tfl.SymbolicTensor;
/** conv (3 filters, bias) -> BN -> ReLU -> conv (2) -> BN -> global pooling -> dense */
function net(): tfl.LayersModel {
  const x = tfl.input({ shape: [32, 32, 3] });
  let y = tfl.layers
    .conv2d({
      filters: 3,
      kernelSize: 1,
      name: 'c1',
      biasInitializer: tfl.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 5 }),
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
    })
    .apply(x) as T;
  y = tfl.layers.reLU().apply(tfl.layers.batchNormalization({ name: 'bn1' }).apply(y)) as T;
  y = tfl.layers
    .batchNormalization({ name: 'bn2' })
    .apply(
      tfl.layers.conv2d({ filters: 2, kernelSize: 3, name: 'c2', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }).apply(y),
    ) as T;
  const m = tfl.model({
    inputs: x,
    outputs: tfl.layers
      .dense({ units: 10, name: 'head', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) })
      .apply(tfl.layers.globalAveragePooling2d({}).apply(y)) as T,
  });
  const bn1 = m.getLayer('bn1');
  bn1.setWeights(bn1.getWeights().map((w, i) => (i === 0 ? tf.tensor1d([0.5, -1.5, 2]) : i === 1 ? tf.tensor1d([0.1, 0.2, -0.3]) : w)));
  return m;
}

/** Weights after one plain SGD step (no momentum, no decay) on one batch, with and without the penalty. */
function oneStep(penalty?: (m: tfl.LayersModel) => Record<string, tf.Tensor>): Map<string, Float32Array> {
  const model = net();
  const cfg: TrainConfig = { ...SMALL_SGD, momentum: 0, nesterov: false, weightDecay: 0, labelSmoothing: 0 };
  const { ps, vars, sgd } = optimiserFor(model, cfg);
  const rng = new Rng(4);
  const images = Float32Array.from({ length: 8 * 3072 }, () => rng.normal());
  sgdStep(
    { model, vars, ps, sgd, cfg, penalty: penalty && (() => penalty(model)) },
    images,
    Int32Array.from({ length: 8 }, (_, i) => i),
    0.1,
    1,
  );
  return new Map(model.weights.map((w) => [w.originalName, (w as unknown as { read(): tf.Variable }).read().dataSync() as Float32Array]));
}

test('bn-l1: one step moves each gamma by -lr * lambda * sign(gamma) more than without it; nothing else moves', () => {
  const lambda = 0.05;
  const a = oneStep(),
    b = oneStep((m) => sparsityGradients(m, 'bn-l1', lambda));
  for (const [name, va] of a) {
    const vb = b.get(name)!;
    va.forEach((v, i) => {
      const want = /bn1\/gamma$/.test(name) ? -0.1 * lambda * Math.sign([0.5, -1.5, 2][i]) : 0;
      // bn2's gamma (all 1 at init) moves by -lr * lambda too
      const w2 = /bn2\/gamma$/.test(name) ? -0.1 * lambda : want;
      assert.ok(Math.abs(vb[i] - v - w2) < 1e-6, `${name}[${i}]: ${vb[i] - v} vs ${w2}`);
    });
  }
});

test('group-l2: one step moves each parameter of channel c by -lr * lambda * theta / ||theta_c|| (filter, bias, BN gamma and beta)', () => {
  const lambda = 0.02;
  const init = net();
  const w = (n: string) =>
    init
      .getLayer(n)
      .getWeights()
      .map((t) => Array.from(t.dataSync()));
  const [k1, b1] = w('c1'); // kernel [1,1,3,3]: k1[ch*3 + f]
  const [g1, be1] = w('bn1');
  const norms = [0, 1, 2].map((f) =>
    Math.sqrt([0, 1, 2].reduce((a, ch) => a + k1[ch * 3 + f] ** 2, 0) + b1[f] ** 2 + g1[f] ** 2 + be1[f] ** 2),
  );
  const a = oneStep(),
    b = oneStep((m) => sparsityGradients(m, 'group-l2', lambda));
  const delta = (name: string) => Array.from(b.get(name)!, (v, i) => v - a.get(name)![i]);
  const close = (got: number[], want: number[], what: string) =>
    got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-6, `${what}[${i}]: ${v} vs ${want[i]}`));
  close(
    delta('c1/kernel'),
    k1.map((v, i) => (-0.1 * lambda * v) / norms[i % 3]),
    'c1 kernel',
  );
  close(
    delta('c1/bias'),
    b1.map((v, f) => (-0.1 * lambda * v) / norms[f]),
    'c1 bias',
  );
  close(
    delta('bn1/gamma'),
    g1.map((v, f) => (-0.1 * lambda * v) / norms[f]),
    'bn1 gamma',
  );
  close(
    delta('bn1/beta'),
    be1.map((v, f) => (-0.1 * lambda * v) / norms[f]),
    'bn1 beta',
  );
  // the head's output is a model output: not a group, not penalised
  close(delta('head/kernel'), new Array(20).fill(0), 'head kernel');
});

test('growing: lambda rises linearly from 0 to its value over training', () => {
  assert.equal(sparsityLambda({ kind: 'bn-l1', lambda: 0.1, schedule: 'growing' }, 0), 0);
  assert.ok(Math.abs(sparsityLambda({ kind: 'bn-l1', lambda: 0.1, schedule: 'growing' }, 0.25) - 0.025) < 1e-12);
  assert.equal(sparsityLambda({ kind: 'bn-l1', lambda: 0.1 }, 0), 0.1);
});
