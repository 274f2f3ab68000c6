import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadModel, saveModel } from './io.js';
import { buildModel } from './zoo.js';

const dir = mkdtempSync(join(tmpdir(), 'auraprune-io-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('save + load round trip gives identical outputs (resnet20, functional with adds)', async () => {
  const m = buildModel('resnet20', { seed: 3 });
  const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 1);
  const y0 = (m.predict(x) as tf.Tensor).dataSync();
  await saveModel(m, join(dir, 'r20'));
  const m2 = await loadModel(join(dir, 'r20'));
  assert.deepEqual(Array.from((m2.predict(x) as tf.Tensor).dataSync()), Array.from(y0));
  const json = JSON.parse(readFileSync(join(dir, 'r20', 'model.json'), 'utf8'));
  assert.equal(json.format, 'layers-model');
  assert.deepEqual(json.weightsManifest[0].paths, ['weights.bin']);
});

test('corrupt or truncated model files give clear errors', async () => {
  const m = buildModel('resnet20', { width: 0.25 });
  await saveModel(m, join(dir, 'bad'));
  const w = readFileSync(join(dir, 'bad', 'weights.bin'));
  writeFileSync(join(dir, 'bad', 'weights.bin'), w.subarray(0, 100));
  await assert.rejects(loadModel(join(dir, 'bad')), /truncated or corrupt/);
  writeFileSync(join(dir, 'bad', 'model.json'), '{"modelTop');
  await assert.rejects(loadModel(join(dir, 'bad')), /not valid JSON/);
  await assert.rejects(loadModel(join(dir, 'nothing-here')), /no model at/);
});
