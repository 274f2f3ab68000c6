import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CIFAR_DIR, NEEDS_CIFAR } from '../../tests/helpers/fixtures.js';
import type { ImageSplit } from './dataset.js';
import { balancedSample } from './pipeline.js';
import { loadData, trainingRunSettings } from './splits.js';

const tmp = mkdtempSync(join(tmpdir(), 'auraprune-splits-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const keys = (s: ImageSplit) =>
  new Set(Array.from({ length: s.n }, (_, i) => Buffer.from(s.images.subarray(i * 3072, (i + 1) * 3072)).toString('base64')));

describe('splits rebuilt by later commands', NEEDS_CIFAR, () => {
  test("after train --train-limit, the split a later command rebuilds from the run's config holds none of the base's training images", async () => {
    // the base run: 600 training images, 60 of them held out for validation (seed 3)
    const run = join(tmp, 'run');
    mkdirSync(join(run, 'best'), { recursive: true });
    writeFileSync(
      join(run, 'config.json'),
      JSON.stringify({ command: 'train', valSize: 60, seed: 3, trainLimit: 600, dataDir: CIFAR_DIR }),
    );
    const base = await loadData(CIFAR_DIR, 60, 3, 600);
    // a later command (prune, finetune, experiment) given only the model directory
    const s = trainingRunSettings(join(run, 'best'));
    assert.deepEqual([s.valSize, s.seed, s.trainLimit, s.dataDir], [60, 3, 600, CIFAR_DIR]);
    const later = await loadData(s.dataDir, s.valSize!, s.seed!, s.trainLimit);
    const trained = keys(base.train);
    const val = keys(later.val);
    assert.equal(val.size, 60);
    assert.equal([...val].filter((k) => trained.has(k)).length, 0, 'no validation image was a training image of the base');
    assert.deepEqual(val, keys(base.val), 'the same validation split');
    // the calibration sample comes from the training side, never from validation
    assert.equal([...keys(balancedSample(later.train, 5, 1))].filter((k) => val.has(k)).length, 0);
    // without the limit (the old bug) the split would differ and overlap the base's training images
    const wrong = await loadData(CIFAR_DIR, 60, 3);
    assert.ok([...keys(wrong.val)].some((k) => trained.has(k)));
  });
});

test('a pruned model, and the fine-tuned one inside it, lead back to their training run (eval --split val rebuilds that split)', () => {
  const run = join(tmp, 'chain-run');
  mkdirSync(join(run, 'best'), { recursive: true });
  writeFileSync(join(run, 'config.json'), JSON.stringify({ command: 'train', valSize: 70, seed: 4, trainLimit: 700 }));
  const pruned = join(tmp, 'chain-pruned');
  mkdirSync(join(pruned, 'finetuned', 'best'), { recursive: true });
  writeFileSync(join(pruned, 'config.json'), JSON.stringify({ command: 'prune', source: join(run, 'best') }));
  writeFileSync(join(pruned, 'finetuned', 'config.json'), JSON.stringify({ command: 'finetune', pruned, source: join(run, 'best') }));
  for (const m of [pruned, join(pruned, 'finetuned', 'best')])
    assert.deepEqual(
      (({ valSize, seed, trainLimit }) => ({ valSize, seed, trainLimit }))(trainingRunSettings(m)),
      { valSize: 70, seed: 4, trainLimit: 700 },
      m,
    );
  // a loop of records ends instead of spinning
  const a = join(tmp, 'loop-a');
  mkdirSync(a);
  writeFileSync(join(a, 'config.json'), JSON.stringify({ command: 'prune', source: a }));
  assert.deepEqual(trainingRunSettings(a), {});
});
