import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { setFallbackLogger, useBestBackend } from '../engine/backend/index.js';
import { buildAirbench } from '../models/airbench.js';
import { Lookahead } from './lookahead.js';
import { airbenchRule, airbenchRecipe, PRESETS } from './recipes.js';
import { optimiserFor } from './loop.js';
import { lrAt } from './schedule.js';
import { Param, Sgd } from './sgd.js';

before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
});

function params(model: tfl.LayersModel): Param[] {
  return model.trainableWeights.map((w) => ({ key: w.originalName, variable: (w as unknown as { read(): tf.Variable }).read() }));
}

describe('airbench recipe', () => {
  test('hyper-parameters follow the reference scaling: lr 1.5 and decay 0.0020/step at batch 1024', () => {
    const p = PRESETS.airbench;
    assert.ok(Math.abs(p.lr! - (11.5 * 1024) / (1024 * (1 + 1 / 0.15))) < 1e-12);
    assert.ok(Math.abs(p.lr! - 1.5) < 0.001);
    assert.ok(Math.abs(p.weightDecay! - 0.0019957) < 1e-6);
  });

  test('linear schedule: x0.2 at step 0, x1 at 23%, x0.07 at the end (hand values)', () => {
    const o = { lr: 2, schedule: 'linear' as const };
    assert.ok(Math.abs(lrAt(0, 100, o) - 0.4) < 1e-12);
    assert.ok(Math.abs(lrAt(23, 100, o) - 2) < 1e-12);
    assert.ok(Math.abs(lrAt(100, 100, o) - 0.14) < 1e-12);
    assert.ok(Math.abs(lrAt(11, 100, o) - 2 * (0.2 + (0.8 * 11) / 23)) < 1e-12);
    assert.ok(Math.abs(lrAt(50, 100, o) - 2 * (1 - (0.93 * 27) / 77)) < 1e-12);
  });

  test('one SGD step: BN scales and whitening filters frozen, BN biases move 64x, head 1/81x, whitening bias frozen after epoch 3', () => {
    const model = buildAirbench({ width: 0.125, seed: 2 });
    const ps = params(model);
    const lr = 0.1,
      decay = 0.01;
    const rule = airbenchRule(lr, decay);
    const sgd = new Sgd({ momentum: 0.85, nesterov: true, weightDecay: decay, rule });
    const before = new Map(ps.map((p) => [p.key, p.variable.dataSync().slice()]));
    // a gradient of ones for every parameter makes each group's step analytic: first Nesterov step
    // = (1 + m) * (g + l2 * w) * lr * lrScale
    const grads: tf.NamedTensorMap = Object.fromEntries(ps.map((p) => [p.variable.name, tf.onesLike(p.variable)]));
    sgd.apply(ps, grads, lr, 1);
    const after = new Map(ps.map((p) => [p.key, p.variable.dataSync().slice()]));
    const stepOf = (key: string, lrScale: number, i = 0) => {
      const w = before.get(key)![i];
      const l2 = decay / (lr * lrScale);
      return (1 + 0.85) * (1 + l2 * w) * lr * lrScale;
    };
    for (const [key, w0] of before) {
      const w1 = after.get(key)!;
      if (key === 'whiten/kernel' || key.endsWith('/gamma')) assert.deepEqual(w1, w0, `${key} must not change`);
    }
    for (const [key, scale] of [
      ['b1_bn1/beta', 64],
      ['head/kernel', 1 / 81],
      ['b2_conv1/kernel', 1],
      ['whiten/bias', 1],
    ] as const) {
      const got = before.get(key)![0] - after.get(key)![0];
      assert.ok(Math.abs(got - stepOf(key, scale)) < 1e-5 * Math.max(1, Math.abs(got)), `${key}: step ${got} vs ${stepOf(key, scale)}`);
    }
    // epoch 4: the whitening bias is frozen
    const wb = ps
      .find((p) => p.key === 'whiten/bias')!
      .variable.dataSync()
      .slice();
    sgd.apply(ps, grads, lr, 4);
    assert.deepEqual(ps.find((p) => p.key === 'whiten/bias')!.variable.dataSync(), wb);
    tf.dispose(Object.values(grads));
    sgd.dispose();
  });

  test('under a sparsity penalty (trainScales) the BN scales take the weights step: (1 + m) * (g + l2 * w) * lr', () => {
    const model = buildAirbench({ width: 0.125, seed: 2 });
    const ps = params(model);
    const lr = 0.1,
      decay = 0.01;
    const sgd = new Sgd({ momentum: 0.85, nesterov: true, weightDecay: decay, rule: airbenchRule(lr, decay, { trainScales: true }) });
    const gammas = ps.filter((p) => p.key.endsWith('/gamma'));
    assert.ok(gammas.length > 0);
    const before = gammas.map((p) => p.variable.dataSync()[0]);
    const grads: tf.NamedTensorMap = Object.fromEntries(ps.map((p) => [p.variable.name, tf.onesLike(p.variable)]));
    sgd.apply(ps, grads, lr, 1);
    gammas.forEach((p, i) => {
      const want = (1 + 0.85) * (1 + (decay / lr) * before[i]) * lr;
      const got = before[i] - p.variable.dataSync()[0];
      assert.ok(Math.abs(got - want) < 1e-5, `${p.key}: step ${got} vs ${want}`);
    });
    tf.dispose(Object.values(grads));
    sgd.dispose();
  });
});

