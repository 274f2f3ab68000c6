/**
 * The pruning benchmark on a tiny airbench base trained on a CIFAR-10 subset: iterative rounds reach
 * the FLOPs target, distillation and BN re-estimation run, the speed-up is measured, the results line
 * carries the accuracy at every budget, and a rerun skips the finished cell.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setFallbackLogger, useBestBackend } from '../src/engine/backend/index.js';
import { loadCifar10 } from '../src/data/cifar10.js';
import { subset, trainValSplit } from '../src/data/pipeline.js';
import { buildAirbench, initWhitening } from '../src/models/airbench.js';
import { roundTarget, runPruneBench } from '../src/experiment/prune_bench.js';
import { trainModel, TrainConfig } from '../src/train/loop.js';
import { loadModel } from '../src/models/io.js';
import { pruningUnits } from '../src/prune/graph/graph.js';
import { PRESETS } from '../src/train/recipes.js';
import { CIFAR_DIR, NEEDS_CIFAR } from './helpers/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'auraprune-pbench-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
});

test('geometric round targets: K rounds end exactly at F, each round removes the same share of what is left', () => {
  assert.ok(Math.abs(roundTarget(0.7, 3, 3) - 0.7) < 1e-12);
  const kept = [1, 2, 3].map((k) => 1 - roundTarget(0.7, k, 3));
  assert.ok(Math.abs(kept[1] / kept[0] - kept[0]) < 1e-12 && Math.abs(kept[2] / kept[1] - kept[0]) < 1e-12);
});

test('bench prune: 2 rounds to 50% FLOPs with distillation; accuracy at every budget; rerun skips', NEEDS_CIFAR, async () => {
  const all = loadCifar10(CIFAR_DIR, 'train', { limit: 2500 });
  const { train, val } = trainValSplit(all, 500, 1);
  const testSet = subset(
    loadCifar10(CIFAR_DIR, 'test', { limit: 500 }),
    Array.from({ length: 500 }, (_, i) => i),
  );
  const recipe: TrainConfig = { ...(PRESETS.airbench as TrainConfig), epochs: 2, batch: 256, lr: 0.4, weightDecay: 5e-4, seed: 1 };
  const net = buildAirbench({ width: 0.25, seed: 1 });
  initWhitening(net, train, 500);
  await trainModel(net, recipe, { train, val }, join(tmp, 'base'), { quiet: true });
  const out = join(tmp, 'bench');
  const opts = {
    cells: [{ target: 0.5, criterion: 'l1', allocation: 'uniform' as const, epochs: 2, lrScale: 0.5, distill: true, rounds: 2 }],
    seed: 1,
    recipe,
    perClass: 10,
    recalBatches: 2,
    tta: 1 as const,
    distill: { temperature: 4, alpha: 0.5 },
    sensitivityImages: 200,
    quiet: true,
  };
  const lines = await runPruneBench(join(tmp, 'base', 'best'), { train, val, test: testSet }, out, opts);
  assert.equal(lines.length, 1);
  const l = lines[0] as Record<string, number & unknown> & { rounds: Array<Record<string, number>>; speed: Record<string, number> };
  assert.ok(Math.abs(l.flopsRemoved - 0.5) < 0.01, `FLOPs removed ${l.flopsRemoved}`);
  assert.equal(l.rounds.length, 2);
  assert.ok(Math.abs(l.rounds[0].flopsRemoved - roundTarget(0.5, 1, 2)) < 0.01, `round 1 removed ${l.rounds[0].flopsRemoved}`);
  for (const k of ['testAccRaw', 'testAccRecalBn', 'testAcc', 'testAccTta']) assert.ok(l[k] >= 0 && l[k] <= 1, `${k} = ${l[k]}`);
  assert.ok(l.testAcc > 0.15, `fine-tuned accuracy above chance: ${l.testAcc}`);
  assert.ok(l.speed.speedup > 0 && l.speed.aLatencyMs > 0 && l.speed.bLatencyMs > 0);
  // rerun: nothing new, the results file unchanged
  const before = readFileSync(join(out, 'results.jsonl'), 'utf8');
  assert.equal((await runPruneBench(join(tmp, 'base', 'best'), { train, val, test: testSet }, out, opts)).length, 0);
  assert.equal(readFileSync(join(out, 'results.jsonl'), 'utf8'), before);
  // a sensitivity-allocated cell without fine-tune: curves measured and cached, target met
  const sens = await runPruneBench(join(tmp, 'base', 'best'), { train, val, test: testSet }, out, {
    ...opts,
    cells: [{ target: 0.5, criterion: 'l1', allocation: 'sensitivity' as const, epochs: 0, lrScale: 1, distill: false, rounds: 1 }],
  });
  const sl = sens[0] as Record<string, number>;
  assert.ok(Math.abs(sl.flopsRemoved - 0.5) < 0.03 && sl.flopsRemoved >= 0.5, `sensitivity FLOPs removed ${sl.flopsRemoved}`);
  assert.equal(sl.testAcc, sl.testAccRecalBn, 'no fine-tune: the final model is the recalibrated one');
  const curves = JSON.parse(readFileSync(join(out, 'sensitivity-l1-coupled-s1.json'), 'utf8'));
  assert.equal(curves.curves.length, pruningUnits(await loadModel(join(tmp, 'base', 'best'))).length);
  assert.ok(curves.curves.every((c: { loss: number[] }) => c.loss.length === 9 && c.loss.every(Number.isFinite)));
  // whole channel blocks: a cell of its own (not the finished uniform one), every kept count a multiple of 8
  const blocks = await runPruneBench(join(tmp, 'base', 'best'), { train, val, test: testSet }, out, {
    ...opts,
    cells: [{ target: 0.5, criterion: 'l1', allocation: 'uniform' as const, epochs: 0, lrScale: 1, distill: false, rounds: 1, roundTo: 8 }],
  });
  assert.equal(blocks.length, 1);
  const bl = blocks[0] as { key: string; flopsRemoved: number; rounds: Array<{ keptPerLayer: Record<string, string> }> };
  assert.match(bl.key, /\|r8\|coupled\|s1$/);
  assert.ok(bl.flopsRemoved >= 0.5 && bl.flopsRemoved < 0.6, `FLOPs removed ${bl.flopsRemoved}`);
  for (const [conv, kt] of Object.entries(bl.rounds[0].keptPerLayer)) {
    const [k, n] = kt.split('/').map(Number);
    assert.ok(k % 8 === 0 || k === n, `${conv} keeps ${kt}`);
  }
  // slimming before bn-scale: the airbench base's scales are all 1 (bn-scale refuses it), so scoring
  // succeeds only if the slimming phase trained them; the slimmed base is cached under the cell's tag.
  // final/, not best/: the whitening conv is frozen (out of pruning) only from the last epoch on
  const finalBase = join(tmp, 'base', 'final');
  const slimCell = {
    target: 0.5,
    criterion: 'bn-scale',
    allocation: 'uniform' as const,
    epochs: 0,
    lrScale: 0.5,
    distill: false,
    rounds: 1,
  };
  await assert.rejects(
    runPruneBench(finalBase, { train, val, test: testSet }, out, { ...opts, cells: [slimCell] }),
    /every batch-norm scale/,
  );
  const slimmed = await runPruneBench(finalBase, { train, val, test: testSet }, out, {
    ...opts,
    cells: [{ ...slimCell, slim: { kind: 'bn-l1' as const, lambda: 0.05, epochs: 1 } }],
  });
  const sm = slimmed[0] as { key: string; flopsRemoved: number; slim: Record<string, number> };
  assert.match(sm.key, /\|coupled\|slim-bn-l1-0.05-e1\|s1$/);
  assert.ok(sm.slim.gammaMedian < 0.99 && sm.slim.seconds > 0, `slimmed scales: ${JSON.stringify(sm.slim)}`);
  assert.ok(sm.flopsRemoved >= 0.49, `FLOPs removed ${sm.flopsRemoved}`);
  const scores = JSON.parse(readFileSync(join(out, 'scores-bn-scale_slim-bn-l1-0.05-e1-lr0.5-s1.json'), 'utf8'));
  assert.ok(
    scores.units.some((u: { scores: number[] }) => new Set(u.scores).size > 1),
    'bn-scale scores differ within a layer',
  );
});
