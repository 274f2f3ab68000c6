/**
 * Every native libtorch kernel against tfjs's CPU backend (the reference) on seeded random inputs,
 * forward and input gradients. Tolerances: 1e-4 absolute + 1e-4 relative for float32 element-wise
 * work; convolutions and matmuls accumulate in a different order (oneDNN), so 2e-4 + 2e-4 there.
 */
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import assert from 'node:assert/strict';
import { conform, HAVE_LIBTORCH, materialise } from '../helpers/backends.js';
import { nativeAddon } from '../../src/engine/backend/index.js';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, CLIP_GRAD, GELU, GELU_GRAD, SGD_UPDATE } from '../../src/engine/kernels/grad_kernels.js';
import { Sgd, SgdOptions } from '../../src/train/sgd.js';
import { Rng } from '../../src/util/rng.js';

/**
 * For a linear op f, d/dx_i sum(w * f(x)) = sum(w * f(e_i)): the exact gradient from forward passes
 * of the CPU reference on basis vectors, compared with libtorch's gradient.
 */
function checkLinearGrad(f: (x: tf.Tensor) => tf.Tensor, shape: number[]): void {
  const n = shape.reduce((a, b) => a * b, 1);
  tf.setBackend('cpu');
  const outShape = tf.tidy(() => f(tf.zeros(shape)).shape);
  const w = new Rng(5).uniformArray(
    outShape.reduce((a, b) => a * b, 1),
    0.5,
    1.5,
  );
  const expected = tf.tidy(() =>
    Array.from({ length: n }, (_, i) => {
      const e = new Float32Array(n);
      e[i] = 1;
      return tf.sum(tf.mul(f(tf.tensor(e, shape)), tf.tensor(w, outShape))).dataSync()[0];
    }),
  );
  tf.setBackend('libtorch');
  const got = tf.tidy(() =>
    Array.from(
      tf
        .grad((x: tf.Tensor) => tf.sum(tf.mul(f(x), tf.tensor(w, outShape))))(tf.zeros(shape))
        .dataSync(),
    ),
  );
  for (let i = 0; i < n; i++) assert.ok(Math.abs(got[i] - expected[i]) < 1e-5, `grad[${i}] = ${got[i]}, exact ${expected[i]}`);
}

const skip = !HAVE_LIBTORCH && 'libtorch addon not built';
const CONV_TOL = { atol: 2e-4, rtol: 2e-4 };
type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

