import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { setFallbackLogger, useBestBackend } from '../../engine/backend/index.js';
import { loadCifar10 } from '../../data/cifar10.js';
import { balancedSample } from '../../data/pipeline.js';
import { buildModel } from '../../models/zoo.js';
import { CRITERIA, scoreModel } from './registry.js';
import { spearman } from '../../eval/ranking.js';
import { CIFAR_DIR, NEEDS_CIFAR } from '../../../tests/helpers/fixtures.js';

const DIR = CIFAR_DIR;
before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
});

describe('criteria', NEEDS_CIFAR, () => {
  const sample = balancedSample(loadCifar10(DIR, 'test', { limit: 2000 }), 12, 1);
  const model = buildModel('vgg16', { width: 0.125, seed: 4 });
  // plant a dead filter: conv3 filter 1 has zero weights and bias, so its map is constant
  const conv3 = model.getLayer('conv3');
  const [k, b] = conv3.getWeights();
  const mask = tf.tensor1d(Float32Array.from({ length: k.shape[3] }, (_, i) => (i === 1 ? 0 : 1)));
  conv3.setWeights([tf.mul(k, mask), tf.mul(b, mask)]);
  const opts = { mint: { groups: 1000 }, seed: 3, quiet: true };
  let results: Awaited<ReturnType<typeof scoreModel>> = [];
  // bn-scale reads batch-norm scales, which a dead conv filter leaves as they were (and this fresh
  // model's are all 1, which it refuses): its own tests are in taylor_test.ts
  const names = CRITERIA.filter((c) => c !== 'bn-scale');
  before(async () => {
    results = await scoreModel(model, sample, [...names], opts);
  });

  for (const name of names.filter((c) => c !== 'random')) {
    // MINT's geometric estimator is a randomised two-sample test: at n = 120 images one call varies
    // by about ±0.2, so "near last" for it means the bottom quarter; the others must rank it last.
    const slack = name === 'mint' ? 4 : 1;
    test(`${name} ranks the planted dead filter ${slack > 1 ? 'in the bottom quarter' : 'last (ties allowed)'}`, () => {
      const r = results.find((x) => x.criterion === name)!;
      const s = r.scores.find((u) => u.conv === 'conv3')!.scores;
      const below = Array.from(s).filter((v) => v < s[1] - 1e-12).length;
      assert.ok(
        below < slack,
        `${name}: ${below} filters score below the dead one (${s[1]}); scores ${Array.from(s).map((v) => v.toFixed(3))}`,
      );
    });
  }
  test('one score per filter for every unit, timings recorded, deterministic for a fixed seed', async () => {
    const again = await scoreModel(model, sample, ['aura', 'mint', 'random'], { ...opts, aura: { threads: 2 } });
    for (const r of again) {
      const first = results.find((x) => x.criterion === r.criterion)!;
      assert.equal(r.scores.length, 14, '13 convs and the hidden dense layer');
      assert.equal(r.scores[13].conv, 'fc1');
      r.scores.forEach((u, i) => {
        assert.equal(u.scores.length, r.units[i].filters);
        assert.ok(u.seconds >= 0);
        assert.deepEqual(Array.from(u.scores), Array.from(first.scores[i].scores));
      });
    }
    const other = await scoreModel(model, sample, ['random'], { ...opts, seed: 4 });
    assert.notDeepEqual(Array.from(other[0].scores[0].scores), Array.from(results.find((x) => x.criterion === 'random')!.scores[0].scores));
  });
  test('aura samples 256 neighbour pairs per image on larger lattices, seeded by the scoring seed; smaller ones are exact', async () => {
    const run = async (seed: number, edges?: number | 'all') =>
      (await scoreModel(model, sample, ['aura'], { ...opts, seed, aura: { edges } }))[0].scores;
    const [s3, s4, all] = [await run(3), await run(4), await run(3, 'all')];
    const byConv = (r: typeof s3, conv: string) => Array.from(r.find((u) => u.conv === conv)!.scores);
    // conv1 -> conv2 on 32x32 maps: 1,984 neighbour pairs per image, so the default samples 256 of them
    assert.notDeepEqual(byConv(s3, 'conv1'), byConv(all, 'conv1'));
    assert.notDeepEqual(byConv(s3, 'conv1'), byConv(s4, 'conv1'));
    assert.deepEqual(byConv(await run(3), 'conv1'), byConv(s3, 'conv1'));
    assert.ok(spearman(byConv(s3, 'conv1'), byConv(all, 'conv1')) > 0.8);
    // conv8 -> conv9 on 4x4 maps (after the third pool): 24 pairs per image, within the default: exact
    assert.deepEqual(byConv(s3, 'conv8'), byConv(all, 'conv8'));
    assert.deepEqual(byConv(s4, 'conv8'), byConv(all, 'conv8'));
  });
  test('unknown criteria are refused with the list', async () => {
    await assert.rejects(scoreModel(model, sample, ['entropy?']), /choose one of aura/);
  });
});
