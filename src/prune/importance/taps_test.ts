import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { setFallbackLogger, useBestBackend } from '../../engine/backend/index.js';
import type { ImageSplit } from '../../data/dataset.js';
import { fillBatch } from '../../data/pipeline.js';
import { quantizeMap } from '../../info/quantize.js';
import { LabelStack, spatialMIMatrix } from '../../info/spatial_mi.js';
import { Rng } from '../../util/rng.js';
import { pruningUnits } from '../graph/graph.js';
import { scoreModel } from './registry.js';
import { alignment, unitTaps } from './taps.js';
import { CIFAR10_INFO } from '../../data/dataset.js';

before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
});

/** input -> conv p (3x3 same) -> relu -> child conv of the given geometry -> relu -> pool -> head */
function net(
  child: { strides?: number; padding?: 'same' | 'valid'; dilationRate?: number; kernelSize?: number },
  pool = false,
): tfl.LayersModel {
  const x = tfl.input({ shape: [32, 32, 3] });
  let y = tfl.layers
    .conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'p', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) })
    .apply(x) as tfl.SymbolicTensor;
  y = tfl.layers.reLU({ name: 'p_relu' }).apply(y) as tfl.SymbolicTensor;
  if (pool) y = tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool' }).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers
    .conv2d({
      filters: 5,
      kernelSize: child.kernelSize ?? 3,
      strides: child.strides ?? 1,
      padding: child.padding ?? 'same',
      dilationRate: child.dilationRate ?? 1,
      name: 'c',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }),
    })
    .apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.reLU({ name: 'c_relu' }).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.dense({ units: 10, name: 'head' }).apply(y) as tfl.SymbolicTensor;
  return tfl.model({ inputs: x, outputs: y });
}

test('alignment follows the child conv geometry: stride 2, valid, dilated, pooled, even kernel', () => {
  // stride 2 'same' 3x3 on 32: pad_top 0, output pixel i is centred on input 2i+1
  assert.deepEqual(alignment(net({ strides: 2 }), 'p_relu', 'c', 'c_relu'), {
    y: { size: 1, stride: 2, offset: 1, out: 16 },
    x: { size: 1, stride: 2, offset: 1, out: 16 },
  });
  // 'valid' 3x3: output i centred on input i+1; 'valid' 5x5: on i+2
  assert.deepEqual(alignment(net({ padding: 'valid' }), 'p_relu', 'c', 'c_relu'), {
    y: { size: 1, stride: 1, offset: 1, out: 30 },
    x: { size: 1, stride: 1, offset: 1, out: 30 },
  });
  assert.equal((alignment(net({ padding: 'valid', kernelSize: 5 }), 'p_relu', 'c', 'c_relu') as { y: { offset: number } }).y.offset, 2);
  // dilated 'same': centred on itself, so the lattices already agree
  assert.equal(alignment(net({ dilationRate: 2 }), 'p_relu', 'c', 'c_relu'), 1);
  // max-pool 2 before a 'same' stride-1 conv: the plain factor (what earlier versions did)
  assert.equal(alignment(net({}, true), 'p_relu', 'c', 'c_relu'), 2);
  // even 2x2 'valid' kernel: its centre falls between two input pixels, both are covered
  assert.deepEqual((alignment(net({ padding: 'valid', kernelSize: 2 }), 'p_relu', 'c', 'c_relu') as { y: unknown }).y, {
    size: 2,
    stride: 1,
    offset: 0,
    out: 31,
  });
});

test('aura on a stride-2 and a valid child equals the construction by hand', async () => {
  const rng = new Rng(3);
  const n = 12;
  const sample: ImageSplit = {
    images: Uint8Array.from({ length: n * 3072 }, () => rng.int(256)),
    info: CIFAR10_INFO,
    labels: Uint8Array.from({ length: n }, (_, i) => i % 10),
    n,
  };
  const x = new Float32Array(n * 3072);
  fillBatch(
    sample,
    Array.from({ length: n }, (_, i) => i),
    x,
    null,
  );
  for (const [geometry, at] of [
    [{ strides: 2 }, (i: number) => 2 * i + 1],
    [{ padding: 'valid' as const }, (i: number) => i + 1],
  ] as const) {
    const m = net(geometry);
    const [unit] = pruningUnits(m);
    assert.equal(unit.conv, 'p');
    assert.equal(unitTaps(m, [unit], 'relu')[0].child, 'c_relu');
    // every neighbour pair counted (16x16 children exceed the default sample), as the construction below does
    const [r] = await scoreModel(m, sample, ['aura'], {
      quantize: { levels: 8, zeroBin: true },
      where: 'relu',
      quiet: true,
      aura: { edges: 'all' },
    });
    // by hand: parent maps sampled at the child's kernel centres, child maps as they are, both quantised per map
    const acts = (name: string) => {
      const sub = tfl.model({ inputs: m.inputs, outputs: m.getLayer(name).output as tfl.SymbolicTensor });
      const t = sub.predict(tf.tensor4d(x, [n, 32, 32, 3])) as tf.Tensor4D;
      return { v: t.dataSync() as Float32Array, shape: t.shape };
    };
    const stack = (a: { v: Float32Array; shape: number[] }, h: number, w: number, pick: (i: number) => number): LabelStack => {
      const [, H, W, C] = a.shape;
      const labels = new Uint8Array(C * n * h * w);
      const map = new Float32Array(h * w),
        lab = new Uint8Array(h * w);
      for (let c = 0; c < C; c++)
        for (let i = 0; i < n; i++) {
          for (let yy = 0; yy < h; yy++) for (let xx = 0; xx < w; xx++) map[yy * w + xx] = a.v[((i * H + pick(yy)) * W + pick(xx)) * C + c];
          quantizeMap(map, lab, { levels: 8, zeroBin: true });
          labels.set(lab, (c * n + i) * h * w);
        }
      return { labels, channels: C, n, h, w, levels: 8 };
    };
    const child = acts('c_relu');
    const [, h, w] = child.shape;
    const Y = stack(child, h, w, (i) => i);
    const X = stack(acts('p_relu'), h, w, at);
    const { mi } = spatialMIMatrix(X, Y);
    const want = Array.from({ length: 4 }, (_, i) => mi.slice(i * 5, i * 5 + 5).reduce((a, b) => a + b, 0));
    const got = Array.from(r.scores[0].scores);
    want.forEach((v, i) => assert.ok(Math.abs(v - got[i]) < 1e-9, `${JSON.stringify(geometry)} filter ${i}: ${got[i]} vs ${v}`));
  }
});
