/** AURAPRUNE_FUSED_GRADS=0 leaves every gradient to tfjs's own composition (for A/B timing and bisecting). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { HAVE_LIBTORCH } from '../helpers/backends.js';

const root = resolve(import.meta.dirname, '../..');
const script = `
import * as tf from '@tensorflow/tfjs-core';
import { useBestBackend } from './src/engine/backend/index.js';
await useBestBackend();
const x = tf.randomUniform([2, 4, 4, 3], -2, 8);
const run = await tf.profile(() => tf.grad((t) => tf.sum(tf.clipByValue(tf.relu(t), 0, 6)))(x));
console.log(JSON.stringify(run.kernelNames));
`;
const names = (env: Record<string, string>) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as string[];
};

test(
  'fused gradients by default on libtorch; AURAPRUNE_FUSED_GRADS=0 runs the compositions',
  { skip: !HAVE_LIBTORCH && 'libtorch addon not built' },
  () => {
    const fused = names({});
    assert.ok(fused.includes('AurapruneClipGrad') && fused.includes('AurapruneReluGrad'), fused.join(', '));
    const plain = names({ AURAPRUNE_FUSED_GRADS: '0' });
    assert.ok(!plain.some((n) => n.startsWith('Aurapr')), plain.join(', '));
    assert.ok(plain.includes('LogicalAnd') && plain.includes('Step'), plain.join(', '));
  },
);
