import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { setFallbackLogger, useBestBackend } from '../../engine/backend/index.js';
import { loadCifar10 } from '../../data/cifar10.js';
import { fillBatch } from '../../data/pipeline.js';
import { countComplexity } from '../../eval/complexity.js';
import { loadModel, saveModel } from '../../models/io.js';
import { buildModel } from '../../models/zoo.js';
import { Rng } from '../../util/rng.js';
import { costModel } from '../select/cost.js';
import { selectGlobal, selectPerLayer } from '../select/select.js';
import { pruningUnits } from '../graph/graph.js';
import { pruneModel, zeroFilters } from './rebuild.js';
import { CIFAR_DIR, maxAbsDiff, NEEDS_CIFAR, randomiseBn } from '../../../tests/helpers/fixtures.js';

const DIR = CIFAR_DIR;
const tmp = mkdtempSync(join(tmpdir(), 'auraprune-prune-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
});

function images(n: number): tf.Tensor4D {
  const d = loadCifar10(DIR, 'test', { limit: n });
  const buf = new Float32Array(n * 3072);
  fillBatch(
    d,
    Array.from({ length: n }, (_, i) => i),
    buf,
    null,
  );
  return tf.tensor4d(buf, [n, 32, 32, 3]);
}

function randomKeep(units: ReturnType<typeof pruningUnits>, rng: Rng, ratio: number): Map<string, number[]> {
  return new Map(
    units.map((u) => {
      const idx = rng.shuffle(Array.from({ length: u.filters }, (_, i) => i)).slice(0, Math.max(1, Math.round(u.filters * (1 - ratio))));
      return [u.conv, idx.sort((a, b) => a - b)];
    }),
  );
}

describe('coupling graph', () => {
  test('VGG: all 13 convs and the hidden dense layer prunable, the last conv feeds the classifier through flatten', () => {
    const units = pruningUnits(buildModel('vgg16', { width: 0.25 }));
    assert.equal(units.length, 14);
    assert.equal(units[13].conv, 'fc1');
    assert.deepEqual(units[12].followers, ['bn13', 'relu13', 'pool5', 'flatten']);
    assert.equal(units[12].consumerKind, 'dense-flatten');
    assert.equal(units[1].poolFactor, 2, 'conv2 -> pool1 -> conv3');
  });
  test("ResNet-20: block-internal convs feed their block's second conv; internal-only mode prunes just those", () => {
    const internal = pruningUnits(buildModel('resnet20'), [], { coupled: false });
    assert.deepEqual(
      internal.map((u) => u.conv),
      ['s1b1_conv1', 's1b2_conv1', 's1b3_conv1', 's2b1_conv1', 's2b2_conv1', 's2b3_conv1', 's3b1_conv1', 's3b2_conv1', 's3b3_conv1'],
    );
    assert.ok(internal.every((u) => u.consumer === u.conv.replace('conv1', 'conv2')));
    assert.equal(pruningUnits(buildModel('resnet20')).length, 12, 'with the three residual streams as groups');
  });
  test('a layer type without a rule is named, and only the channels reaching it stay', () => {
    const m = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, name: 'c' }),
        tfl.layers.layerNormalization({ name: 'ln' }),
      ],
    });
    const intact: Array<{ conv: string; reason: string }> = [];
    assert.deepEqual(pruningUnits(m, intact), []);
    assert.deepEqual(intact, [{ conv: 'c', reason: 'its channels reach ln (LayerNormalization), a layer type pruning does not know' }]);
  });
});

describe('surgery equivalence: pruned model = original with the removed filters zeroed', NEEDS_CIFAR, () => {
  for (const [name, width] of [
    ['vgg16', 0.25],
    ['resnet20', 1],
    ['airbench', 0.25],
    ['fast', 0.25],
  ] as const) {
    test(`${name} width ${width}: logits within 1e-4 on real images; params/FLOPs match the analytic count`, async () => {
      const model = buildModel(name, { width, seed: 5 });
      randomiseBn(model, 6);
      const units = pruningUnits(model);
      const keep = randomKeep(units, new Rng(7), 0.5);
      const { model: pruned, history } = await pruneModel(model, units, keep);
      zeroFilters(model, units, keep);
      const x = images(16);
      const a = (pruned.predict(x) as tf.Tensor).dataSync(),
        b = (model.predict(x) as tf.Tensor).dataSync();
      const maxDiff = maxAbsDiff(a, b);
      assert.ok(maxDiff < 1e-4, `max |logit diff| ${maxDiff}`);
      const real = countComplexity(pruned);
      const analytic = costModel(model, units).count(units.map((u) => keep.get(u.conv)!.length));
      assert.deepEqual(analytic, { params: real.params, flops: real.flops });
      assert.equal(history.length, units.length);
      // saved and reloaded with the standard loader: identical outputs
      await saveModel(pruned, join(tmp, name));
      const back = await loadModel(join(tmp, name));
      assert.deepEqual(Array.from((back.predict(x) as tf.Tensor).dataSync()), Array.from(a));
    });
  }
  test('impossible selections are refused', async () => {
    const model = buildModel('vgg16', { width: 0.125 });
    const units = pruningUnits(model);
    await assert.rejects(pruneModel(model, units, new Map([['conv1', []]])), /cannot remove all/);
    await assert.rejects(pruneModel(model, units, new Map([['fc2', [0]]])), /not a prunable group/);
  });
});

