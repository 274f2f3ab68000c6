/**
 * Coupled channel groups on the joins users' networks are made of: residual adds (ResNet, Keras
 * ResNet50 with ZeroPadding2D, MobileNetV2 with ReLU6), concatenations (Inception), squeeze-excitation
 * multiplies, depthwise multipliers, hidden Dense layers. For each: the pruned model's logits equal
 * the original's with the removed channels' contributions zeroed (within 1e-4), the kept counts are
 * where the group structure says, and params/FLOPs equal an independent count (written here from
 * weight shapes and layer geometry, not from src/models/layers.ts) and the analytic cost model.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { setFallbackLogger, useBestBackend } from '../../engine/backend/index.js';
import { buildModel } from '../../models/zoo.js';
import { Rng } from '../../util/rng.js';
import { costModel } from '../select/cost.js';
import { pruneModel, zeroFilters } from '../surgery/rebuild.js';
import { IntactConv, pruningUnits, PruningUnit } from './graph.js';
import { l1Importance } from '../importance/simple.js';
import { CRITERIA, scoreModel } from '../importance/registry.js';
import { maxAbsDiff, randomiseBn } from '../../../tests/helpers/fixtures.js';
import { CIFAR10_INFO } from '../../data/dataset.js';

before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
});

type T = tfl.SymbolicTensor;
const ap = (l: tfl.layers.Layer, x: T | T[]) => l.apply(x) as T;
let seed = 1;
const init = () => tfl.initializers.glorotUniform({ seed: seed++ });
const conv = (x: T, filters: number, k: number, name: string, o: Record<string, unknown> = {}) =>
  ap(
    tfl.layers.conv2d({ filters, kernelSize: k, padding: 'same', name, kernelInitializer: init(), biasInitializer: 'glorotUniform', ...o }),
    x,
  );
const bn = (x: T, name: string) => ap(tfl.layers.batchNormalization({ name }), x);
const relu = (x: T, o: { maxValue?: number; name?: string } = {}) => ap(tfl.layers.reLU(o), x);
const head = (x: T, classes = 10) =>
  ap(
    tfl.layers.dense({ units: classes, name: 'head', kernelInitializer: init() }),
    ap(tfl.layers.globalAveragePooling2d({ name: 'gap' }), x),
  );

/** Multiply-adds and parameters counted from weight shapes and layer geometry alone. */
function independentCount(model: tfl.LayersModel): { params: number; flops: number } {
  let params = 0,
    flops = 0;
  for (const l of model.layers) {
    for (const w of l.trainableWeights) params += w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
    const ws = l.getWeights().map((w) => w.shape as number[]);
    const o = (l.outputShape as number[]).map((d) => d ?? 1);
    const i = ((Array.isArray(l.input) ? l.input[0] : l.input).shape as number[]).map((d) => d ?? 1);
    switch (l.getClassName()) {
      case 'Conv2D': {
        const [kh, kw, cin, cout] = ws[0];
        flops += o[1] * o[2] * kh * kw * cin * cout;
        break;
      }
      case 'DepthwiseConv2D': {
        const [kh, kw, c, m] = ws[0];
        flops += o[1] * o[2] * kh * kw * c * m;
        break;
      }
      case 'SeparableConv2D': {
        const [kh, kw, c, m] = ws[0];
        flops += o[1] * o[2] * (kh * kw * c * m + c * m * ws[1][3]);
        break;
      }
      case 'Dense':
        flops += i.slice(1, -1).reduce((a, b) => a * b, 1) * ws[0][0] * ws[0][1];
        break;
    }
  }
  return { params, flops };
}

/** Random non-zero biases and BN statistics, so a channel left in anywhere shows in the logits. */
function perturb(model: tfl.LayersModel, s: number): void {
  randomiseBn(model, s);
  for (const l of model.layers)
    if (['Conv2D', 'Dense', 'DepthwiseConv2D', 'SeparableConv2D'].includes(l.getClassName()) && l.getWeights().length > 1)
      l.setWeights(l.getWeights().map((w, k, a) => (k === a.length - 1 ? tf.randomUniform(w.shape, -0.3, 0.3, 'float32', s + k) : w)));
}

