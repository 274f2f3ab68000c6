import assert from 'node:assert/strict';
import { cpus } from 'node:os';
import { test } from 'node:test';
import { validateOptions } from './validate.js';
import { auraEdges } from './commands/prune.js';

test('option validation: ranges, integers, enums, exclusive targets, thread clamp', () => {
  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['train', { epochs: -1 }, /--epochs must be within \[1, 10000\], got -1/],
    ['train', { lr: -1 }, /--lr must be in \(0, 100\)/],
    ['train', { batch: 0 }, /--batch/],
    ['train', { width: 0 }, /--width/],
    ['train', { labelSmoothing: 5 }, /--label-smoothing/],
    ['train', { valSize: 0 }, /--val-size/],
    ['train', { trainLimit: -5 }, /--train-limit/],
    ['train', { epochs: 2.5 }, /--epochs must be an integer/],
    ['train', { decay: 'x' }, /--decay must be one of l2, decoupled/],
    ['score', { perClass: -1 }, /--per-class/],
    ['score', { levels: 255 }, /--levels/],
    ['score', { neighbourhood: '6' }, /--neighbourhood must be one of 4, 8/],
    ['prune', { maxRemove: 2 }, /--max-remove/],
    ['prune', { minKeep: -5 }, /--min-keep/],
    ['prune', { targetFlops: 50 }, /--target-flops/],
    ['prune', { targetFlops: 0.5, targetParams: 0.5 }, /only one of/],
    ['prune', { roundTo: 0 }, /--round-to/],
    ['prune', { targetFlops: 0.5, roundTo: 16, allocation: 'global' }, /--round-to needs --allocation uniform/],
    ['eval', { backend: 'gpu' }, /--backend must be one of libtorch, cpu, auto/],
    ['train', { valSize: 100, trainLimit: 512 }, /--val-size 100 is more than a tenth of --train-limit 512 \(at most 51/],
  ];
  for (const [cmd, o, re] of bad) assert.throws(() => validateOptions(cmd, o), re, JSON.stringify(o));
  // valid values pass unchanged; `--model` (zoo name or directory) is checked by the command
  assert.deepEqual(validateOptions('prune', { model: 'runs/x/best', targetFlops: 0.5, where: 'relu' }), {
    model: 'runs/x/best',
    targetFlops: 0.5,
    where: 'relu',
  });
  // the boundary itself passes: 51 of 512; a default --val-size (commands that have one) never trips it
  assert.equal(validateOptions('train', { valSize: 51, trainLimit: 512 }).valSize, 51);
  assert.equal(validateOptions('compress', { valSize: 5000, trainLimit: 300 }, undefined, new Set(['trainLimit'])).valSize, 5000);
  const warnings: string[] = [];
  const out = validateOptions('train', { threads: 1000 }, (s) => warnings.push(s));
  assert.equal(out.threads, cpus().length);
  assert.match(warnings[0], /--threads 1000 is more than the \d+ cores/);
});

test('--aura-edges takes all, a count or a fraction, and refuses the rest at parse time', () => {
  assert.equal(auraEdges('all'), 'all');
  assert.equal(auraEdges('256'), 256);
  assert.equal(auraEdges('0.25'), 0.25);
  for (const v of ['0', '-3', '1.5', 'many', 'NaN']) assert.throws(() => auraEdges(v), /a count of neighbour pairs .* or all/, v);
});

test('list options are checked item by item before anything runs; one line names the option', () => {
  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['experiment', { seeds: 'a' }, /--seeds must be a number, got "a"/],
    ['experiment', { seeds: '1,2.5' }, /--seeds must be an integer, got 2.5/],
    ['experiment', { targets: '' }, /--targets must be a comma-separated list with no empty item/],
    ['experiment', { targets: '0.3,1.5' }, /--targets must be in \(0, 1\), got 1.5/],
    ['experiment', { criteria: 'aura,foo' }, /--criteria: unknown foo; choose from aura/],
    ['experiment', { finetuneLr: -1 }, /--finetune-lr/],
    ['robustness', { sigmas: '0,-0.1' }, /--sigmas must be within \[0, 100\], got -0.1/],
    ['study', { seeds: '1,,2' }, /no empty item/],
    ['bench prune', { epochs: '4,x' }, /--epochs must be a number, got "x"/],
    ['bench prune', { allocations: 'uniform,best' }, /--allocations: unknown best/],
    ['bench prune', { channelGroups: 'coupled,all' }, /--channel-groups: unknown all; choose from coupled, internal/],
    ['worker', { concurrency: 0 }, /--concurrency must be within \[1, 64\]/],
    ['web', { port: 70000 }, /--port must be within \[0, 65535\]/],
  ];
  for (const [cmd, o, re] of bad) assert.throws(() => validateOptions(cmd, o), re, JSON.stringify(o));
  const ok = { seeds: '1,2', targets: '0.3,0.5', criteria: 'aura,l1', epochs: '0,8', channelGroups: 'coupled,internal' };
  assert.deepEqual(validateOptions('experiment', ok), ok);
});
