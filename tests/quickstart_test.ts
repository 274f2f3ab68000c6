/**
 * The README's test command in a fresh clone, as a newcomer runs it: without CIFAR10_DIR, tests find
 * CIFAR-10 in the cache the demo downloads into; with the data nowhere, they pass by skipping and say
 * why. To stay affordable the command is given one data-reading test file (the whole suite is what CI
 * runs anyway); node_modules is linked from this checkout instead of reinstalled.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { CIFAR_DIR, NEEDS_CIFAR } from './helpers/fixtures.js';

const repo = resolve(import.meta.dirname, '..');
const tmp = mkdtempSync(join(tmpdir(), 'auraprune-quickstart-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const git = spawnSync('git', ['-C', repo, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
const skip = git.status !== 0 ? 'not a git checkout (or git missing): nothing to clone' : NEEDS_CIFAR.skip;

/** The Quick start's second command (the tests), as printed in the README. */
function readmeTestCommand(): string[] {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const block = readme.split('## Quick start')[1].split('```sh')[1].split('```')[0];
  const lines = block
    .trim()
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim());
  assert.equal(lines.length, 2, 'the quick start is exactly two commands');
  return lines[1].split(/\s+/);
}

test(
  'a fresh clone: the README test command finds CIFAR-10 in the cache, and skips with the reason when it is nowhere',
  skip ? { skip } : {},
  () => {
    const clone = join(tmp, 'auraprune');
    const c = spawnSync('git', ['clone', '-q', repo, clone], { encoding: 'utf8' });
    assert.equal(c.status, 0, c.stderr);
    symlinkSync(join(repo, 'node_modules'), join(clone, 'node_modules'));
    const cache = join(tmp, 'cache');
    mkdirSync(cache);
    for (const f of ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'])
      symlinkSync(join(CIFAR_DIR, f), join(cache, f));
    const [cmd, ...args] = readmeTestCommand();
    assert.deepEqual([cmd, ...args], ['npm', 'test']);
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.CIFAR10_DIR;
    delete env.NODE_TEST_CONTEXT; // a run of its own, not a subtest of this one
    const run = (cacheDir: string) =>
      spawnSync(cmd, [...args, '--', 'src/data/cifar10_test.ts'], {
        cwd: clone,
        env: { ...env, AURAPRUNE_CACHE: cacheDir },
        encoding: 'utf8',
        timeout: 300_000,
      });
    const cached = run(cache);
    assert.equal(cached.status, 0, cached.stdout + cached.stderr);
    assert.match(cached.stdout, /# skipped 0/);
    assert.match(cached.stdout, /# pass [1-9]/);
    const nowhere = run(join(tmp, 'empty'));
    assert.equal(nowhere.status, 0, nowhere.stdout + nowhere.stderr);
    assert.match(nowhere.stdout, /# SKIP CIFAR-10 not found in .*set CIFAR10_DIR/);
    assert.match(nowhere.stdout, /# fail 0/);
  },
);