describe('selection', () => {
  const model = buildModel('vgg16', { width: 0.25 });
  const units = pruningUnits(model);
  const cost = costModel(model, units);
  const rng = new Rng(9);
  const scores = units.map((u) => Float64Array.from({ length: u.filters }, () => rng.next()));
  for (const by of ['params', 'flops'] as const)
    for (const fraction of [0.3, 0.5, 0.7]) {
      test(`global ${by} target ${fraction} hit within 1%, no layer emptied`, () => {
        const { kept, achieved } = selectGlobal(scores, cost, { by, fraction });
        const real = cost.count(kept.map((k) => k.length));
        const got = 1 - real[by] / cost.total[by];
        assert.ok(Math.abs(got - fraction) < 0.01, `achieved ${got}`);
        assert.ok(Math.abs(got - achieved) < 1e-12);
        assert.ok(kept.every((k) => k.length >= 1));
      });
    }
  test('per-layer ratio removes the lowest scores; impossible ratios are refused', () => {
    const kept = selectPerLayer([Float64Array.from([0.3, 0.1, 0.9, 0.2])], 0.5);
    assert.deepEqual(kept, [[0, 2]]);
    assert.throws(() => selectPerLayer(scores, 1.5), /ratio/);
    assert.throws(() => selectGlobal(scores, cost, { by: 'flops', fraction: 0.999 }), /cannot remove|target/);
  });
});

describe('a user model from outside the zoo', NEEDS_CIFAR, () => {
  /** stride-2, valid, dilated and BN-free convs, a residual add, a frozen conv, dropout between flatten and dense */
  function userModel(): tfl.LayersModel {
    const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
    const x = tfl.input({ shape: [32, 32, 3] });
    let y = tfl.layers
      .conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', name: 'Stem_Conv', kernelInitializer: init(1) })
      .apply(x) as tfl.SymbolicTensor;
    y = tfl.layers.batchNormalization({ name: 'stem_bn' }).apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.reLU().apply(y) as tfl.SymbolicTensor;
    y = tfl.layers
      .conv2d({ filters: 8, kernelSize: 3, padding: 'valid', name: 'valid.conv', activation: 'relu', kernelInitializer: init(2) })
      .apply(y) as tfl.SymbolicTensor;
    const a = tfl.layers
      .conv2d({ filters: 8, kernelSize: 3, padding: 'same', dilationRate: 2, name: 'dilated', kernelInitializer: init(3) })
      .apply(y) as tfl.SymbolicTensor;
    const b = tfl.layers
      .conv2d({ filters: 8, kernelSize: 1, name: 'frozen', trainable: false, kernelInitializer: init(4) })
      .apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.add().apply([a, b]) as tfl.SymbolicTensor;
    y = tfl.layers
      .conv2d({ filters: 6, kernelSize: 3, padding: 'same', name: 'last', activation: 'relu', kernelInitializer: init(5) })
      .apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.flatten().apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.dropout({ rate: 0.3 }).apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.dense({ units: 10, name: 'head', kernelInitializer: init(6) }).apply(y) as tfl.SymbolicTensor;
    return tfl.model({ inputs: x, outputs: y });
  }

  test('prunable convs found (incl. flatten -> dropout -> dense), the rest listed with a reason; pruned = zeroed original', async () => {
    const model = userModel();
    randomiseBn(model, 2);
    const intact: Array<{ conv: string; reason: string }> = [];
    const units = pruningUnits(model, intact);
    // valid.conv feeds two convs (both slice its channels); dilated is coupled to the frozen conv by the add
    assert.deepEqual(
      units.map((u) => u.conv),
      ['Stem_Conv', 'valid.conv', 'last'],
    );
    assert.deepEqual(units[1].consumers.sort(), ['dilated', 'frozen']);
    assert.equal(units[2].consumerKind, 'dense-flatten');
    assert.deepEqual(units[2].followers.length, 2, 'flatten and dropout follow the last conv');
    assert.deepEqual(
      intact.filter((c) => c.conv !== 'head'),
      [
        { conv: 'dilated', reason: 'coupled with frozen, which is frozen (trainable: false)' },
        { conv: 'frozen', reason: 'frozen (trainable: false)' },
      ],
    );
    const keep = randomKeep(units, new Rng(3), 0.5);
    const { model: pruned } = await pruneModel(model, units, keep);
    zeroFilters(model, units, keep);
    const x = images(8);
    const p = (pruned.predict(x) as tf.Tensor).dataSync(),
      q = (model.predict(x) as tf.Tensor).dataSync();
    const maxDiff = maxAbsDiff(p, q);
    assert.ok(maxDiff < 1e-4, `max |logit diff| ${maxDiff}`);
  });
});