function randomKeep(units: PruningUnit[], s: number, ratio = 0.5): Map<string, number[]> {
  const rng = new Rng(s);
  return new Map(
    units.map((u) => [
      u.conv,
      rng
        .shuffle(Array.from({ length: u.filters }, (_, i) => i))
        .slice(0, Math.max(1, Math.round(u.filters * (1 - ratio))))
        .sort((a, b) => a - b),
    ]),
  );
}

/** Prunes at random, then checks equivalence and the counts; returns the pruned model and the kept sets. */
async function checkEquivalent(
  model: tfl.LayersModel,
  s: number,
  inputShape = [32, 32, 3],
): Promise<{ pruned: tfl.LayersModel; keep: Map<string, number[]>; units: PruningUnit[] }> {
  perturb(model, s);
  const units = pruningUnits(model);
  const keep = randomKeep(units, s + 1);
  const { model: pruned } = await pruneModel(model, units, keep);
  const x = tf.randomNormal([6, ...inputShape], 0, 1, 'float32', s + 2);
  const a = (pruned.predict(x) as tf.Tensor).dataSync();
  zeroFilters(model, units, keep);
  const b = (model.predict(x) as tf.Tensor).dataSync();
  const d = maxAbsDiff(a, b);
  assert.ok(d < 1e-4, `max |logit diff| ${d}`);
  const analytic = costModel(model, units).count(units.map((u) => keep.get(u.conv)!.length));
  assert.deepEqual(independentCount(pruned), analytic, 'params/FLOPs: independent count vs the cost model');
  return { pruned, keep, units };
}

const filtersOf = (m: tfl.LayersModel, name: string) => (m.getLayer(name).outputShape as number[]).at(-1)!;

