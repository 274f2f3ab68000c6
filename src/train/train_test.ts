import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { useBestBackend, setFallbackLogger } from '../engine/backend/index.js';
import { loadCifar10 } from '../data/cifar10.js';
import { subset, trainValSplit } from '../data/pipeline.js';
import { buildModel } from '../models/zoo.js';
import { loadModel } from '../models/io.js';
import { lrAt } from './schedule.js';
import { NonFiniteLossError, trainModel, TrainConfig } from './loop.js';
import { CIFAR_DIR, NEEDS_CIFAR, SMALL_SGD } from '../../tests/helpers/fixtures.js';

const DIR = CIFAR_DIR;
const tmp = mkdtempSync(join(tmpdir(), 'auraprune-train-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
});

const base: TrainConfig = SMALL_SGD;

describe('schedules', () => {
  test('cosine, step, onecycle and warm-up hit their defining points', () => {
    assert.equal(lrAt(0, 100, { lr: 1, schedule: 'cosine' }), 1);
    assert.ok(Math.abs(lrAt(50, 100, { lr: 1, schedule: 'cosine' }) - 0.5) < 1e-12);
    assert.equal(lrAt(60, 100, { lr: 1, schedule: 'step' }), 0.1);
    assert.ok(Math.abs(lrAt(80, 100, { lr: 1, schedule: 'step' }) - 0.01) < 1e-12);
    assert.ok(Math.abs(lrAt(25, 100, { lr: 1, schedule: 'onecycle' }) - 1) < 1e-12);
    assert.ok(Math.abs(lrAt(0, 100, { lr: 1, schedule: 'onecycle' }) - 0.04) < 1e-12);
    assert.ok(Math.abs(lrAt(0, 100, { lr: 1, schedule: 'constant', warmupSteps: 10 }) - 0.1) < 1e-12);
  });
});

describe('training on real CIFAR-10 subsets', NEEDS_CIFAR, () => {
  const all = loadCifar10(DIR, 'train', { limit: 2500 });
  const { train, val } = trainValSplit(all, 500, 1);

  test('learning signal: a small model on 2,000 images beats 30% validation accuracy after one epoch', async () => {
    const r = await trainModel(buildModel('fast', { width: 0.25, seed: 1 }), base, { train, val }, join(tmp, 'signal'), { quiet: true });
    assert.ok(r.bestValAcc > 0.3, `val acc ${r.bestValAcc}`);
    const m = readFileSync(join(tmp, 'signal', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(m.length, 1);
    assert.equal(m[0].valAcc, r.bestValAcc);
  });

  test('resume: interrupted after epoch 1 and resumed ends with the same weights as an uninterrupted run', async () => {
    const small = {
      train: subset(
        train,
        Array.from({ length: 256 }, (_, i) => i),
      ),
      val: subset(
        val,
        Array.from({ length: 64 }, (_, i) => i),
      ),
    };
    const cfg = { ...base, epochs: 2, lr: 0.02 };
    const a = await trainModel(buildModel('fast', { width: 0.125, seed: 2 }), cfg, small, join(tmp, 'a'), { quiet: true });
    const part = await trainModel(buildModel('fast', { width: 0.125, seed: 2 }), { ...cfg, stopAfterEpochs: 1 }, small, join(tmp, 'b'), {
      quiet: true,
    });
    assert.equal(part.finished, false);
    const b = await trainModel(buildModel('fast', { width: 0.125, seed: 99 }), cfg, small, join(tmp, 'b'), { quiet: true, resume: true });
    assert.equal(b.epochsRun, 1);
    const wa = a.model.getWeights(),
      wb = b.model.getWeights();
    assert.equal(wa.length, wb.length);
    let maxDiff = 0;
    wa.forEach((t, i) => {
      maxDiff = Math.max(maxDiff, tf.max(tf.abs(tf.sub(t, wb[i]))).dataSync()[0]);
    });
    assert.ok(maxDiff <= 1e-5, `max weight difference ${maxDiff}`);
    const final = await loadModel(join(tmp, 'b', 'final'));
    assert.equal(final.countParams(), a.model.countParams());
  });

  test('a diverging run stops with a clear message and keeps its checkpoint', async () => {
    const small = {
      train: subset(
        train,
        Array.from({ length: 128 }, (_, i) => i),
      ),
      val: subset(
        val,
        Array.from({ length: 32 }, (_, i) => i),
      ),
    };
    await assert.rejects(
      trainModel(
        buildModel('fast', { width: 0.125, seed: 3 }),
        { ...base, epochs: 3, lr: 1e30, schedule: 'constant' },
        small,
        join(tmp, 'nan'),
        { quiet: true },
      ),
      // diverged in the first epoch: the message must not promise a checkpoint that was never written
      (e: Error) => e instanceof NonFiniteLossError && /lower --lr/.test(e.message) && /no epoch finished/.test(e.message),
    );
  });
});