describe('depthwise, separable and transposed convs (MobileNet-style)', NEEDS_CIFAR, () => {
  /**
   * pointwise conv -> BN -> ReLU -> depthwise (stride 2) -> BN -> ReLU -> pointwise conv -> ReLU ->
   * separable conv (multiplier 2) -> BN -> ReLU -> transposed conv -> ReLU -> global pooling -> dense
   */
  function mobileModel(): tfl.LayersModel {
    const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
    const x = tfl.input({ shape: [32, 32, 3] });
    const ap = (l: tfl.layers.Layer, y: tfl.SymbolicTensor) => l.apply(y) as tfl.SymbolicTensor;
    let y = ap(tfl.layers.conv2d({ filters: 8, kernelSize: 1, name: 'pw_a', kernelInitializer: init(1) }), x);
    y = ap(tfl.layers.batchNormalization({ name: 'bn_a' }), y);
    y = ap(tfl.layers.reLU(), y);
    y = ap(tfl.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', name: 'dw', depthwiseInitializer: init(2) }), y);
    y = ap(tfl.layers.batchNormalization({ name: 'bn_dw' }), y);
    y = ap(tfl.layers.reLU(), y);
    y = ap(tfl.layers.conv2d({ filters: 12, kernelSize: 1, name: 'pw_b', activation: 'relu', kernelInitializer: init(3) }), y);
    y = ap(
      tfl.layers.separableConv2d({
        filters: 10,
        kernelSize: 3,
        depthMultiplier: 2,
        padding: 'same',
        name: 'sep',
        depthwiseInitializer: init(4),
        pointwiseInitializer: init(5),
      }),
      y,
    );
    y = ap(tfl.layers.batchNormalization({ name: 'bn_sep' }), y);
    y = ap(tfl.layers.reLU(), y);
    y = ap(
      tfl.layers.conv2dTranspose({
        filters: 6,
        kernelSize: 3,
        padding: 'same',
        name: 'up',
        activation: 'relu',
        kernelInitializer: init(6),
      }),
      y,
    );
    y = ap(tfl.layers.globalAveragePooling2d({}), y);
    y = ap(tfl.layers.dense({ units: 10, name: 'head', kernelInitializer: init(7) }), y);
    return tfl.model({ inputs: x, outputs: y });
  }

  test('every conv type prunes; the depthwise channels follow their pointwise conv; pruned = zeroed original; params/FLOPs = the analytic count', async () => {
    const model = mobileModel();
    randomiseBn(model, 4);
    // non-zero biases, so a channel left unzeroed anywhere would show in the logits
    for (const name of ['pw_a', 'dw', 'pw_b', 'sep', 'up'])
      model.getLayer(name).setWeights(
        model
          .getLayer(name)
          .getWeights()
          .map((w, i, a) => (i === a.length - 1 ? tf.randomUniform(w.shape, -0.3, 0.3, 'float32', 9) : w)),
      );
    const units = pruningUnits(model);
    assert.deepEqual(
      units.map((u) => [u.conv, u.consumer, u.consumerKind]),
      [
        ['pw_a', 'pw_b', 'conv'],
        ['pw_b', 'sep', 'conv'],
        ['sep', 'up', 'conv'],
        ['up', 'head', 'dense-global'],
      ],
    );
    assert.ok(units[0].followers.includes('dw'), 'the depthwise conv follows pw_a');
    const keep = randomKeep(units, new Rng(5), 0.5);
    const { model: pruned } = await pruneModel(model, units, keep);
    const kept = units.map((u) => keep.get(u.conv)!.length);
    const predicted = costModel(model, units).count(kept);
    const counted = countComplexity(pruned);
    assert.deepEqual({ params: counted.params, flops: counted.flops }, predicted);
    assert.equal((pruned.getLayer('dw').getWeights()[0].shape as number[])[2], kept[0], 'depthwise channels removed with pw_a');
    zeroFilters(model, units, keep);
    const x = images(8);
    const maxDiff = maxAbsDiff((pruned.predict(x) as tf.Tensor).dataSync(), (model.predict(x) as tf.Tensor).dataSync());
    assert.ok(maxDiff < 1e-4, `max |logit diff| ${maxDiff}`);
  });
});
