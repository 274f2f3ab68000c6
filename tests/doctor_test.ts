/** `auraprune doctor` names what is missing and how to fix it (here: Chromium and CIFAR-10 made absent). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { loadNative } from '../src/engine/native/native.js';

const MAIN = resolve(import.meta.dirname, '../src/cli/main.ts');
const tmp = mkdtempSync(join(tmpdir(), 'auraprune-doctor-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('doctor: one line per item, a fix for each missing one, and a JSON summary', () => {
  const env = { ...process.env, CHROMIUM_PATH: join(tmp, 'no-chromium'), AURAPRUNE_CACHE: join(tmp, 'cache') };
  delete env.CIFAR10_DIR;
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'doctor'], { encoding: 'utf8', env, timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(
    r.stdout,
    /^FIX chromium +none at .*no-chromium: no PNG charts, no bench web -> apt-get install -y chromium, or set CHROMIUM_PATH$/m,
  );
  assert.match(r.stdout, /^FIX cifar10 +not found .* -> any command downloads it on first use/m);
  const summary = JSON.parse(lines.at(-1)!);
  assert.equal(summary.chromium, false);
  assert.equal(summary.cifar10, false);
  // the blocked ReLU6 line says what the built addon has, and the fix when it lacks it
  if (summary.relu6 !== undefined) assert.equal(summary.relu6, loadNative()!.blockedClip);
  if (summary.relu6 === false) assert.match(r.stdout, /^FIX relu6 .* -> apt-get install -y libideep-dev libdnnl-dev/m);
  assert.deepEqual(Object.keys(summary), [
    'backend',
    ...(summary.blas === undefined ? [] : ['blas', 'relu6']),
    'chromium',
    'sharp',
    'cifar10',
    'fashion-mnist',
    'redis',
    'node',
  ]);
});