// The layout-sensitive kernels (convolutions, pooling, batch norm and its gradient) in both memory
// formats the addon runs them in.
for (const layout of ['nchw', 'channels_last'] as const) {
  describe(`in ${layout}`, { skip }, () => {
    let initial: 'nchw' | 'channels_last' = 'nchw';
    before(() => {
      initial = nativeAddon()!.setLayout(layout);
    });
    after(() => {
      nativeAddon()!.setLayout(initial);
    });

    describe('conv2d forward + gradients', { skip }, () => {
      const cases: Array<[number[], number[], number, Pad, number]> = [
        // x shape, filter shape, stride, pad, dilation
        [[2, 8, 8, 3], [3, 3, 3, 4], 1, 'same', 1],
        [[1, 7, 7, 3], [3, 3, 3, 5], 2, 'same', 1], // odd input, stride 2: symmetric same
        [[2, 8, 8, 2], [3, 3, 2, 3], 2, 'same', 1], // even input, stride 2: TF's asymmetric same
        [[2, 6, 6, 4], [2, 2, 4, 3], 1, 'same', 1], // even kernel: asymmetric same at stride 1
        [[1, 9, 7, 3], [5, 5, 3, 2], 1, 'valid', 1],
        [[2, 9, 9, 3], [5, 5, 3, 4], 2, 'same', 1],
        [[1, 5, 5, 6], [1, 1, 6, 4], 1, 'valid', 1],
        [[2, 4, 4, 3], [1, 1, 3, 8], 2, 'valid', 1],
        [[1, 9, 9, 2], [3, 3, 2, 3], 1, 'same', 2],
        [[1, 10, 8, 2], [3, 3, 2, 2], 1, 'valid', 2],
        // one channel in or out: size-1 dims make strides ambiguous between the two memory formats
        [[4, 28, 28, 1], [2, 2, 1, 8], 1, 'valid', 1],
        [[2, 7, 7, 4], [3, 3, 4, 1], 1, 'same', 1],
        [
          [2, 6, 5, 3],
          [3, 3, 3, 2],
          1,
          [
            [0, 0],
            [1, 2],
            [0, 1],
            [0, 0],
          ],
          1,
        ], // explicit, asymmetric
      ];
      for (const [xs, fs, s, p, d] of cases) {
        test(`x=[${xs}] f=[${fs}] s=${s} d=${d} p=${JSON.stringify(p)}`, () => {
          conform(
            'conv2d',
            [{ shape: xs }, { shape: fs }],
            // tfjs defines no conv gradient for dilation > 1, so dilated cases check the forward only.
            (x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, s, p, 'NHWC', d),
            { grads: d === 1, ...CONV_TOL },
          );
        });
      }
      test('a grayscale first conv under a second conv (an airbench on 28x28x1): input and filter gradients', () => {
        // before canonical strides this gave infinite filter gradients on libtorch in NCHW
        conform(
          'grayscale chain',
          [{ shape: [16, 28, 28, 1] }, { shape: [2, 2, 1, 8] }, { shape: [3, 3, 8, 16] }],
          (x, f1, f2) => tf.conv2d(tf.relu(tf.conv2d(x as tf.Tensor4D, f1 as tf.Tensor4D, 1, 'valid')), f2 as tf.Tensor4D, 1, 'same'),
          { grads: true, ...CONV_TOL, atol: 1e-3 },
        );
      });
      test('fused conv2d with bias and relu / relu6 / elu / sigmoid / leakyrelu / prelu', () => {
        for (const activation of ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const) {
          conform(
            `fused ${activation}`,
            [{ shape: [2, 6, 6, 3] }, { shape: [3, 3, 3, 4] }, { shape: [4] }, { shape: [4] }],
            (x, f, b, a) =>
              tf.fused.conv2d({
                x: x as tf.Tensor4D,
                filter: f as tf.Tensor4D,
                strides: 1,
                pad: 'same',
                bias: b,
                activation,
                preluActivationWeights: activation === 'prelu' ? a : undefined,
                leakyreluAlpha: 0.1,
              }),
            { ...CONV_TOL },
          );
        }
        // linear activation keeps the fused kernel under gradients (tfjs-layers' training path)
        conform(
          'fused linear grads',
          [{ shape: [2, 6, 6, 3] }, { shape: [3, 3, 3, 4] }, { shape: [4] }],
          (x, f, b) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 2, pad: 'same', bias: b }),
          { grads: true, ...CONV_TOL },
        );
        // a scalar bias is broadcast after the convolution
        conform(
          'fused scalar bias',
          [{ shape: [1, 5, 5, 2] }, { shape: [3, 3, 2, 3] }, { shape: [] }],
          (x, f, b) =>
            tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 1, pad: 'valid', bias: b, activation: 'relu' }),
          CONV_TOL,
        );
      });
    });

    describe('depthwise conv2d forward + gradients', { skip }, () => {
      const cases: Array<[number[], number[], number, 'same' | 'valid', number]> = [
        [[2, 7, 7, 3], [3, 3, 3, 1], 1, 'same', 1],
        [[1, 8, 8, 2], [3, 3, 2, 2], 2, 'same', 1],
        [[2, 6, 6, 4], [5, 5, 4, 1], 1, 'valid', 1],
        [[1, 9, 9, 2], [3, 3, 2, 1], 1, 'same', 2],
      ];
      for (const [xs, fs, s, p, d] of cases) {
        test(`x=[${xs}] f=[${fs}] s=${s} d=${d} p=${p}`, () => {
          conform(
            'depthwise',
            [{ shape: xs }, { shape: fs }],
            (x, f) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, s, p, 'NHWC', d),
            { grads: d === 1, ...CONV_TOL },
          );
        });
      }
      test('fused depthwise with bias + relu', () => {
        conform(
          'fused depthwise',
          [{ shape: [2, 6, 6, 3] }, { shape: [3, 3, 3, 2] }, { shape: [6] }],
          (x, f, b) =>
            tf.fused.depthwiseConv2d({
              x: x as tf.Tensor4D,
              filter: f as tf.Tensor4D,
              strides: 1,
              pad: 'same',
              bias: b,
              activation: 'relu',
            }),
          CONV_TOL,
        );
      });
    });

    describe('pooling forward + gradients', { skip }, () => {
      const cases: Array<[number[], number, number, 'same' | 'valid']> = [
        [[2, 8, 8, 3], 2, 2, 'valid'],
        [[2, 8, 8, 3], 2, 2, 'same'],
        [[1, 7, 7, 2], 2, 2, 'same'], // odd input: bottom/right padding
        [[1, 7, 7, 2], 3, 2, 'same'],
        [[2, 6, 6, 2], 3, 1, 'same'],
        [[1, 9, 5, 3], 3, 2, 'valid'],
        [[2, 5, 5, 4], 5, 1, 'valid'], // global pooling
        [[1, 1, 1, 3], 1, 1, 'valid'],
      ];
      for (const [xs, k, s, p] of cases) {
        test(`maxPool x=[${xs}] k=${k} s=${s} p=${p}`, () => {
          // the gradient reuses the argmax positions the taped forward pool kept (one reuse per pool)
          const before = nativeAddon()!.argmaxReuses();
          conform('maxPool', [{ shape: xs }], (x) => tf.maxPool(x as tf.Tensor4D, k, s, p), { grads: true });
          assert.equal(nativeAddon()!.argmaxReuses() - before, 1, 'the gradient reused the forward argmax');
        });
        test(`avgPool x=[${xs}] k=${k} s=${s} p=${p}`, () => {
          // tfjs's CPU AvgPoolGrad divides by the full window even where 'same' padding made the forward
          // divide by fewer elements (backend-cpu AvgPoolGrad.ts: avgMultiplier = 1/(fh*fw)), so its
          // gradient is wrong for padded windows. Those cases are checked against the exact gradient below.
          const padded = p === 'same' && (xs[1] % s !== 0 || k > s);
          conform('avgPool', [{ shape: xs }], (x) => tf.avgPool(x as tf.Tensor4D, k, s, p), { grads: !padded });
          if (padded) checkLinearGrad((x) => tf.avgPool(x as tf.Tensor4D, k, s, p), xs);
        });
      }
    });

    describe('matmul and batch norm', { skip }, () => {
      test('matMul transposes, batched, broadcast batch', () => {
        conform('mm', [{ shape: [4, 5] }, { shape: [5, 3] }], (a, b) => tf.matMul(a, b), { grads: true, ...CONV_TOL });
        conform('mm tA', [{ shape: [5, 4] }, { shape: [5, 3] }], (a, b) => tf.matMul(a, b, true), { grads: true, ...CONV_TOL });
        conform('mm tB', [{ shape: [4, 5] }, { shape: [3, 5] }], (a, b) => tf.matMul(a, b, false, true), { grads: true, ...CONV_TOL });
        conform('mm tAtB', [{ shape: [5, 4] }, { shape: [3, 5] }], (a, b) => tf.matMul(a, b, true, true), { grads: true, ...CONV_TOL });
        conform('bmm', [{ shape: [2, 4, 5] }, { shape: [2, 5, 3] }], (a, b) => tf.matMul(a, b), { grads: true, ...CONV_TOL });
        conform('bmm bcast', [{ shape: [2, 4, 5] }, { shape: [1, 5, 3] }], (a, b) => tf.matMul(a, b), { ...CONV_TOL });
      });
      test('fused matMul with bias and activations', () => {
        for (const activation of ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu'] as const) {
          conform(
            `fmm ${activation}`,
            [{ shape: [6, 5] }, { shape: [5, 4] }, { shape: [4] }],
            (a, b, c) => tf.fused.matMul({ a, b, bias: c, activation, leakyreluAlpha: 0.2 }),
            CONV_TOL,
          );
        }
        conform('fmm grads', [{ shape: [6, 5] }, { shape: [5, 4] }, { shape: [4] }], (a, b, c) => tf.fused.matMul({ a, b, bias: c }), {
          grads: true,
          ...CONV_TOL,
        });
      });
      test('batchNorm 4D and 2D, with and without scale/offset, gradients', () => {
        conform(
          'bn4',
          [{ shape: [2, 3, 3, 4] }, { shape: [4] }, { shape: [4], lo: 0.5, hi: 2 }, { shape: [4] }, { shape: [4] }],
          (x, m, v, o, s) => tf.batchNorm(x, m, v, o, s, 1e-3),
          { grads: true },
        );
        conform(
          'bn2',
          [{ shape: [5, 3] }, { shape: [3] }, { shape: [3], lo: 0.5, hi: 2 }, { shape: [3] }, { shape: [3] }],
          (x, m, v, o, s) => tf.batchNorm(x, m, v, o, s, 1e-5),
          { grads: true },
        );
        // tfjs's batchNorm gradient fails on every backend when scale is absent, so forward only here.
        conform('bn2 no scale/offset', [{ shape: [5, 3] }, { shape: [3] }, { shape: [3], lo: 0.5, hi: 2 }], (x, m, v) =>
          tf.batchNorm(x, m, v, undefined, undefined, 1e-5),
        );
        conform('moments', [{ shape: [4, 3, 3, 5] }], (x) => {
          const m = tf.moments(x, [0, 1, 2]);
          return [m.mean, m.variance];
        });
      });
    });
  });
}

