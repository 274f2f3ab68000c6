/**
 * The tfjs internals this project relies on, each checked for the behaviour we use, so an upgrade
 * that changes one fails here, loudly and by name, rather than deep inside training or surgery.
 * tfjs is pinned to an exact version in package.json for the same reason.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { quietCpu } from './backend/index.js';
import '../models/tfjs_fixes.js';
import { consumersOf } from '../prune/graph/graph.js';

const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8'));

test('tfjs is pinned to one exact version and that version is the one installed', () => {
  for (const name of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-cpu']) {
    assert.match(pkg.dependencies[name], /^\d+\.\d+\.\d+$/, `${name} pinned exactly, not a range`);
    const installed = JSON.parse(readFileSync(join(import.meta.dirname, '../../node_modules', name, 'package.json'), 'utf8')).version;
    assert.equal(installed, pkg.dependencies[name], `${name} installed`);
  }
  assert.equal(tf.version_core, pkg.dependencies['@tensorflow/tfjs-core']);
  assert.equal(tfl.version_layers, pkg.dependencies['@tensorflow/tfjs-layers']);
});

function smallModel() {
  const x = tfl.input({ shape: [4, 4, 2], name: 'in' });
  const c = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'c1' }).apply(x) as tfl.SymbolicTensor;
  const b = tfl.layers.batchNormalization({ name: 'bn1' }).apply(c) as tfl.SymbolicTensor;
  const f = tfl.layers.flatten({ name: 'flat' }).apply(b) as tfl.SymbolicTensor;
  const d = tfl.layers.dense({ units: 2, name: 'fc' }).apply(f) as tfl.SymbolicTensor;
  return tfl.model({ inputs: x, outputs: d });
}

test('LayerVariable.read() is the tf.Variable behind a layer weight (the trainer and lookahead write through it)', () => {
  const m = smallModel();
  const lw = m.getLayer('c1').trainableWeights[0];
  const v = (lw as unknown as { read(): tf.Variable }).read();
  assert.ok(v instanceof tf.Variable, 'read() returns a tf.Variable');
  v.assign(tf.fill(v.shape, 0.25));
  assert.equal(m.getLayer('c1').getWeights()[0].dataSync()[5], 0.25, 'an assign through read() is what the layer uses');
  assert.equal(lw.originalName, 'c1/kernel', 'originalName is layer/weight (checkpoint keys)');
});

test('layer inboundNodes/inboundLayers give the coupling graph its edges', () => {
  const m = smallModel();
  const cons = consumersOf(m);
  assert.deepEqual(
    cons.get('c1')?.map((l) => l.name),
    ['bn1'],
  );
  assert.deepEqual(
    cons.get('flat')?.map((l) => l.name),
    ['fc'],
  );
  assert.equal(m.getLayer('fc').inboundNodes[0].inboundLayers[0].name, 'flat');
});

test('model.toJSON(null, false) is the topology object surgery and folding edit (class_name, config.layers[].config)', async () => {
  const m = smallModel();
  const json = m.toJSON(null, false) as unknown as {
    class_name: string;
    config: { layers: Array<{ class_name: string; config: { name: string; filters?: number } }> };
  };
  assert.equal(typeof json, 'object', 'an object, not a string, when returnString is false');
  assert.equal(json.class_name, 'Model');
  const conv = json.config.layers.find((l) => l.config.name === 'c1')!;
  assert.equal(conv.class_name, 'Conv2D');
  assert.equal(conv.config.filters, 3);
  // an edited topology builds a model (how surgery makes the smaller network)
  conv.config.filters = 2;
  const rebuilt = await tfl.models.modelFromJSON({ modelTopology: json as unknown as tf.io.ModelJSON['modelTopology'] } as never);
  assert.deepEqual(rebuilt.getLayer('c1').outputShape, [null, 4, 4, 2]);
});

test("the CPU backend's firstUse flag exists (quietCpu turns off its console advert)", () => {
  tf.setBackend('cpu');
  const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean };
  assert.equal(typeof cpu.firstUse, 'boolean');
  quietCpu();
  assert.equal(cpu.firstUse, false);
});

test('tfjs_fixes: a separable conv with depth multiplier 2 survives toJSON -> modelFromJSON (tfjs 4.22 drops it)', async () => {
  const x = tfl.input({ shape: [8, 8, 3] });
  const mk = () => tfl.layers.separableConv2d({ filters: 4, kernelSize: 3, depthMultiplier: 2, padding: 'same', name: 'sep' });
  const m = tfl.model({ inputs: x, outputs: mk().apply(x) as tfl.SymbolicTensor });
  const layer = m.getLayer('sep');
  assert.equal(layer.getConfig().depthMultiplier, 2, 'the fixed config carries it');
  // the library's own getConfig still drops it (else this fix can go)
  const libraryGetConfig = Object.getPrototypeOf(Object.getPrototypeOf(layer)).getConfig as () => Record<string, unknown>;
  assert.equal(libraryGetConfig.call(layer).depthMultiplier, undefined);
  const rebuilt = await tfl.models.modelFromJSON({ modelTopology: m.toJSON(null, false) } as never);
  assert.deepEqual(
    rebuilt
      .getLayer('sep')
      .getWeights()
      .map((w) => w.shape),
    [[3, 3, 3, 2], [1, 1, 6, 4], [4]],
  );
});
