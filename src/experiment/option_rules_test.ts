import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ruleError } from './option_rules.js';

test('job fields are held to the same limits as the CLI options they come from', () => {
  assert.equal(ruleError('options.finetune.batch', 128, 'batch'), null);
  assert.match(ruleError('options.finetune.batch', 0, 'batch')!, /^options\.finetune\.batch must be within \[1, 65536\], got 0$/);
  assert.match(ruleError('options.finetune.epochs', 100000, 'finetuneEpochs')!, /within \[0, 10000\]/);
  assert.match(ruleError('options.finetune.lr', Infinity, 'lr')!, /must be a number/);
  assert.match(ruleError('settings.where', 'disk', 'where')!, /must be one of conv, bn, relu, got "disk"/);
  assert.match(ruleError('options.perClass', '5', 'perClass')!, /must be a number, got "5"/);
});