describe('element-wise unary', { skip }, () => {
  const cases: Array<[string, (x: tf.Tensor) => tf.Tensor, number, number]> = [
    ['abs', tf.abs, -2, 2],
    ['acos', tf.acos, -0.9, 0.9],
    ['acosh', tf.acosh, 1.1, 3],
    ['asin', tf.asin, -0.9, 0.9],
    ['asinh', tf.asinh, -2, 2],
    ['atan', tf.atan, -2, 2],
    ['atanh', tf.atanh, -0.9, 0.9],
    ['ceil', tf.ceil, -3, 3],
    ['cos', tf.cos, -3, 3],
    ['cosh', tf.cosh, -2, 2],
    ['elu', tf.elu, -2, 2],
    ['erf', tf.erf, -2, 2],
    ['exp', tf.exp, -2, 2],
    ['expm1', tf.expm1, -2, 2],
    ['floor', tf.floor, -3, 3],
    ['log', tf.log, 0.1, 3],
    ['log1p', tf.log1p, -0.5, 3],
    ['neg', tf.neg, -2, 2],
    ['reciprocal', tf.reciprocal, 0.5, 3],
    ['relu', tf.relu, -2, 2],
    ['relu6', tf.relu6, -3, 9],
    ['round', tf.round, -3, 3],
    ['rsqrt', tf.rsqrt, 0.2, 3],
    ['selu', tf.selu, -2, 2],
    ['sigmoid', tf.sigmoid, -4, 4],
    ['sign', tf.sign, -2, 2],
    ['sin', tf.sin, -3, 3],
    ['sinh', tf.sinh, -2, 2],
    ['softplus', tf.softplus, -4, 4],
    ['sqrt', tf.sqrt, 0.1, 4],
    ['square', tf.square, -2, 2],
    ['tan', tf.tan, -1, 1],
    ['tanh', tf.tanh, -2, 2],
    ['step', (x) => tf.step(x, 0.3), -2, 2],
    ['leakyRelu', (x) => tf.leakyRelu(x, 0.15), -2, 2],
    ['clipByValue', (x) => tf.clipByValue(x, -0.5, 0.7), -2, 2],
    ['softmax', (x) => tf.softmax(x), -3, 3],
    ['logSoftmax', (x) => tf.logSoftmax(x), -3, 3],
    ['zerosLike', tf.zerosLike, -1, 1],
    ['onesLike', tf.onesLike, -1, 1],
  ];
  for (const [name, f, lo, hi] of cases) {
    test(`${name} x=[3,7]`, () => {
      const noGrad = ['ceil', 'floor', 'round', 'sign', 'step', 'zerosLike', 'onesLike'].includes(name);
      conform(name, [{ shape: [3, 7], lo, hi }], f, { grads: !noGrad });
    });
  }
  test('ClipByValue and Relu6 gradients: one fused kernel on libtorch, equal to the CPU composition at the bounds, at NaN and on permuted views', async () => {
    // exact bounds (clip includes both; relu6 excludes 0 and includes 6), NaN, and values between
    const xs = [-0.5, 0.7, 0, 6, -1, 0.2, 7, 3, NaN, -0.50001, 0.70001, 5.99];
    const dyv = xs.map((_, i) => 0.25 + i);
    const grad = (backend: string, f: (x: tf.Tensor) => tf.Tensor, shape: number[], perm?: number[]) => {
      tf.setBackend(backend);
      return tf.tidy(() => {
        const x0 = tf.tensor(xs, shape);
        const x = perm ? tf.transpose(x0, perm) : x0;
        const dy = tf.tensor(dyv, x.shape);
        return Array.from(
          tf
            .grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), dy)))(x)
            .dataSync(),
        );
      });
    };
    const same = (a: number[], b: number[], what: string) =>
      a.forEach((v, i) => assert.ok(Object.is(v, b[i]) || v === b[i], `${what}[${i}]: libtorch ${v}, cpu ${b[i]}`));
    for (const [name, f] of [
      ['clipByValue', (x: tf.Tensor) => tf.clipByValue(x, -0.5, 0.7)],
      ['relu6', (x: tf.Tensor) => tf.relu6(x)],
    ] as const)
      for (const [shape, perm] of [
        [[12], undefined],
        [[1, 2, 2, 3], undefined],
        [
          [1, 3, 2, 2],
          [0, 2, 3, 1],
        ], // an NHWC view of NCHW memory, as convolutions hand it on
      ] as const)
        same(grad('libtorch', f, [...shape], perm && [...perm]), grad('cpu', f, [...shape], perm && [...perm]), `${name} ${shape}`);
    tf.setBackend('libtorch');
    const x = tf.randomUniform([2, 4, 4, 3], -2, 8);
    for (const f of [(t: tf.Tensor) => tf.clipByValue(t, 0, 6), (t: tf.Tensor) => tf.relu6(t)]) {
      const run = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.sum(f(t)))(x));
      assert.ok(run.kernelNames.includes(CLIP_GRAD), `fused kernel ran: ${run.kernelNames.join(', ')}`);
      assert.ok(!run.kernelNames.includes('LogicalAnd') && !run.kernelNames.includes('Step'), 'no composed mask');
      run.result.dispose();
    }
    x.dispose();
  });
  test("tfjs-layers' gelu activation: one fused kernel and its gradient on libtorch, the same values as the CPU composition", async () => {
    const gelu = tfl.layers.activation({ activation: 'gelu' });
    const f = (x: tf.Tensor) => gelu.apply(x) as tf.Tensor;
    // on both layouts' typical inputs: an NHWC activation and a 2-D one, tails included
    conform('gelu 4D', [{ shape: [2, 5, 4, 3], lo: -9, hi: 9 }], f, { grads: true, atol: 1e-5, rtol: 1e-5 });
    conform('gelu 2D', [{ shape: [3, 7], lo: -3, hi: 3 }], f, { grads: true, atol: 1e-5, rtol: 1e-5 });
    // a permuted (NHWC view of NCHW) input runs the dense path in memory order
    conform('gelu transposed', [{ shape: [2, 3, 4, 5], lo: -4, hi: 4 }], (x) => f(tf.transpose(x, [0, 2, 3, 1])), {
      grads: true,
      atol: 1e-5,
      rtol: 1e-5,
    });
    // far tails: 0 and x, no overflow in exp
    conform('gelu tails', [{ shape: [8], lo: -60, hi: 60 }], f, { grads: true, atol: 1e-5, rtol: 1e-5 });
    tf.setBackend('libtorch');
    const x = tf.randomUniform([2, 4, 4, 3], -2, 2);
    const run = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.sum(f(t)))(x));
    const names = run.kernelNames;
    assert.ok(names.includes(GELU) && names.includes(GELU_GRAD), `fused kernels ran: ${names.join(', ')}`);
    assert.ok(!names.includes('Erf'), 'no composed erf');
    x.dispose();
    run.result.dispose();
  });
  test("tfjs-layers' BatchNormalization in training: one native kernel, same output, gradients and moving statistics as the CPU composition", async () => {
    for (const shape of [
      [4, 5, 3, 6],
      [7, 5],
    ]) {
      const C = shape[shape.length - 1];
      const [xv, wv, gv, bv, mv, vv] = materialise(
        [
          { shape },
          { shape, lo: 0.5, hi: 1.5 },
          { shape: [C], lo: 0.5, hi: 2 },
          { shape: [C] },
          { shape: [C] },
          { shape: [C], lo: 0.5, hi: 2 },
        ],
        7,
      ).map((m) => m.values as Float32Array);
      const run = (backend: string) => {
        tf.setBackend(backend);
        const layer = tfl.layers.batchNormalization({ momentum: 0.6, epsilon: 1e-3 });
        layer.build(shape);
        layer.setWeights([tf.tensor(gv), tf.tensor(bv), tf.tensor(mv), tf.tensor(vv)]);
        const x = tf.tensor(xv, shape),
          w = tf.tensor(wv, shape);
        const loss = (t: tf.Tensor) => tf.sum(tf.mul(layer.apply(t, { training: true }) as tf.Tensor, w));
        const y = Array.from((layer.apply(x, { training: true }) as tf.Tensor).dataSync());
        const dx = Array.from(tf.grad(loss)(x).dataSync());
        const { grads } = tf.variableGrads(() => loss(x) as tf.Scalar);
        const dw = layer.trainableWeights.map((v) => Array.from(grads[(v as unknown as { read(): tf.Variable }).read().name].dataSync()));
        // three training calls so far, each moving the averages
        const moving = layer
          .getWeights()
          .slice(2)
          .map((t) => Array.from(t.dataSync()));
        return [y, dx, ...dw, ...moving];
      };
      const cpu = run('cpu');
      const lt = run('libtorch');
      cpu.forEach((e, k) =>
        e.forEach((ev, i) =>
          assert.ok(Math.abs(lt[k][i] - ev) < 2e-4 + 2e-4 * Math.abs(ev), `shape [${shape}] output ${k}[${i}]: ${lt[k][i]} vs ${ev}`),
        ),
      );
    }
    tf.setBackend('libtorch');
    const layer = tfl.layers.batchNormalization();
    const x = tf.randomNormal([2, 3, 3, 4]);
    const prof = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.sum(layer.apply(t, { training: true }) as tf.Tensor))(x));
    assert.ok(prof.kernelNames.includes(BATCH_NORM_TRAIN) && prof.kernelNames.includes(BATCH_NORM_TRAIN_GRAD), prof.kernelNames.join(', '));
    assert.ok(!prof.kernelNames.includes('SquaredDifference'), 'no composed moments');
  });
  test('SGD step: one fused native update per parameter, equal to the composed update on the CPU backend', async () => {
    const shape = [3, 5, 4];
    const init = materialise([{ shape }, { shape }, { shape }, { shape }], 3).map((m) => m.values as Float32Array);
    const configs: SgdOptions[] = [
      { momentum: 0.85, nesterov: true, weightDecay: 0.01, decay: 'l2' },
      { momentum: 0.9, nesterov: false, weightDecay: 0.05, decay: 'decoupled' },
      { momentum: 0.9, nesterov: true, weightDecay: 0, rule: () => ({ lrScale: 3, l2: 0.02 }) },
    ];
    for (const o of configs) {
      const run = (backend: string) => {
        tf.setBackend(backend);
        const v = tf.variable(tf.tensor(init[0], shape), true, `w${backend}`);
        const sgd = new Sgd(o);
        const params = [{ key: 'layer/kernel', variable: v }];
        for (let step = 1; step <= 3; step++) {
          const g = tf.tensor(init[step], shape);
          sgd.apply(params, { [v.name]: g }, 0.1 * step);
          g.dispose();
        }
        const out = [Array.from(v.dataSync()), Array.from(sgd.velocity.get('layer/kernel')!.dataSync())];
        sgd.dispose();
        v.dispose();
        return out;
      };
      const [cw, cv] = run('cpu');
      const [lw, lv] = run('libtorch');
      for (let i = 0; i < cw.length; i++) {
        assert.ok(Math.abs(lw[i] - cw[i]) < 1e-6 + 1e-6 * Math.abs(cw[i]), `${JSON.stringify(o)} w[${i}] ${lw[i]} vs ${cw[i]}`);
        assert.ok(Math.abs(lv[i] - cv[i]) < 1e-6 + 1e-6 * Math.abs(cv[i]), `velocity[${i}]`);
      }
    }
    tf.setBackend('libtorch');
    const v = tf.variable(tf.ones([4]), true, 'wprof');
    const sgd = new Sgd(configs[0]);
    const prof = await tf.profile(() => sgd.apply([{ key: 'k/kernel', variable: v }], { [v.name]: tf.ones([4]) }, 0.1));
    assert.deepEqual(
      prof.kernelNames.filter((n) => n !== 'ZerosLike' && n !== 'Identity'),
      [SGD_UPDATE],
      'one kernel per parameter',
    );
    sgd.dispose();
    v.dispose();
  });
  test('predicates and logical not', () => {
    conform('isNaN', [{ shape: [4] }], (x) => tf.isNaN(tf.div(x, tf.sub(x, x))));
    conform('isInf', [{ shape: [4] }], (x) => tf.isInf(tf.div(x, tf.zerosLike(x))));
    conform('isFinite', [{ shape: [4] }], (x) => tf.isFinite(tf.div(x, tf.zerosLike(x))));
    conform('logicalNot', [{ shape: [5], dtype: 'bool' }], (x) => tf.logicalNot(x));
    conform('int abs/neg/square', [{ shape: [6], dtype: 'int32', lo: -9, hi: 9 }], (x) => [tf.abs(x), tf.neg(x), tf.square(x)]);
    conform('identity (clone)', [{ shape: [2, 3] }], (x) => tf.clone(x), { grads: true });
  });
});