describe('coupled groups: pruned = original with removed channels zeroed; counts independent', () => {
  test('ResNet-20 and ResNet-56: the residual stream of each stage is one group with every conv feeding it', async () => {
    for (const depth of [20, 56]) {
      const model = buildModel(`resnet${depth}`, { seed: 3 });
      const units = pruningUnits(model);
      const n = (depth - 2) / 6;
      const streams = units.filter((u) => u.members.length > 1);
      assert.equal(streams.length, 3, 'one stream group per stage');
      assert.deepEqual(
        streams[0].members.map((m) => m.layer).sort(),
        ['stem_conv', ...Array.from({ length: n }, (_, b) => `s1b${b + 1}_conv2`)].sort(),
      );
      assert.ok(streams[1].members.some((m) => m.layer === 's2b1_proj_conv'));
      assert.equal(streams[1].members.length, n + 1);
      assert.equal(streams[0].tap, 's1b1_add', 'read where the channels meet');
      assert.equal(units.length, 3 * n + 3);
      const { pruned, keep } = await checkEquivalent(model, depth);
      const k1 = keep.get(streams[0].conv)!.length;
      for (const name of ['stem_conv', 's1b1_conv2', `s1b${n}_conv2`, 's2b1_conv1']) assert.ok(pruned.getLayer(name));
      assert.equal(filtersOf(pruned, 'stem_conv'), k1);
      assert.equal(filtersOf(pruned, `s1b${n}_conv2`), k1);
      // the next stage's first convs read the stream's kept channels
      assert.equal((pruned.getLayer('s2b1_conv1').getWeights()[0].shape as number[])[2], k1);
      assert.equal((pruned.getLayer('s2b1_proj_conv').getWeights()[0].shape as number[])[2], k1);
    }
  });

  test("MobileNetV2 (zoo, width 0.5): each stage's projections are one group with their adds; the rest one conv each", async () => {
    const model = buildModel('mobilenetv2', { width: 0.5, seed: 2 });
    const units = pruningUnits(model);
    const streams = units.filter((u) => u.members.length > 1).map((u) => u.members.map((m) => m.layer).join('+'));
    assert.deepEqual(streams, [
      'b2_project+b3_project',
      'b4_project+b5_project+b6_project',
      'b7_project+b8_project+b9_project+b10_project',
      'b11_project+b12_project+b13_project',
      'b14_project+b15_project+b16_project',
    ]);
    // 17 blocks: 16 expansions, the stem, 2 lone projections (b1, b17), 5 streams, the 1280-channel head conv
    assert.equal(units.length, 16 + 1 + 2 + 5 + 1);
    await checkEquivalent(model, 91);
  });

  test('internal-only (coupled: false) keeps the streams whole, with the reason', () => {
    const intact: IntactConv[] = [];
    const units = pruningUnits(buildModel('resnet20'), intact, { coupled: false });
    assert.deepEqual(
      units.map((u) => u.conv),
      ['s1b1_conv1', 's1b2_conv1', 's1b3_conv1', 's2b1_conv1', 's2b2_conv1', 's2b3_conv1', 's3b1_conv1', 's3b2_conv1', 's3b3_conv1'],
    );
    assert.match(intact.find((c) => c.conv === 'stem_conv')!.reason, /coupled with s1b1_conv2, s1b2_conv2, s1b3_conv2 through s1b1_add/);
  });

  test('Keras ResNet50-style block: ZeroPadding2D before a stride-2 valid conv, projection shortcut', async () => {
    const x = tfl.input({ shape: [32, 32, 3] });
    const stem = relu(bn(conv(x, 8, 3, 'stem'), 'stem_bn'));
    let y = ap(tfl.layers.zeroPadding2d({ padding: 1, name: 'pad' }), stem);
    y = relu(bn(conv(y, 12, 3, 'c1', { strides: 2, padding: 'valid' }), 'c1_bn'));
    y = bn(conv(y, 16, 1, 'c2'), 'c2_bn');
    const sc = bn(conv(stem, 16, 1, 'proj', { strides: 2 }), 'proj_bn');
    const out = relu(ap(tfl.layers.add({ name: 'add' }), [y, sc]));
    const model = tfl.model({ inputs: x, outputs: head(out) });
    const units = pruningUnits(model);
    assert.deepEqual(
      units.map((u) => [u.conv, u.members.map((m) => m.layer).join('+')]),
      [
        ['stem', 'stem'],
        ['c1', 'c1'],
        ['c2', 'c2+proj'],
      ],
    );
    const { pruned, keep } = await checkEquivalent(model, 11);
    assert.equal(filtersOf(pruned, 'pad'), keep.get('stem')!.length, 'padding follows the stem');
    assert.equal(filtersOf(pruned, 'proj'), keep.get('c2')!.length);
  });

  test('MobileNetV2 inverted residual: ReLU6, depthwise, linear projection added to the block input', async () => {
    const x = tfl.input({ shape: [32, 32, 3] });
    const stem = relu(bn(conv(x, 8, 3, 'stem', { useBias: false }), 'stem_bn'), { maxValue: 6 });
    let y = relu(bn(conv(stem, 24, 1, 'expand', { useBias: false }), 'expand_bn'), { maxValue: 6 });
    y = ap(tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', name: 'dw', useBias: false, depthwiseInitializer: init() }), y);
    y = relu(bn(y, 'dw_bn'), { maxValue: 6 });
    y = bn(conv(y, 8, 1, 'project', { useBias: false }), 'project_bn');
    const out = ap(tfl.layers.add({ name: 'add' }), [stem, y]);
    const model = tfl.model({ inputs: x, outputs: head(out) });
    const units = pruningUnits(model);
    assert.deepEqual(
      units.map((u) => [u.conv, u.members.map((m) => m.layer).join('+')]),
      [
        ['stem', 'stem+project'],
        ['expand', 'expand'],
      ],
    );
    assert.ok(units[1].followers.includes('dw'), 'the depthwise conv follows the expansion');
    const { pruned, keep } = await checkEquivalent(model, 21);
    assert.equal(filtersOf(pruned, 'dw'), keep.get('expand')!.length);
  });

  test('Inception: Concatenate of three branches feeding a conv, of two feeding a dense head', async () => {
    const x = tfl.input({ shape: [16, 16, 3] });
    const stem = relu(conv(x, 8, 3, 'stem'));
    const b1 = relu(conv(stem, 4, 1, 'b1'));
    const b2 = relu(conv(relu(conv(stem, 4, 1, 'b2a')), 6, 3, 'b2b'));
    const b3 = relu(conv(ap(tfl.layers.maxPooling2d({ poolSize: 3, strides: 1, padding: 'same' }), stem), 4, 1, 'b3'));
    const cat3 = ap(tfl.layers.concatenate({ name: 'cat3' }), [b1, b2, b3]);
    const mix = relu(bn(conv(cat3, 10, 3, 'mix'), 'mix_bn'));
    const m1 = relu(conv(mix, 5, 1, 'm1'));
    const m2 = relu(conv(mix, 5, 3, 'm2'));
    const cat2 = ap(tfl.layers.concatenate({ name: 'cat2' }), [m1, m2]);
    const flat = ap(tfl.layers.flatten({ name: 'flat' }), ap(tfl.layers.maxPooling2d({ poolSize: 4 }), cat2));
    const model = tfl.model({ inputs: x, outputs: ap(tfl.layers.dense({ units: 7, name: 'head', kernelInitializer: init() }), flat) });
    const units = pruningUnits(model);
    assert.deepEqual(units.map((u) => u.conv).sort(), ['b1', 'b2a', 'b2b', 'b3', 'm1', 'm2', 'mix', 'stem']);
    assert.ok(units.every((u) => u.members.length === 1));
    const { pruned, keep } = await checkEquivalent(model, 31, [16, 16, 3]);
    const k = (n: string) => keep.get(n)!.length;
    assert.equal(
      (pruned.getLayer('mix').getWeights()[0].shape as number[])[2],
      k('b1') + k('b2b') + k('b3'),
      'mix reads the three kept slices',
    );
    assert.equal(
      (pruned.getLayer('head').getWeights()[0].shape as number[])[0],
      16 * (k('m1') + k('m2')),
      'flattened rows of both branches',
    );
  });

  test('squeeze-excitation: the excitation conv joins the group of the channels it scales', async () => {
    const x = tfl.input({ shape: [16, 16, 3] });
    const stem = relu(bn(conv(x, 16, 3, 'stem'), 'stem_bn'));
    const y = bn(conv(stem, 16, 3, 'body'), 'body_bn');
    let se = ap(tfl.layers.globalAveragePooling2d({ name: 'se_gap' }), y);
    se = ap(tfl.layers.reshape({ targetShape: [1, 1, 16], name: 'se_reshape' }), se);
    se = conv(se, 4, 1, 'se_reduce', { activation: 'relu' });
    se = conv(se, 16, 1, 'se_expand', { activation: 'sigmoid' });
    const out = relu(ap(tfl.layers.multiply({ name: 'se_scale' }), [y, se]));
    const model = tfl.model({ inputs: x, outputs: head(out) });
    const units = pruningUnits(model);
    assert.deepEqual(
      units.map((u) => [u.conv, u.members.map((m) => m.layer).join('+')]),
      [
        ['stem', 'stem'],
        ['body', 'body+se_expand'],
        ['se_reduce', 'se_reduce'],
      ],
    );
    const { pruned, keep } = await checkEquivalent(model, 41, [16, 16, 3]);
    assert.deepEqual((pruned.getLayer('se_reshape').outputShape as number[]).slice(1), [1, 1, keep.get('body')!.length]);
  });

  test('depthwise conv with depth multiplier 2: each kept channel keeps both of its outputs', async () => {
    const x = tfl.input({ shape: [16, 16, 3] });
    let y = relu(bn(conv(x, 6, 3, 'c1'), 'c1_bn'));
    y = ap(tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', name: 'dw', depthwiseInitializer: init() }), y);
    y = relu(bn(y, 'dw_bn'));
    y = relu(conv(y, 8, 1, 'pw'));
    const model = tfl.model({ inputs: x, outputs: head(y) });
    const { pruned, keep } = await checkEquivalent(model, 51, [16, 16, 3]);
    assert.equal(filtersOf(pruned, 'dw'), 2 * keep.get('c1')!.length);
    assert.equal((pruned.getLayer('pw').getWeights()[0].shape as number[])[2], 2 * keep.get('c1')!.length);
  });

  test('a conv feeding both an add and a concatenate', async () => {
    const x = tfl.input({ shape: [16, 16, 3] });
    const stem = relu(conv(x, 8, 3, 'stem'));
    const a = conv(stem, 8, 3, 'a');
    const b = conv(stem, 8, 1, 'b');
    const s = relu(ap(tfl.layers.add({ name: 'add' }), [a, b]));
    const c = relu(conv(stem, 6, 3, 'c'));
    const d = relu(conv(ap(tfl.layers.concatenate({ name: 'cat_ac' }), [a, c]), 10, 3, 'd'));
    const out = ap(tfl.layers.concatenate({ name: 'cat_out' }), [s, d]);
    const model = tfl.model({ inputs: x, outputs: head(out) });
    const units = pruningUnits(model);
    assert.deepEqual(units.map((u) => [u.conv, u.members.map((m) => m.layer).join('+')]).sort(), [
      ['a', 'a+b'],
      ['c', 'c'],
      ['d', 'd'],
      ['stem', 'stem'],
    ]);
    const { pruned, keep } = await checkEquivalent(model, 61, [16, 16, 3]);
    assert.equal((pruned.getLayer('d').getWeights()[0].shape as number[])[2], keep.get('a')!.length + keep.get('c')!.length);
    assert.equal((pruned.getLayer('head').getWeights()[0].shape as number[])[0], keep.get('a')!.length + keep.get('d')!.length);
  });

  test('hidden Dense units (Dense -> Dense) are pruned; the output layer is listed intact', async () => {
    const x = tfl.input({ shape: [8, 8, 3] });
    let y = relu(conv(x, 6, 3, 'c1'));
    y = ap(tfl.layers.flatten({ name: 'flat' }), y);
    y = ap(
      tfl.layers.dense({ units: 32, name: 'fc1', activation: 'relu', kernelInitializer: init(), biasInitializer: 'glorotUniform' }),
      y,
    );
    y = ap(tfl.layers.dropout({ rate: 0.2 }), y);
    y = ap(
      tfl.layers.dense({ units: 16, name: 'fc2', activation: 'relu', kernelInitializer: init(), biasInitializer: 'glorotUniform' }),
      y,
    );
    y = ap(tfl.layers.dense({ units: 10, name: 'out', activation: 'softmax', kernelInitializer: init() }), y);
    const model = tfl.model({ inputs: x, outputs: y });
    const intact: IntactConv[] = [];
    assert.deepEqual(
      pruningUnits(model, intact).map((u) => [u.conv, u.consumerKind]),
      [
        ['c1', 'dense-flatten'],
        ['fc1', 'dense'],
        ['fc2', 'dense'],
      ],
    );
    assert.deepEqual(intact, [{ conv: 'out', reason: 'its channels are a model output' }]);
    const before = independentCount(model);
    const { pruned, keep } = await checkEquivalent(model, 71, [8, 8, 3]);
    assert.equal(filtersOf(pruned, 'fc1'), keep.get('fc1')!.length);
    assert.ok(independentCount(pruned).params < before.params * 0.55, 'hidden units go, so parameters fall with them');
  });

  test('a layer pruning does not know keeps only its neighbours whole: the rest is pruned, each reason listed', async () => {
    const x = tfl.input({ shape: [16, 16, 3] });
    let y = ap(tfl.layers.rescaling({ scale: 1 / 255, offset: -0.5, name: 'rescale' }), x);
    y = relu(conv(y, 8, 3, 'c1'));
    y = ap(tfl.layers.layerNormalization({ name: 'ln' }), y);
    y = relu(bn(conv(y, 8, 3, 'c2'), 'c2_bn'));
    y = relu(conv(y, 8, 3, 'c3'));
    y = ap(tfl.layers.activation({ activation: 'softmax', name: 'chan_softmax' }), y);
    y = relu(conv(y, 8, 3, 'c4'));
    const model = tfl.model({ inputs: x, outputs: head(y) });
    const intact: IntactConv[] = [];
    assert.deepEqual(
      pruningUnits(model, intact).map((u) => u.conv),
      ['c2', 'c4'],
    );
    assert.deepEqual(
      intact.filter((c) => c.conv !== 'head'),
      [
        { conv: 'c1', reason: 'its channels reach ln (LayerNormalization), a layer type pruning does not know' },
        { conv: 'c3', reason: 'its channels reach chan_softmax (Activation), which mixes channels (softmax)' },
      ],
    );
    await checkEquivalent(model, 81, [16, 16, 3]);
  });
});

describe('every criterion scores coupled groups', () => {
  test('Keras ResNet50-style block and MobileNetV2 (zoo): one finite score per group channel, every criterion', async () => {
    const x = tfl.input({ shape: [32, 32, 3] });
    const stem = relu(bn(conv(x, 8, 3, 'stem'), 'stem_bn'));
    let y = ap(tfl.layers.zeroPadding2d({ padding: 1 }), stem);
    y = relu(bn(conv(y, 12, 3, 'c1', { strides: 2, padding: 'valid' }), 'c1_bn'));
    y = bn(conv(y, 16, 1, 'c2'), 'c2_bn');
    const sc = bn(conv(stem, 16, 1, 'proj', { strides: 2 }), 'proj_bn');
    const block = tfl.model({ inputs: x, outputs: head(relu(ap(tfl.layers.add(), [y, sc]))) });
    const rng = new Rng(3);
    const n = 40;
    const sample = {
      images: Uint8Array.from({ length: n * 3072 }, () => rng.int(256)),
      info: CIFAR10_INFO,
      labels: Uint8Array.from({ length: n }, (_, i) => i % 10),
      n,
    };
    for (const model of [block, buildModel('mobilenetv2', { width: 0.25, seed: 1 })]) {
      // trained-looking batch norms: bn-scale refuses a model whose scales are all equal
      randomiseBn(model, 4);
      const results = await scoreModel(model, sample, [...CRITERIA], { seed: 1, quiet: true });
      for (const r of results)
        r.scores.forEach((u, k) => {
          assert.equal(u.scores.length, r.units[k].filters, `${r.criterion} ${u.conv}`);
          assert.ok(Array.from(u.scores).every(Number.isFinite), `${r.criterion} ${u.conv}: finite`);
        });
    }
  });
});

describe('l1 reads each producer type on its filter axis', () => {
  test('SeparableConv2D: the pointwise kernel; Conv2DTranspose: axis 2 of [h, w, out, in]', async () => {
    const x = tfl.input({ shape: [4, 4, 2] });
    const sep = tfl.layers.separableConv2d({ filters: 3, kernelSize: 1, name: 'sep', useBias: false });
    const tr = tfl.layers.conv2dTranspose({ filters: 2, kernelSize: 1, name: 'tr', useBias: false });
    const y = ap(tr, relu(ap(sep, x)));
    const model = tfl.model({ inputs: x, outputs: head(relu(y), 2) });
    // depthwise [1,1,2,1] = [5, 7] (large: reading it would rank by it); pointwise [1,1,2,3]
    sep.setWeights([tf.tensor4d([5, 7], [1, 1, 2, 1]), tf.tensor4d([1, -2, 3, -4, 0.5, 0.25], [1, 1, 2, 3])]);
    // transposed kernel [1,1,out=2,in=3]
    tr.setWeights([tf.tensor4d([1, 2, 3, -10, 0, 0.5], [1, 1, 2, 3])]);
    const units = pruningUnits(model);
    const scores = await l1Importance().score({ model, units, taps: [], store: null as never, seed: 0 });
    const byConv = Object.fromEntries(scores.map((s) => [s.conv, Array.from(s.scores)]));
    // pointwise column j: |w[0,j]| + |w[1,j]| with rows (in) [1,-2,3] and [-4,0.5,0.25]
    assert.deepEqual(byConv.sep, [5, 2.5, 3.25]);
    // output channel o: sum over inputs of |w[.., o, :]|: [1,2,3] -> 6, [-10,0,0.5] -> 10.5
    assert.deepEqual(byConv.tr, [6, 10.5]);
  });

  test('a coupled group reduces its members (mean by default, sum and max on request)', async () => {
    const x = tfl.input({ shape: [4, 4, 1] });
    const a = tfl.layers.conv2d({ filters: 2, kernelSize: 1, name: 'a', useBias: false });
    const b = tfl.layers.conv2d({ filters: 2, kernelSize: 1, name: 'b', useBias: false });
    const model = tfl.model({ inputs: x, outputs: head(relu(ap(tfl.layers.add(), [ap(a, x), ap(b, x)])), 2) });
    a.setWeights([tf.tensor4d([1, -4], [1, 1, 1, 2])]);
    b.setWeights([tf.tensor4d([3, 2], [1, 1, 1, 2])]);
    const units = pruningUnits(model);
    const run = async (groupReduce?: 'mean' | 'sum' | 'max') =>
      Array.from((await l1Importance({ groupReduce }).score({ model, units, taps: [], store: null as never, seed: 0 }))[0].scores);
    assert.deepEqual(await run(), [2, 3]);
    assert.deepEqual(await run('sum'), [4, 6]);
    assert.deepEqual(await run('max'), [3, 4]);
  });
});
