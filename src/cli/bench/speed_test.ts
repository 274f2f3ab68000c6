/**
 * `bench speed` width specs: the untrained shapes it times are the ones named (channel counts read
 * back from the built layers, parameter counts against a hand count), and bad specs are refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { parseWidthSpec } from './speed.js';
import { buildResNet } from '../../models/resnet.js';

const filters = (m: LayersModel, name: string) => (m.getLayer(name).getConfig() as { filters: number }).filters;

test('resnetD:S/I names the stream and internal channels per stage; I defaults to S', () => {
  assert.deepEqual(parseWidthSpec('resnet20:11,23,46/8,16,32'), {
    family: 'resnet',
    depth: 20,
    stream: [11, 23, 46],
    internal: [8, 16, 32],
  });
  assert.deepEqual(parseWidthSpec('resnet56:16,32,64'), { family: 'resnet', depth: 56, stream: [16, 32, 64], internal: [16, 32, 64] });
  assert.deepEqual(parseWidthSpec('airbench:32,128,128'), { family: 'airbench', widths: [32, 128, 128] });
  assert.equal(parseWidthSpec('runs/base/best'), null, 'a path is not a spec');
  assert.throws(() => parseWidthSpec('resnet21:16,32,64'), /resnet21:16,32,64: ResNet depth must be 6n\+2/);
  assert.throws(() => parseWidthSpec('resnet20:0,32,64'), /channel counts must be integers 1\.\.4096/);
});

test('a ResNet built from stream/internal channels has them where a coupled pruning puts them, and the hand-counted parameters', () => {
  const stream = [11, 23, 46],
    internal = [8, 16, 32];
  const m = buildResNet({ depth: 20, channels: { stream: [11, 23, 46], internal: [8, 16, 32] } });
  assert.equal(filters(m, 'stem_conv'), 11);
  for (let s = 1; s <= 3; s++)
    for (let b = 1; b <= 3; b++) {
      assert.equal(filters(m, `s${s}b${b}_conv1`), internal[s - 1]);
      assert.equal(filters(m, `s${s}b${b}_conv2`), stream[s - 1]);
    }
  // no projection in stage 1 (the stem already has the stream's width), one 1x1 projection per later stage
  assert.throws(() => m.getLayer('s1b1_proj_conv'));
  assert.equal(filters(m, 's2b1_proj_conv'), 23);
  // hand count: 3x3 convs without bias, BN 4 per channel (gamma, beta, moving mean and variance), 1x1
  // projections with BN, dense head with bias
  const conv = (i: number, o: number, k = 3) => k * k * i * o;
  const bn = (c: number) => 4 * c;
  let params = conv(3, 11) + bn(11),
    cin = 11;
  for (let s = 0; s < 3; s++)
    for (let b = 0; b < 3; b++) {
      params += conv(cin, internal[s]) + bn(internal[s]) + conv(internal[s], stream[s]) + bn(stream[s]);
      if (cin !== stream[s]) params += conv(cin, stream[s], 1) + bn(stream[s]);
      cin = stream[s];
    }
  params += 46 * 10 + 10;
  assert.equal(m.countParams(), params);
  m.dispose();
});
