import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tfl from '@tensorflow/tfjs-layers';
import { setFallbackLogger, useBestBackend } from '../../engine/backend/index.js';
import { costModel } from '../select/cost.js';
import { pruningUnits } from '../graph/graph.js';
import { buildModel } from '../../models/zoo.js';
import { Rng } from '../../util/rng.js';
import { selectGlobal, selectPerLayer } from '../select/select.js';
import { allocateSensitivity, allocateUniform, floorKeep, keepTopK, keptAt, reduction, stepDown } from './allocate.js';

before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
});

/** conv(a) -> conv(b) -> conv(c) -> flatten -> dense, 8x8 input, 'same' padding: costs by hand. */
function chain(a: number, b: number, c: number) {
  const m = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: a, kernelSize: 3, padding: 'same', useBias: false, name: 'c1' }),
      tfl.layers.conv2d({ filters: b, kernelSize: 3, padding: 'same', useBias: false, name: 'c2' }),
      tfl.layers.conv2d({ filters: c, kernelSize: 3, padding: 'same', useBias: false, name: 'c3' }),
      tfl.layers.flatten({ name: 'f' }),
      tfl.layers.dense({ units: 2, useBias: false, name: 'fc' }),
    ],
  });
  const units = pruningUnits(m);
  return { units, cost: costModel(m, units) };
}

describe('uniform allocation', () => {
  test('a hand-computed case: equal fractions everywhere meet a FLOPs target', () => {
    const { cost } = chain(10, 10, 10);
    // FLOPs = 64*9*(3*10 + 10*10 + 10*10) + 640*2 = 133,760; removing r of every layer keeps
    // 64*9*(30(1-r) + 200(1-r)^2) + 1280(1-r). At r = 0.5: 64*9*(15 + 50) + 640 = 38,080 -> 71.5% removed
    const { kept, achieved } = allocateUniform(cost, { by: 'flops', fraction: 0.715 });
    assert.deepEqual(kept, [5, 5, 5]);
    assert.ok(Math.abs(achieved - (1 - 38080 / 133760)) < 1e-12);
  });
  for (const fraction of [0.3, 0.5, 0.7]) {
    test(`VGG-16 (width 0.5): FLOPs target ${fraction} met within 1%, every layer at the same fraction (+-1 filter)`, () => {
      const m = buildModel('vgg16', { width: 0.5 });
      const units = pruningUnits(m);
      const cost = costModel(m, units);
      const { kept, ratio, achieved } = allocateUniform(cost, { by: 'flops', fraction });
      const real = reduction(cost, kept, 'flops');
      assert.ok(Math.abs(real - fraction) < 0.01, `achieved ${real}`);
      assert.equal(real, achieved);
      units.forEach((u, i) =>
        assert.ok(Math.abs(u.filters - kept[i] - u.filters * ratio) <= 1, `${u.conv}: kept ${kept[i]} of ${u.filters} at r=${ratio}`),
      );
    });
  }
  test('per-layer scales and the cap; unreachable targets are refused with the reachable maximum', () => {
    const { cost } = chain(10, 10, 10);
    const { kept } = allocateUniform(cost, { by: 'flops', fraction: 0.5 }, { scale: [0, 1, 1] });
    assert.equal(kept[0], 10, 'scale 0 keeps the first layer whole');
    assert.throws(() => allocateUniform(cost, { by: 'flops', fraction: 0.995 }), /at most/);
    assert.equal(floorKeep(10, { maxRemove: 0.9 }), 1);
    assert.equal(keptAt(10, 0.95, { maxRemove: 0.9 }), 1);
  });
});

