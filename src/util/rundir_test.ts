import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeFileAtomic } from './atomic.js';
import { claimRunDir, lockRunDir, settingsHash } from './rundir.js';

const tmp = mkdtempSync(join(tmpdir(), 'auraprune-rundir-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('settings hash ignores key order and changes with any value', () => {
  assert.equal(settingsHash({ a: 1, b: 2 }), settingsHash({ b: 2, a: 1 }));
  assert.notEqual(settingsHash({ a: 1, b: 2 }), settingsHash({ a: 1, b: 3 }));
});

test('a run directory is locked; a stale lock (dead pid) is taken over', () => {
  const d = join(tmp, 'locked');
  const release = lockRunDir(d);
  writeFileSync(join(d, '.lock'), '1'); // pid 1 is alive: someone else holds it
  assert.throws(() => lockRunDir(d), /in use by process 1/);
  writeFileSync(join(d, '.lock'), '999999999'); // no such process
  const r2 = lockRunDir(d);
  assert.equal(readFileSync(join(d, '.lock'), 'utf8'), String(process.pid));
  r2();
  release();
  assert.ok(!existsSync(join(d, '.lock')));
});

test('resume with other settings is refused with the differing keys; a held directory needs --resume', () => {
  const d = join(tmp, 'run');
  const a = claimRunDir(d, { epochs: 10, lr: 1.5 }, { marker: 'checkpoint', record: { command: 'train' } });
  a.release();
  mkdirSync(join(d, 'checkpoint'));
  assert.throws(() => claimRunDir(d, { epochs: 10, lr: 1.5 }, { marker: 'checkpoint' }), /already holds a run; pass --resume/);
  assert.throws(
    () => claimRunDir(d, { epochs: 12, lr: 1.5 }, { marker: 'checkpoint', resume: true }),
    /other settings \(epochs: 10 -> 12\)/,
  );
  const before = readFileSync(join(d, 'config.json'), 'utf8');
  const b = claimRunDir(d, { epochs: 10, lr: 1.5 }, { marker: 'checkpoint', resume: true, record: { command: 'train' } });
  assert.ok(b.resumed);
  assert.equal(readFileSync(join(d, 'config.json'), 'utf8'), before, 'same settings: config unchanged');
  b.release();
});

test('atomic writes replace the target and leave no temp file', () => {
  const f = join(tmp, 'x.json');
  writeFileAtomic(f, 'one');
  writeFileAtomic(f, 'two');
  assert.equal(readFileSync(f, 'utf8'), 'two');
  assert.deepEqual(
    readdirSync(tmp).filter((n: string) => n.endsWith('.tmp')),
    [],
  );
});

test('a symlink planted at the target is replaced, never written through', () => {
  const outside = join(tmp, 'outside.txt');
  writeFileSync(outside, 'secret');
  const f = join(tmp, 'planted.json');
  symlinkSync(outside, f);
  writeFileAtomic(f, 'new');
  assert.equal(readFileSync(outside, 'utf8'), 'secret', 'the symlink target is untouched');
  assert.equal(lstatSync(f).isSymbolicLink(), false);
  assert.equal(readFileSync(f, 'utf8'), 'new');
});

test('the settings hash sees nested settings and ignores key order', () => {
  assert.notEqual(settingsHash({ finetune: { epochs: 1, lr: 0.1 } }), settingsHash({ finetune: { epochs: 2, lr: 0.1 } }));
  assert.equal(settingsHash({ a: 1, b: { c: [1, { d: 2, e: 3 }] } }), settingsHash({ b: { c: [1, { e: 3, d: 2 }] }, a: 1 }));
});