describe('element-wise binary with broadcasting', { skip }, () => {
  const shapes: Array<[number[], number[]]> = [
    [
      [2, 3, 4],
      [2, 3, 4],
    ],
    [[2, 3, 4], [4]],
    [
      [2, 1, 4],
      [3, 1],
    ],
    [[], [3, 2]],
    [[1, 5, 5, 3], [3]],
  ];
  const ops: Array<[string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, number, number, boolean]> = [
    ['add', tf.add, -2, 2, true],
    ['sub', tf.sub, -2, 2, true],
    ['mul', tf.mul, -2, 2, true],
    ['div', tf.div, 0.5, 2, true],
    ['maximum', tf.maximum, -2, 2, true],
    ['minimum', tf.minimum, -2, 2, true],
    ['pow', tf.pow, 0.5, 2, true],
    ['squaredDifference', tf.squaredDifference, -2, 2, true],
    ['atan2', tf.atan2, 0.2, 2, true],
    ['mod', tf.mod, 0.5, 3, false],
    ['floorDiv', tf.floorDiv, 0.5, 3, false],
    ['prelu', tf.prelu, -2, 2, true],
    ['equal', tf.equal, -1, 1, false],
    ['notEqual', tf.notEqual, -1, 1, false],
    ['less', tf.less, -1, 1, false],
    ['lessEqual', tf.lessEqual, -1, 1, false],
    ['greater', tf.greater, -1, 1, false],
    ['greaterEqual', tf.greaterEqual, -1, 1, false],
  ];
  // tfjs's gradients of these ops do not sum over broadcast dimensions (they fail on every
  // backend), so their gradients are checked on equal shapes only.
  const noBroadcastGrad = ['maximum', 'minimum', 'squaredDifference', 'prelu'];
  for (const [name, f, lo, hi, grads] of ops) {
    test(name, () => {
      for (const [sa, sb] of shapes) {
        if (name === 'prelu' && sb.length > sa.length) continue;
        const g = grads && (!noBroadcastGrad.includes(name) || sa.join() === sb.join());
        conform(
          `${name} [${sa}]x[${sb}]`,
          [
            { shape: sa, lo, hi },
            { shape: sb, lo, hi },
          ],
          f,
          { grads: g },
        );
      }
    });
  }
  test('int32 arithmetic and comparisons', () => {
    const ints = [
      { shape: [3, 4], dtype: 'int32' as const, lo: -20, hi: 20 },
      { shape: [4], dtype: 'int32' as const, lo: 1, hi: 7 },
    ];
    for (const f of [tf.add, tf.sub, tf.mul, tf.floorDiv, tf.mod, tf.maximum, tf.minimum, tf.equal, tf.less, tf.greaterEqual]) {
      conform(`int ${f.name}`, ints, f);
    }
  });
  test('logical and/or, select, addN', () => {
    conform(
      'logicalAnd',
      [
        { shape: [2, 3], dtype: 'bool' },
        { shape: [3], dtype: 'bool' },
      ],
      tf.logicalAnd,
    );
    conform(
      'logicalOr',
      [
        { shape: [2, 3], dtype: 'bool' },
        { shape: [2, 3], dtype: 'bool' },
      ],
      tf.logicalOr,
    );
    conform('where', [{ shape: [2, 3], dtype: 'bool' }, { shape: [2, 3] }, { shape: [2, 3] }], (c, a, b) => tf.where(c, a, b), {
      grads: true,
    });
    conform('addN', [{ shape: [2, 3] }, { shape: [2, 3] }, { shape: [2, 3] }], (a, b, c) => tf.addN([a, b, c]), { grads: true });
  });
});

