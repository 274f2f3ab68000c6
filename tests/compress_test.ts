/**
 * `auraprune compress`: K rounds of score -> prune -> BN re-estimation -> fine-tune reach the FLOPs
 * target within 1%, and a run killed with SIGKILL between rounds resumes at the next round without
 * redoing the finished one.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { setFallbackLogger, useBestBackend } from '../src/engine/backend/index.js';
import { saveModel } from '../src/models/io.js';
import { buildModel } from '../src/models/zoo.js';
import { CIFAR_DIR, NEEDS_CIFAR } from './helpers/fixtures.js';

const MAIN = resolve(import.meta.dirname, '../src/cli/main.ts');
const tmp = mkdtempSync(join(tmpdir(), 'auraprune-compress-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
});

test('three rounds reach 50% of FLOPs within 1%; kill -9 after round 1 resumes at round 2', NEEDS_CIFAR, async () => {
  const base = join(tmp, 'base');
  await saveModel(buildModel('fast', { width: 0.125, seed: 1 }), join(base, 'best'));
  // the training run's record: the split later commands rebuild
  writeFileSync(
    join(base, 'config.json'),
    JSON.stringify({ command: 'train', valSize: 200, seed: 1, trainLimit: 1200, dataDir: CIFAR_DIR }),
  );
  const out = join(tmp, 'out');
  const args = [
    '--import',
    'tsx',
    MAIN,
    'compress',
    '--model',
    join(base, 'best'),
    '--target-flops',
    '0.5',
    '--rounds',
    '3',
    '--criterion',
    'l1',
    '--epochs',
    '1',
    '--train-limit',
    '300',
    '--per-class',
    '5',
    '--data',
    CIFAR_DIR,
    '--threads',
    '1',
    '--out',
    out,
  ];
  // first process: killed with SIGKILL as soon as round 1 is finished
  const round1 = join(out, 'rounds', 'round1', 'finetuned', 'compare.json');
  const child = spawn(process.execPath, args, { stdio: 'ignore' });
  const t0 = Date.now();
  while (!existsSync(round1) && Date.now() - t0 < 240_000) await new Promise((r) => setTimeout(r, 100));
  assert.ok(existsSync(round1), 'round 1 finished');
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const mtime = statSync(round1).mtimeMs;
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(statSync(round1).mtimeMs, mtime, 'round 1 was not redone');
  const summary = JSON.parse(readFileSync(join(out, 'compress.json'), 'utf8')) as {
    finished: boolean;
    rounds: Array<{ flopsRemoved: number; target: number }>;
  };
  assert.ok(summary.finished);
  assert.deepEqual(
    summary.rounds.map((x) => +x.target.toFixed(4)),
    [1, 2, 3].map((k) => +(1 - 0.5 ** (k / 3)).toFixed(4)),
    'geometric schedule',
  );
  summary.rounds.forEach((x) =>
    assert.ok(Math.abs(x.flopsRemoved - x.target) < 0.01, `round target ${x.target}: removed ${x.flopsRemoved}`),
  );
  assert.ok(existsSync(join(out, 'final', 'model.json')));
  // each round's records are those of prune and finetune
  for (const k of [1, 2, 3]) {
    const d = join(out, 'rounds', `round${k}`);
    assert.equal(JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')).command, 'prune');
    assert.ok(existsSync(join(d, 'prune-report.json')) && existsSync(join(d, 'finetuned', 'compare.json')));
  }
});
