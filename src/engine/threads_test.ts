import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { registerLibtorchBackend, useBestBackend } from './backend/index.js';
import { resetThreadBudget, setThreadBudget, threadBudget } from './threads.js';
import { implementationOf, VARIANTS } from '../experiment/study.js';

test('--threads bounds aura counting too: the budget reaches the kernel choice and the recorded implementation', async () => {
  resetThreadBudget();
  assert.equal(threadBudget(), availableParallelism(), 'unset: every core');
  const cores = availableParallelism();
  assert.match(implementationOf(VARIANTS.aura!), new RegExp(`, ${cores} threads?$`));
  // what `--threads 1` does in every command: registers the backend with the count (with or without the addon)
  registerLibtorchBackend({ threads: 1 });
  assert.equal(threadBudget(), 1);
  assert.match(implementationOf(VARIANTS.aura!), /^(native kernel|TypeScript), 1 thread$/);
  resetThreadBudget();
  await useBestBackend({ backend: 'cpu', threads: 1 });
  assert.equal(threadBudget(), 1, '--backend cpu --threads 1 bounds aura counting as well');
  assert.throws(() => setThreadBudget(0), /positive integer/);
  assert.throws(() => setThreadBudget(1.5), /positive integer/);
  resetThreadBudget();
});