describe('airbench recipe after slimming', () => {
  test('a model whose BN scales moved (pruned from a slimmed base) trains them; one with every scale at 1 keeps them frozen', () => {
    const cfg = airbenchRecipe({ epochs: 1, seed: 1 });
    for (const moved of [false, true]) {
      const model = buildAirbench({ width: 0.125, seed: 3 });
      const gamma = model.weights.find((w) => w.originalName === 'b1_bn1/gamma')!.read() as tf.Variable;
      if (moved) gamma.assign(tf.mul(gamma, 0.5));
      const g0 = gamma.dataSync().slice();
      const { ps, sgd } = optimiserFor(model, cfg);
      const grads: tf.NamedTensorMap = Object.fromEntries(ps.map((p) => [p.variable.name, tf.onesLike(p.variable)]));
      sgd.apply(ps, grads, cfg.lr, 1);
      const g1 = gamma.dataSync();
      if (moved)
        assert.ok(
          g1.every((g, i) => g < g0[i]),
          'a moved scale takes a step',
        );
      else assert.deepEqual(g1, g0, 'scales at 1 stay frozen');
      tf.dispose(Object.values(grads));
      sgd.dispose();
      model.dispose();
    }
  });
});

describe('lookahead', () => {
  test('update equals the hand-computed average and copies it into the weights', () => {
    const model = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [2], units: 1, kernelInitializer: 'zeros', biasInitializer: 'zeros' })],
    });
    const [k, b] = model.weights.map((w) => (w as unknown as { read(): tf.Variable }).read());
    const la = new Lookahead(model); // ema = [0, 0], 0
    k.assign(tf.tensor2d([[1], [3]]));
    b.assign(tf.tensor1d([2]));
    la.update(0.75); // ema = 0.75 * 0 + 0.25 * w
    assert.deepEqual(Array.from(k.dataSync()), [0.25, 0.75]);
    assert.deepEqual(Array.from(b.dataSync()), [0.5]);
    k.assign(tf.tensor2d([[2.25], [0.75]]));
    la.update(0.5); // ema = 0.5 * [0.25, 0.75] + 0.5 * [2.25, 0.75]
    assert.deepEqual(Array.from(k.dataSync()), [1.25, 0.75]);
    k.assign(tf.tensor2d([[9], [9]]));
    la.update(1); // decay 1: weights return to the average
    assert.deepEqual(Array.from(k.dataSync()), [1.25, 0.75]);
    // checkpoint round trip restores the average
    const saved = la.state();
    const la2 = new Lookahead(model, saved);
    k.assign(tf.tensor2d([[0], [0]]));
    la2.update(1);
    assert.deepEqual(Array.from(k.dataSync()), [1.25, 0.75]);
    la.dispose();
    la2.dispose();
  });
});
