import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { setFallbackLogger, useBestBackend } from '../../engine/backend/index.js';
import { buildModel } from '../../models/zoo.js';
import { costModel } from '../select/cost.js';
import { pruningUnits } from '../graph/graph.js';
import { allocateSensitivity, allocateUniform } from './allocate.js';
import { LatencyTable, measureLatency, predictedSpeedup, withLatency } from './latency.js';

before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
});

const model = buildModel('vgg16', { width: 0.125, seed: 1 });
const units = pruningUnits(model);

/** A made-up table: every prunable conv costs 1 ms per unit of index (late layers dearer), 2 ms fixed. */
function table(): LatencyTable {
  const of = (k: number) => ({ fixed: 0, total: units[k].filters, parts: [[k, units[k].filters]] as Array<[number, number]> });
  const pieces = units.map((u, k) => ({ layer: u.conv, seconds: (k + 1) / 1000, in: k > 0 ? of(k - 1) : null, out: of(k) }));
  const fixed = 0.002;
  return { batch: 1, base: fixed + pieces.reduce((a, p) => a + p.seconds, 0), fixed, pieces };
}

test('a speed-up target is met within 10% (predicted), uniform and sensitivity allocations', () => {
  const cost = withLatency(costModel(model, units), table());
  for (const s of [1.5, 2, 3]) {
    const { kept } = allocateUniform(cost, { by: 'latency', fraction: 1 - 1 / s });
    const got = predictedSpeedup(cost, kept);
    assert.ok(Math.abs(got / s - 1) < 0.1, `uniform: asked ${s}x, predicted ${got}`);
  }
  // with equal losses per step, the greedy removes time where it is cheapest: the dear late layers first
  const curves = units.map((u) => ({ conv: u.conv, fractions: [0.2, 0.4, 0.6, 0.8], loss: [1.1, 1.2, 1.3, 1.4] }));
  const r = allocateSensitivity(cost, curves, { by: 'latency', fraction: 0.5 }, 1);
  const got = predictedSpeedup(cost, r.kept);
  assert.ok(Math.abs(got / 2 - 1) < 0.1, `sensitivity: asked 2x, predicted ${got}`);
  assert.ok(r.fractions[units.length - 1] >= r.fractions[0], `late layer removes at least as much: ${r.fractions.join(',')}`);
});

test('the latency table: the unpruned prediction is its timed pieces plus the rest; every prunable conv is timed', () => {
  const t = measureLatency(model, units, { batch: 2, repeats: 3 });
  const cost = withLatency(costModel(model, units), t);
  const sum = t.fixed + t.pieces.reduce((a, p) => a + p.seconds, 0);
  assert.ok(Math.abs(cost.total.latency! - sum) < 1e-12);
  for (const u of units)
    assert.ok(
      t.pieces.some((p) => p.layer === u.conv && p.out !== null),
      `${u.conv} timed`,
    );
  assert.ok(t.pieces.every((p) => p.seconds > 0));
  // nothing kept but one filter per layer predicts a faster model than the full one
  assert.ok(
    predictedSpeedup(
      cost,
      units.map(() => 1),
    ) > 1,
  );
});
