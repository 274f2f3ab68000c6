/** The fine-tune budget a user gets without flags: the recipe's defaults, distillation only with a teacher. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { finetuneBudget } from './finetune.js';

test('airbench bases default to 5 epochs with distillation; sgd bases to 8 without', () => {
  assert.deepEqual(finetuneBudget('airbench', {}, 'runs/base', 'p/config.json'), { epochs: 5, distill: true });
  assert.deepEqual(finetuneBudget('sgd', {}, 'runs/base', 'p/config.json'), { epochs: 8, distill: false });
});

test('explicit flags win over the defaults, both ways', () => {
  assert.deepEqual(finetuneBudget('airbench', { epochs: 2, distill: false }, 'runs/base', 'p/config.json'), { epochs: 2, distill: false });
  assert.deepEqual(finetuneBudget('sgd', { distill: true }, 'runs/base', 'p/config.json'), { epochs: 8, distill: true });
});

test('without a source model the default distillation is off, and an explicit one names the file', () => {
  assert.deepEqual(finetuneBudget('airbench', {}, undefined, 'p/config.json'), { epochs: 5, distill: false });
  assert.throws(
    () => finetuneBudget('airbench', { distill: true }, undefined, 'p/config.json'),
    /--distill needs the unpruned model: p\/config.json names no source/,
  );
});
