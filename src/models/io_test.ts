import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
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

test('untrusted model directories: weights paths outside the directory, devices, symlinks, NaN weights are refused', async () => {
  const m = buildModel('resnet20', { width: 0.25 });
  const good = join(dir, 'good');
  await saveModel(m, good);
  const json = JSON.parse(readFileSync(join(good, 'model.json'), 'utf8'));
  const secret = join(dir, 'secret.bin');
  writeFileSync(secret, readFileSync(join(good, 'weights.bin'))); // the right size, outside the model dir
  const variant = (name: string, paths: string[]) => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'model.json'), JSON.stringify({ ...json, weightsManifest: [{ ...json.weightsManifest[0], paths }] }));
    return d;
  };
  for (const [name, p] of [
    ['dotdot', '../secret.bin'],
    ['abs', secret],
    ['dev', '/dev/zero'],
    ['sub', 'a/b.bin'],
  ] as const) {
    await assert.rejects(loadModel(variant(name, [p])), /only plain file names inside the model directory/, name);
  }
  // a symlink with a plain name that leaves the directory
  const ln = variant('link', ['weights.bin']);
  symlinkSync(secret, join(ln, 'weights.bin'));
  await assert.rejects(loadModel(ln), /not a regular file inside/);
  // sizes are checked before reading: a huge declared shape is refused without allocation
  const huge = join(dir, 'huge');
  mkdirSync(huge);
  const specs = json.weightsManifest[0].weights.map((w: { shape: number[] }, i: number) => (i === 0 ? { ...w, shape: [1e6, 1e6] } : w));
  writeFileSync(join(huge, 'model.json'), JSON.stringify({ ...json, weightsManifest: [{ paths: ['weights.bin'], weights: specs }] }));
  writeFileSync(join(huge, 'weights.bin'), new Uint8Array(56));
  await assert.rejects(loadModel(huge), /more than this tool loads/);
  // a NaN weight is named
  const nan = join(dir, 'nan');
  mkdirSync(nan);
  writeFileSync(join(nan, 'model.json'), JSON.stringify(json));
  const w = new Float32Array(new Uint8Array(readFileSync(join(good, 'weights.bin'))).buffer);
  w[3] = NaN;
  writeFileSync(join(nan, 'weights.bin'), new Uint8Array(w.buffer));
  await assert.rejects(loadModel(nan), new RegExp(`weight ${json.weightsManifest[0].weights[0].name} holds 1 NaN/Inf`));
  // the untouched copy still loads
  await loadModel(good);
});

test('a topology that does not match its weights manifest is refused before any layer is built', async () => {
  // the reported case: Dense(200000) beside a 56-byte weights file would allocate gigabytes if built
  const d = join(dir, 'oversize');
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'weights.bin'), Buffer.alloc(56));
  const topology = {
    class_name: 'Sequential',
    config: {
      name: 's',
      layers: [
        { class_name: 'Flatten', config: { name: 'f', batch_input_shape: [null, 2, 2, 3] } },
        { class_name: 'Dense', config: { name: 'big', units: 200000, use_bias: true } },
      ],
    },
  };
  // a 56-byte weights file declared as a 12x1 kernel and a bias of 2
  const manifest = [
    {
      paths: ['weights.bin'],
      weights: [
        { name: 'big/kernel', shape: [12, 1], dtype: 'float32' },
        { name: 'big/bias', shape: [2], dtype: 'float32' },
      ],
    },
  ];
  const writeJson = () => writeFileSync(join(d, 'model.json'), JSON.stringify({ modelTopology: topology, weightsManifest: manifest }));
  writeJson();
  const rss0 = process.memoryUsage().rss;
  await assert.rejects(loadModel(d), /layer big \(Dense\) declares 200000 units, which its weights manifest does not hold/);
  assert.ok(process.memoryUsage().rss - rss0 < 200 * 2 ** 20, 'nothing large was allocated');
  // an absurd input shape is refused too
  topology.config.layers[0].config.batch_input_shape = [null, 100000, 100000, 3];
  writeJson();
  await assert.rejects(loadModel(d), /declares input shape/);
});

test('every zoo model (and the airbench network) passes the topology check and round-trips', async () => {
  for (const name of ['airbench', 'vgg16', 'resnet20', 'resnet9', 'fast'] as const) {
    const m = buildModel(name, { width: 0.25, seed: 1 });
    await saveModel(m, join(dir, `zoo-${name}`));
    const back = await loadModel(join(dir, `zoo-${name}`));
    assert.equal(back.countParams(), m.countParams(), name);
  }
});

