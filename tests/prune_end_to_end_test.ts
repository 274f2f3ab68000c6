/**
 * End to end on a CIFAR-10 subset: train a tiny model, score with aura, prune 50% of FLOPs
 * (filters physically removed), fine-tune one epoch; accuracy above chance and reports written.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setFallbackLogger, useBestBackend } from '../src/engine/backend/index.js';
import { loadCifar10 } from '../src/data/cifar10.js';
import { balancedSample, subset, trainValSplit } from '../src/data/pipeline.js';
import { countComplexity } from '../src/eval/complexity.js';
import { evaluate } from '../src/eval/evaluate.js';
import { loadModel, saveModel } from '../src/models/io.js';
import { buildModel } from '../src/models/zoo.js';
import { scoreModel } from '../src/prune/importance/registry.js';
import { pruneWithScores, toScoresFile } from '../src/prune/pipeline.js';
import { trainModel, TrainConfig } from '../src/train/loop.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import { CIFAR_DIR, NEEDS_CIFAR, SMALL_SGD } from './helpers/fixtures.js';

const DIR = CIFAR_DIR;
const tmp = mkdtempSync(join(tmpdir(), 'auraprune-e2e-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
});

test('train -> aura scores -> prune 50% FLOPs -> fine-tune 1 epoch: above chance, smaller, report written', NEEDS_CIFAR, async () => {
  const all = loadCifar10(DIR, 'train', { limit: 3000 });
  const { train, val } = trainValSplit(all, 500, 1);
  const test = subset(
    loadCifar10(DIR, 'test', { limit: 1000 }),
    Array.from({ length: 1000 }, (_, i) => i),
  );
  const cfg: TrainConfig = { ...SMALL_SGD, epochs: 2 };
  const base = await trainModel(buildModel('fast', { width: 0.25, seed: 1 }), cfg, { train, val }, join(tmp, 'base'), { quiet: true });
  const model = await loadModel(join(tmp, 'base', 'best'));
  const [scores] = await scoreModel(model, balancedSample(train, 10, 1), ['aura'], { quiet: true, seed: 1 });
  const { model: pruned, report } = await pruneWithScores(model, toScoresFile(scores), { by: 'flops', fraction: 0.5 });
  assert.ok(Math.abs(report.achieved.flops - 0.5) < 0.01, `FLOPs removed ${report.achieved.flops}`);
  assert.ok(countComplexity(pruned).params < countComplexity(model).params, 'physically smaller');
  await saveModel(pruned, join(tmp, 'pruned'));
  writeFileAtomic(join(tmp, 'pruned', 'prune-report.json'), JSON.stringify(report));
  const ft = await trainModel(
    await loadModel(join(tmp, 'pruned')),
    { ...cfg, epochs: 1, lr: 0.01, schedule: 'cosine' },
    { train, val, test },
    join(tmp, 'ft'),
    { quiet: true },
  );
  assert.ok(ft.test!.accuracy > 0.15, `fine-tuned test accuracy ${ft.test!.accuracy} (chance 0.10)`);
  assert.ok(existsSync(join(tmp, 'ft', 'result.json')));
  const rep = JSON.parse(readFileSync(join(tmp, 'pruned', 'prune-report.json'), 'utf8'));
  assert.equal(rep.units.length, report.units.length);
  assert.ok(base.bestValAcc > 0.15);
  assert.ok(evaluate(pruned, val).n === val.n);
});