describe('reductions', { skip }, () => {
  const axes: Array<number | number[] | undefined> = [undefined, 0, 1, -1, [0, 2], [1, 2]];
  // Prod's gradient needs tfjs's chained-op prototype methods, which the Node bundles do not install.
  for (const [name, f, grads] of [
    ['sum', tf.sum, true],
    ['mean', tf.mean, true],
    ['max', tf.max, true],
    ['min', tf.min, true],
    ['prod', tf.prod, false],
  ] as const) {
    test(name, () => {
      for (const ax of axes)
        for (const keep of [false, true]) {
          conform(`${name} axis=${JSON.stringify(ax)} keep=${keep}`, [{ shape: [2, 3, 4], lo: 0.5, hi: 1.5 }], (x) => f(x, ax, keep), {
            grads,
          });
        }
    });
  }
  test('int32 sum, bool all/any, argMax/argMin', () => {
    conform('int sum', [{ shape: [3, 5], dtype: 'int32', lo: -9, hi: 9 }], (x) => [tf.sum(x), tf.sum(x, 1)]);
    conform('all/any', [{ shape: [3, 4], dtype: 'bool' }], (x) => [tf.all(x, 1), tf.any(x, 0), tf.all(x), tf.any(x, [0, 1], true)]);
    conform('argMax/argMin', [{ shape: [3, 4, 5] }], (x) => [tf.argMax(x, 0), tf.argMax(x, -1), tf.argMin(x, 1)]);
  });
});

