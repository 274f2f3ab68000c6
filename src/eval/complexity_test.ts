import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { buildVgg16 } from '../models/vgg.js';
import { countComplexity } from './complexity.js';

test('CIFAR VGG-16-BN: 14.98 M params and 313.7 M FLOPs (HRank) within 1%', () => {
  const c = countComplexity(buildVgg16());
  assert.ok(Math.abs(c.params / 14.98e6 - 1) < 0.01, `params ${c.params}`);
  assert.ok(Math.abs(c.flops / 313.7e6 - 1) < 0.01, `flops ${c.flops}`);
  // exact, by hand: conv weights+bias 14,714,688; BN gamma/beta 8,448 + 1,024; fc 262,656 + 5,130
  assert.equal(c.params, 14714688 + 8448 + 1024 + 262656 + 5130);
});

test('hand-computed small model: conv, depthwise, dense', () => {
  const m = tfl.sequential();
  m.add(tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, strides: 2, padding: 'same' })); // out 4x4x4
  m.add(tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'valid', useBias: false })); // out 2x2x4
  m.add(tfl.layers.flatten());
  m.add(tfl.layers.dense({ units: 5 }));
  const c = countComplexity(m);
  assert.deepEqual(
    c.layers.map((l) => l.flops),
    [4 * 4 * 4 * 27, 2 * 2 * 4 * 9, 0, 16 * 5],
  );
  assert.deepEqual(
    c.layers.map((l) => l.params),
    [27 * 4 + 4, 9 * 4, 0, 16 * 5 + 5],
  );
});

test('CIFAR ResNet-56 (projection shortcuts): within 1% of 0.85 M params and 125.5 M FLOPs', async () => {
  const { buildResNet } = await import('../models/resnet.js');
  const c = countComplexity(buildResNet({ depth: 56 }));
  assert.ok(Math.abs(c.params / 0.85e6 - 1) < 0.01, `params ${c.params}`);
  assert.ok(Math.abs(c.flops / 125.5e6 - 1) < 0.01, `flops ${c.flops}`);
});

test('hand-computed: separable and transposed convs', () => {
  const m = tfl.sequential();
  // 8x8x3 -> separable 3x3, multiplier 2, 5 filters, same: depthwise 8*8*(3*2)*9, pointwise 8*8*5*6
  m.add(tfl.layers.separableConv2d({ inputShape: [8, 8, 3], filters: 5, kernelSize: 3, depthMultiplier: 2, padding: 'same' }));
  // 8x8x5 -> transposed 3x3, stride 2, 4 filters: each of 8*8 input pixels scatters 3*3*4 outputs x 5 inputs
  m.add(tfl.layers.conv2dTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: 'same' }));
  const c = countComplexity(m);
  assert.deepEqual(
    c.layers.map((l) => l.flops),
    [8 * 8 * 6 * 9 + 8 * 8 * 5 * 6, 8 * 8 * 9 * 4 * 5],
  );
  assert.deepEqual(
    c.layers.map((l) => l.params),
    [9 * 3 * 2 + 6 * 5 + 5, 9 * 4 * 5 + 4],
  );
});
