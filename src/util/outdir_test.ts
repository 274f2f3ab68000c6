import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { claimOutDir, dirKind } from './outdir.js';

const tmp = mkdtempSync(join(tmpdir(), 'auraprune-outdir-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const model = join(tmp, 'model');
mkdirSync(model);
writeFileSync(join(model, 'model.json'), '{}');
const trainRun = join(tmp, 'train-run');
mkdirSync(join(trainRun, 'checkpoint'), { recursive: true });
writeFileSync(join(trainRun, 'config.json'), JSON.stringify({ command: 'train', settings: {} }));

test('export --out M: the input itself (also through a link, or given as model.json) is refused', () => {
  assert.throws(() => claimOutDir(model, 'export', { inputs: [model] }), /--out .* is the input .*: writing there would replace it/);
  assert.throws(() => claimOutDir(model, 'export', { inputs: [join(model, 'model.json')] }), /is the input/);
  symlinkSync(model, join(tmp, 'link-to-model'));
  assert.throws(() => claimOutDir(join(tmp, 'link-to-model'), 'export', { inputs: [model] }), /is a symbolic link/);
  assert.throws(() => claimOutDir(join(model, 'sub'), 'export', { inputs: [model] }), /lies inside the input/);
  assert.ok(!existsSync(join(model, 'sub')), 'nothing created');
});

test("prune --out TRAIN_RUN: another command's run is refused; an empty or own directory is taken and locked", () => {
  assert.equal(dirKind(trainRun), 'train');
  assert.throws(() => claimOutDir(trainRun, 'prune', { inputs: [model] }), /holds the output of `train`.*choose another --out/);
  const out = join(tmp, 'pruned');
  const release = claimOutDir(out, 'prune', { inputs: [model] });
  assert.ok(existsSync(join(out, '.lock')));
  release();
  // another live process holding it (our parent stands in for one): refused with its pid
  writeFileSync(join(out, '.lock'), String(process.ppid));
  assert.throws(() => claimOutDir(out, 'prune', { inputs: [model] }), new RegExp(`in use by process ${process.ppid}`));
  rmSync(join(out, '.lock'));
  writeFileSync(join(out, 'config.json'), JSON.stringify({ command: 'prune' }));
  claimOutDir(out, 'prune', { inputs: [model] })();
  // finetune's default directory lies inside its input, which it may
  claimOutDir(join(out, 'finetuned'), 'finetune', { inputs: [out], insideOk: true })();
});