describe('shape, data movement, casts', { skip }, () => {
  test('reshape, expandDims, transpose, slice (views) with gradients', () => {
    conform('reshape', [{ shape: [2, 3, 4] }], (x) => tf.reshape(x, [4, -1]), { grads: true });
    conform('expandDims', [{ shape: [2, 3] }], (x) => tf.expandDims(x, 1), { grads: true });
    conform('transpose', [{ shape: [2, 3, 4] }], (x) => tf.transpose(x, [2, 0, 1]), { grads: true });
    conform('transpose+reshape', [{ shape: [2, 3, 4] }], (x) => tf.reshape(tf.transpose(x, [1, 0, 2]), [6, 4]), { grads: true });
    conform('slice', [{ shape: [4, 5, 3] }], (x) => tf.slice(x, [1, 0, 1], [2, -1, 2]), { grads: true });
  });
  test('concat, stack, unstack, split', () => {
    conform('concat', [{ shape: [2, 3] }, { shape: [2, 2] }], (a, b) => tf.concat([a, b], 1), { grads: true });
    conform('concat0', [{ shape: [2, 3] }, { shape: [1, 3] }], (a, b) => tf.concat([a, b], 0), { grads: true });
    conform('stack', [{ shape: [2, 3] }, { shape: [2, 3] }], (a, b) => tf.stack([a, b], 1), { grads: true });
    conform('unstack', [{ shape: [3, 2] }], (a) => tf.unstack(a, 1), {});
    conform('split', [{ shape: [6, 4] }], (a) => tf.split(a, [1, 2, 3], 0), {});
    conform('split even', [{ shape: [6, 4] }], (a) => tf.split(a, 2, 1), {});
  });
  test('pad, tile, reverse, gather, oneHot, fill', () => {
    conform(
      'pad',
      [{ shape: [2, 3] }],
      (x) =>
        tf.pad(
          x,
          [
            [1, 0],
            [2, 1],
          ],
          0.5,
        ),
      { grads: true },
    );
    conform('tile', [{ shape: [2, 3] }], (x) => tf.tile(x, [2, 3]), { grads: true });
    conform('reverse', [{ shape: [2, 3, 4] }], (x) => tf.reverse(x, [0, 2]), { grads: true });
    conform('gather', [{ shape: [5, 3] }, { shape: [4], dtype: 'int32', lo: 0, hi: 5 }], (x, i) => tf.gather(x, i, 0), { grads: true });
    conform('gather axis1', [{ shape: [2, 5, 3] }, { shape: [2, 2], dtype: 'int32', lo: 0, hi: 5 }], (x, i) => tf.gather(x, i, 1), {
      grads: true,
    });
    conform('gather batchDims (fallback)', [{ shape: [2, 5] }, { shape: [2, 3], dtype: 'int32', lo: 0, hi: 5 }], (x, i) =>
      tf.gather(x, i, 1, 1),
    );
    conform('oneHot', [{ shape: [6], dtype: 'int32', lo: -1, hi: 5 }], (i) => tf.oneHot(i as tf.Tensor1D, 4, 2, -1));
    conform('fill', [], () => [tf.fill([2, 3], 1.5), tf.fill([3], 4, 'int32'), tf.zeros([2, 2]), tf.ones([3], 'int32')]);
  });
  test('casts between float32, int32 and bool', () => {
    conform('f->i,b', [{ shape: [8], lo: -3, hi: 3 }], (x) => [tf.cast(x, 'int32'), tf.cast(tf.round(x), 'bool')]);
    conform('i->f,b', [{ shape: [8], dtype: 'int32', lo: -3, hi: 3 }], (x) => [tf.cast(x, 'float32'), tf.cast(x, 'bool')]);
    conform('b->f,i', [{ shape: [8], dtype: 'bool' }], (x) => [tf.cast(x, 'float32'), tf.cast(x, 'int32')]);
  });
  test('a kernel with no native version falls back to the CPU kernel', () => {
    conform('cumsum (fallback)', [{ shape: [3, 4] }], (x) => tf.cumsum(x, 1), { grads: true });
    conform('stridedSlice (fallback)', [{ shape: [5, 6] }], (x) => tf.stridedSlice(x, [0, 1], [5, 6], [2, 2]));
  });
});