test('a separable conv saved without its depth multiplier (as plain tfjs saves it) loads with the multiplier from its weights; a contradicting one is named', async () => {
  const tfl = await import('@tensorflow/tfjs-layers');
  const x = tfl.input({ shape: [8, 8, 3] });
  const y = tfl.layers.separableConv2d({ filters: 4, kernelSize: 3, depthMultiplier: 2, name: 'sep2' }).apply(x) as tfl.SymbolicTensor;
  const m = tfl.model({ inputs: x, outputs: y });
  const d = join(dir, 'sep');
  await saveModel(m, d);
  const path = join(d, 'model.json');
  const json = JSON.parse(readFileSync(path, 'utf8'));
  const topo = json.modelTopology.model_config ?? json.modelTopology;
  const layer = topo.config.layers.find((l: { name?: string; config: { name: string } }) => (l.name ?? l.config.name) === 'sep2');
  delete layer.config.depth_multiplier;
  writeFileSync(path, JSON.stringify(json));
  const input = tf.randomNormal([1, 8, 8, 3], 0, 1, 'float32', 2);
  const back = await loadModel(d);
  assert.deepEqual(Array.from((back.predict(input) as tf.Tensor).dataSync()), Array.from((m.predict(input) as tf.Tensor).dataSync()));
  layer.config.depth_multiplier = 3;
  writeFileSync(path, JSON.stringify(json));
  await assert.rejects(
    loadModel(d),
    /layer sep2 \(SeparableConv2D\) declares depth_multiplier 3 but its depthwise kernel has shape \[3,3,3,2\]/,
  );
});

test('model.json: a link out of the model directory, a FIFO and a device are refused without reading them; parse errors do not quote the file', async () => {
  const m = buildModel('resnet20', { width: 0.25 });
  const d = join(dir, 'linked');
  await saveModel(m, d);
  const outside = join(dir, 'outside.json');
  writeFileSync(outside, 'root:x:0:0:root:/root:/bin/bash\n');
  rmSync(join(d, 'model.json'));
  symlinkSync(outside, join(d, 'model.json'));
  await assert.rejects(loadModel(d), /is a link to .*outside the model directory/);
  // a link inside the directory is fine to follow; its text is not quoted when it is not JSON
  writeFileSync(join(d, 'copy.json'), 'root:x:0:0:root:/root:/bin/bash\n');
  rmSync(join(d, 'model.json'));
  symlinkSync(join(d, 'copy.json'), join(d, 'model.json'));
  await assert.rejects(loadModel(d), (e: Error) => /is not valid JSON/.test(e.message) && !e.message.includes('root:x'));
  rmSync(join(d, 'model.json'));
  symlinkSync('/dev/zero', join(d, 'model.json'));
  await assert.rejects(loadModel(d), /outside the model directory|not a regular file/);
  rmSync(join(d, 'model.json'));
  const { execFileSync } = await import('node:child_process');
  execFileSync('mkfifo', [join(d, 'model.json')]);
  await assert.rejects(loadModel(d), /not a regular file/);
});

test('layer types outside the convolutional table, huge upsampling and activations past the budget are refused, naming the file and layer', async () => {
  const tfl = await import('@tensorflow/tfjs-layers');
  const save = async (m: import('@tensorflow/tfjs-layers').LayersModel, name: string) => {
    await saveModel(m, join(dir, name));
    return join(dir, name, 'model.json');
  };
  // a layer type whose weights are not checked against the manifest (here Conv1D; LSTM alike): refused before building
  const seq = tfl.sequential({ layers: [tfl.layers.conv1d({ filters: 4, kernelSize: 3, inputShape: [8, 2], name: 'c1d' })] });
  await save(seq, 'conv1d');
  await assert.rejects(loadModel(join(dir, 'conv1d')), /model\.json: layer c1d is a Conv1D, not a layer type auraprune loads/);
  // an upsampling by 1000 per axis
  const x = tfl.input({ shape: [8, 8, 3] });
  const up = tfl.model({
    inputs: x,
    outputs: tfl.layers.upSampling2d({ size: [2, 2], name: 'up' }).apply(x) as import('@tensorflow/tfjs-layers').SymbolicTensor,
  });
  const path = await save(up, 'up');
  const json = JSON.parse(readFileSync(path, 'utf8'));
  const topo = json.modelTopology.model_config ?? json.modelTopology;
  const upLayer = topo.config.layers.find((l: { config: { name: string } }) => l.config.name === 'up');
  upLayer.config.size = [1000, 1000];
  writeFileSync(path, JSON.stringify(json));
  await assert.rejects(loadModel(join(dir, 'up')), /layer up \(UpSampling2D\) scales by \[1000,1000\]; at most 64 per axis/);
  // a 1024x1024 input upsampled 16x: 805 M values per example, past the activation budget
  upLayer.config.size = [16, 16];
  const input = topo.config.layers.find((l: { class_name: string }) => l.class_name === 'InputLayer');
  input.config.batch_input_shape = [null, 1024, 1024, 3];
  writeFileSync(path, JSON.stringify(json));
  await assert.rejects(
    loadModel(join(dir, 'up')),
    /layer up \(UpSampling2D\) outputs \[16384,16384,3\] = 805306368 values per example, more than the 134217728/,
  );
});
