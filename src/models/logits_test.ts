import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { setFallbackLogger, useBestBackend } from '../engine/backend/index.js';
import { CIFAR10_INFO, type ImageSplit } from '../data/dataset.js';
import { evaluate } from '../eval/evaluate.js';
import { trainModel, TrainConfig } from '../train/loop.js';
import { Rng } from '../util/rng.js';
import { SMALL_SGD } from '../../tests/helpers/fixtures.js';
import { logitsView } from './logits.js';
import { loadModel } from './io.js';

const dir = mkdtempSync(join(tmpdir(), 'auraprune-logits-'));
after(() => rmSync(dir, { recursive: true, force: true }));
before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
});

function synthetic(n: number, seed: number): ImageSplit {
  const rng = new Rng(seed);
  const labels = Uint8Array.from({ length: n }, () => rng.int(10));
  // class-dependent brightness so there is something to learn
  const images = Uint8Array.from({ length: n * 3072 }, (_, i) => Math.min(255, labels[Math.floor(i / 3072)] * 20 + rng.int(60)));
  return { images, labels, n, info: CIFAR10_INFO };
}

/** conv -> flatten -> dense(10), with `head` deciding how the output ends. */
function net(head: 'logits' | 'softmax-layer' | 'softmax-activation'): tfl.LayersModel {
  const x = tfl.input({ shape: [32, 32, 3] });
  let y = tfl.layers
    .conv2d({ filters: 4, kernelSize: 3, strides: 4, name: 'c', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) })
    .apply(x) as tfl.SymbolicTensor;
  y = tfl.layers.flatten({ name: 'f' }).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers
    .dense({
      units: 10,
      name: 'd',
      activation: head === 'softmax-activation' ? 'softmax' : 'linear',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }),
    })
    .apply(y) as tfl.SymbolicTensor;
  if (head === 'softmax-layer') y = tfl.layers.softmax({ name: 'probs' }).apply(y) as tfl.SymbolicTensor;
  return tfl.model({ inputs: x, outputs: y });
}

const cfg: TrainConfig = { ...SMALL_SGD, lr: 0.05, schedule: 'constant', seed: 3, augment: { pad: 0, flip: false } };
const data = { train: synthetic(256, 1), val: synthetic(64, 2) };

test('a model ending in softmax (a layer or an activation) trains exactly as the same model without it', async () => {
  const ref = await trainModel(net('logits'), cfg, data, join(dir, 'ref'), { quiet: true });
  const want = ref.model.getWeights().map((w) => Array.from(w.dataSync()));
  for (const head of ['softmax-layer', 'softmax-activation'] as const) {
    const r = await trainModel(net(head), cfg, data, join(dir, head), { quiet: true });
    const got = r.model.getWeights().map((w) => Array.from(w.dataSync()));
    assert.equal(got.length, want.length, head);
    got.forEach((g, i) =>
      g.forEach((v, j) => assert.ok(Math.abs(v - want[i][j]) < 1e-5, `${head} weight ${i}[${j}]: ${v} vs ${want[i][j]}`)),
    );
  }
});

test('the logits view: softmax of it equals the model; evaluation reports the true cross-entropy of a softmax model', async () => {
  for (const head of ['softmax-layer', 'softmax-activation'] as const) {
    const m = net(head);
    const v = await logitsView(m);
    assert.ok(v.removed, head);
    const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 5);
    const p = (m.predict(x) as tf.Tensor).dataSync();
    const q = tf.softmax(v.model.predict(x) as tf.Tensor2D).dataSync();
    p.forEach((a, i) => assert.ok(Math.abs(a - q[i]) < 1e-6));
    const e1 = evaluate(m, data.val),
      e2 = evaluate(v.model, data.val);
    assert.equal(e1.accuracy, e2.accuracy);
    assert.ok(Math.abs(e1.loss - e2.loss) < 1e-4, `${head}: loss ${e1.loss} vs ${e2.loss}`);
  }
  assert.equal((await logitsView(net('logits'))).removed, null);
});

test("saved models keep the user's softmax (layer or activation), through a resume too", async () => {
  for (const head of ['softmax-layer', 'softmax-activation'] as const) {
    const out = join(dir, `saved-${head}`);
    // one epoch, then a resume to the second: the head must survive the checkpoint
    await trainModel(net(head), { ...cfg, epochs: 2, stopAfterEpochs: 1 }, data, out, { quiet: true });
    const r = await trainModel(net(head), { ...cfg, epochs: 2 }, data, out, { quiet: true, resume: true });
    const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 7);
    const want = tf.softmax(r.model.predict(x) as tf.Tensor2D).dataSync();
    for (const which of ['best', 'final']) {
      const saved = await loadModel(join(out, which));
      const last = saved.outputs[0].sourceLayer;
      const cfgLast = last.getConfig() as { activation?: string };
      assert.ok(last.getClassName() === 'Softmax' || cfgLast.activation === 'softmax', `${head} ${which}: ends in ${last.getClassName()}`);
      if (which === 'final') {
        const got = (saved.predict(x) as tf.Tensor).dataSync();
        got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-5, `${head}: ${v} vs ${want[i]}`));
      }
    }
  }
});

test('a model with Dropout trains to bit-identical weights twice with the same seed, and differently with another', async () => {
  const withDropout = () => {
    const x = tfl.input({ shape: [32, 32, 3] });
    let y = tfl.layers
      .conv2d({ filters: 4, kernelSize: 3, strides: 4, name: 'c', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) })
      .apply(x) as tfl.SymbolicTensor;
    y = tfl.layers.flatten().apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.dropout({ rate: 0.5 }).apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.gaussianNoise({ stddev: 0.1 }).apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.dense({ units: 10, kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }).apply(y) as tfl.SymbolicTensor;
    return tfl.model({ inputs: x, outputs: y });
  };
  const weights = async (seed: number, name: string) =>
    (await trainModel(withDropout(), { ...cfg, seed }, data, join(dir, name), { quiet: true })).model
      .getWeights()
      .map((w) => Array.from(w.dataSync()));
  const a = await weights(3, 'drop-a'),
    b = await weights(3, 'drop-b'),
    c = await weights(4, 'drop-c');
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});