describe('kept counts rounded to channel blocks (roundTo)', () => {
  test('hand-computed: multiples of 8, or the full count', () => {
    // 44 filters at r = 0.3 keep 30.8 -> 32 (nearest multiple of 8); 20 filters at r = 0.05 keep 19 ->
    // 20 (the full count is nearer than 16); the floor (10% of 64 = 6.4 -> 7) rounds up to 8
    assert.equal(keptAt(44, 0.3, { roundTo: 8 }), 32);
    assert.equal(keptAt(20, 0.05, { roundTo: 8 }), 20);
    assert.equal(keptAt(20, 0.2, { roundTo: 8 }), 16);
    assert.equal(floorKeep(64, { roundTo: 8 }), 8);
    assert.equal(keptAt(64, 0.99, { roundTo: 8 }), 8);
    assert.equal(stepDown(20, 20, { roundTo: 8 }), 16);
    assert.equal(stepDown(64, 16, { roundTo: 8 }), 8);
    assert.equal(stepDown(64, 8, { roundTo: 8 }), 8, 'no allowed count below the floor');
  });
  for (const fraction of [0.5, 0.7]) {
    test(`airbench: FLOPs target ${fraction} with every kept count a multiple of 16, reached and overshot by < 3%`, () => {
      const m = buildModel('airbench');
      const units = pruningUnits(m);
      const cost = costModel(m, units);
      const { kept, achieved } = allocateUniform(cost, { by: 'flops', fraction }, { roundTo: 16 });
      assert.ok(
        kept.every((k) => k % 16 === 0),
        `kept ${kept}`,
      );
      assert.ok(achieved >= fraction && achieved < fraction + 0.03, `achieved ${achieved}`);
      assert.equal(reduction(cost, kept, 'flops'), achieved);
    });
  }
  test('per-layer ratio: the kept count nearest the unrounded one; units of at most roundTo filters stay whole', () => {
    const s = (n: number) => Float64Array.from({ length: n }, (_, i) => i);
    // 64 x (1 - 0.3) = 44.8 -> 48 kept; 256 x 0.7 = 179.2 -> 176; 16 filters with roundTo 16: whole
    const kept = selectPerLayer([s(64), s(256), s(16)], 0.3, { roundTo: 16 });
    assert.deepEqual(
      kept.map((k) => k.length),
      [48, 176, 16],
    );
    // the lowest scores go
    assert.deepEqual(
      kept[0],
      Array.from({ length: 48 }, (_, i) => i + 16),
    );
  });
  test('global selection refuses it (it removes single filters)', () => {
    const { cost } = chain(16, 16, 16);
    const sc = [0, 1, 2].map(() => Float64Array.from({ length: 16 }, (_, i) => i));
    assert.throws(() => selectGlobal(sc, cost, { by: 'flops', fraction: 0.5 }, { roundTo: 8 }), /--round-to needs --allocation uniform/);
  });
});

describe('sensitivity allocation', () => {
  test('a constructed two-layer case: the cut goes to the layer whose loss grows least', () => {
    const { cost } = chain(10, 10, 10);
    const fractions = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
    // c1 cheap to cut (loss grows 0.01 per step), c2 expensive (1.0 per step), c3 in between (0.1)
    const curves = [
      { conv: 'c1', fractions, loss: fractions.map((f) => 1 + f * 0.1) },
      { conv: 'c2', fractions, loss: fractions.map((f) => 1 + f * 10) },
      { conv: 'c3', fractions, loss: fractions.map((f) => 1 + f * 1) },
    ];
    // per filter: cutting c1 saves 576 * (3 + 10) = 7,488 FLOPs for +0.01 loss, c3 576 * 10 + 128 = 5,888
    // for +0.1, c2 576 * 20 = 11,520 for +1. 30% of 133,760 = 40,128 FLOPs = 6 filters of c1 (5.36 rounded up)
    const r = allocateSensitivity(cost, curves, { by: 'flops', fraction: 0.3 }, 1);
    assert.ok(r.achieved >= 0.3);
    assert.deepEqual(r.fractions, [0.6, 0, 0]);
    // with c1 made the most sensitive, the cut moves to c3 (next cheapest in loss per FLOP)
    const steep = [{ ...curves[0], loss: fractions.map((f) => 1 + f * 100) }, curves[1], curves[2]];
    const r2 = allocateSensitivity(cost, steep, { by: 'flops', fraction: 0.3 }, 1);
    assert.equal(r2.fractions[0], 0);
    assert.ok(r2.fractions[2] > 0 && r2.fractions[2] >= r2.fractions[1], `fractions ${r2.fractions}`);
    // predicted loss = base + the sum of per-layer increases
    const inc = (c: (typeof curves)[number], f: number) => (f === 0 ? 0 : c.loss[fractions.indexOf(f)] - 1);
    assert.ok(Math.abs(r2.predictedLoss - (1 + steep.reduce((a, c, i) => a + inc(c, r2.fractions[i]), 0))) < 1e-12);
  });
});

describe('keepTopK', () => {
  test('keeps the highest scores, ties to the lower index, sorted', () => {
    assert.deepEqual(
      keepTopK(
        [
          [0.3, 0.9, 0.1, 0.9],
          [1, 2],
        ],
        [2, 1],
      ),
      [[1, 3], [1]],
    );
    const rng = new Rng(2);
    const s = Array.from({ length: 50 }, () => rng.next());
    const k = keepTopK([s], [20])[0];
    const threshold = [...s].sort((a, b) => b - a)[19];
    assert.ok(k.every((i) => s[i] >= threshold) && k.length === 20);
  });
});
