/** The library entry point (src/index.ts, the package's `exports`): the README's script on a tiny model. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as auraprune from '../src/index.js';
import { CIFAR_DIR, NEEDS_CIFAR } from './helpers/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'auraprune-lib-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('library: load a user model, score with aura, prune 50% FLOPs, re-estimate BN, save, reload', NEEDS_CIFAR, async () => {
  const { useBestBackend, buildModel, saveModel, loadModel, loadCifar10Splits, balancedSample, scoreModel, toScoresFile } = auraprune;
  await useBestBackend();
  await saveModel(buildModel('vgg16', { width: 0.125, seed: 2 }), join(tmp, 'user'));
  const model = await loadModel(join(tmp, 'user'));
  const data = await loadCifar10Splits({ data: CIFAR_DIR, trainLimit: 2000, valSize: 200 });
  const calib = balancedSample(data.train, 5, 1);
  const [aura] = await scoreModel(model, calib, ['aura'], { quiet: true });
  const { model: pruned, report } = await auraprune.pruneWithScores(model, toScoresFile(aura), { by: 'flops', fraction: 0.5 });
  assert.ok(Math.abs(report.achieved.flops - 0.5) < 0.01);
  assert.equal(auraprune.recalibrateBatchNorm(pruned, calib, { batches: 1, batch: 50 }), 50);
  await saveModel(pruned, join(tmp, 'pruned'));
  const back = await loadModel(join(tmp, 'pruned'));
  assert.equal(auraprune.countComplexity(back).flops, report.pruned.flops);
  assert.equal(typeof auraprune.info.spatialMIMatrix, 'function');
});
