/**
 * End to end on a data set that is not CIFAR-10: Fashion-MNIST (28x28x1) from Debian's
 * dataset-fashion-mnist package, through the command line as a user runs it: train a small network,
 * score with aura and prune half the FLOPs, fine-tune, evaluate.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { DEBIAN_FASHION_MNIST } from '../src/data/open.js';

const tmp = mkdtempSync(join(tmpdir(), 'auraprune-fmnist-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const MAIN = resolve(import.meta.dirname, '../src/cli/main.ts');
const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', timeout: 300_000 });
const last = (out: string) => JSON.parse(out.trim().split('\n').pop()!);
const skip = !existsSync(DEBIAN_FASHION_MNIST) && `${DEBIAN_FASHION_MNIST} absent (apt-get install dataset-fashion-mnist)`;

test('Fashion-MNIST: train, aura-prune 50% of FLOPs, fine-tune and evaluate, all above chance and smaller', { skip }, () => {
  const run = join(tmp, 'run');
  const tr = cli(
    'train',
    '--data',
    DEBIAN_FASHION_MNIST,
    '--width',
    '0.25',
    '--epochs',
    '3',
    '--train-limit',
    '12000',
    '--val-size',
    '1000',
    '--tta',
    '0',
    '--out',
    run,
  );
  assert.equal(tr.status, 0, tr.stderr);
  const t = last(tr.stdout);
  // ten classes: chance is 10%; three short epochs reach about 80%
  assert.ok(t.testAcc > 0.5, `trained test accuracy ${t.testAcc}`);
  const cfg = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
  assert.deepEqual(cfg.dataInfo.shape, [28, 28, 1]);
  assert.equal(cfg.dataInfo.name, 'fashion-mnist');

  // prune finds the data from the run's record (no --data)
  const pruned = join(tmp, 'pruned');
  const pr = cli(
    'prune',
    '--model',
    join(run, 'best'),
    '--criterion',
    'aura',
    '--target-flops',
    '0.5',
    '--per-class',
    '10',
    '--out',
    pruned,
  );
  assert.equal(pr.status, 0, pr.stderr);
  const p = last(pr.stdout);
  assert.ok(p.flops < 0.55 * t.flops && p.params < t.params, `pruned ${p.flops} FLOPs of ${t.flops}`);
  assert.ok(existsSync(join(pruned, 'prune-report.json')));
  assert.ok(p.valAccRecalibratedBn > 0.1, `after pruning and BN re-estimation: ${p.valAccRecalibratedBn}`);

  const ft = cli('finetune', '--model', pruned, '--epochs', '1', '--train-limit', '6000', '--tta', '0');
  assert.equal(ft.status, 0, ft.stderr);
  const ev = cli('eval', '--model', join(pruned, 'finetuned'), '--split', 'test');
  assert.equal(ev.status, 0, ev.stderr);
  const e = last(ev.stdout);
  assert.equal(e.n, 10000);
  assert.equal(e.perClassAccuracy.length, 10);
  assert.ok(e.accuracy > 0.5, `pruned and fine-tuned test accuracy ${e.accuracy}`);
  assert.ok(existsSync(join(pruned, 'finetuned', 'compare.json')));
  // the fine-tune's report: curves and the comparison with the unpruned model
  const rep = cli('report', '--dir', join(pruned, 'finetuned'));
  assert.equal(rep.status, 0, rep.stderr);
  assert.match(readFileSync(join(pruned, 'finetuned', 'report.html'), 'utf8'), /auraprune fine-tune/);
});
