/**
 * Gradient registrations.
 * 1) tfjs-core's Node bundle does not register the gradient functions; tfjs-layers' bundle does,
 *    into the same global registry. Importing it makes `tf.grads` work for core-only users too.
 * 2) On the libtorch backend, six gradients are replaced by fused native kernels (measured on the
 *    VGG-16 and ResNet-9 training steps, where tfjs's compositions were the largest cost after the
 *    convolutions): Relu (Step+Cast+Multiply -> one threshold pass), Mean and Sum (a JS-built
 *    ones tensor times dy -> a zero-copy broadcast view), FusedBatchNorm (~10 element-wise passes ->
 *    libtorch's fused batch-norm backward), ClipByValue and Relu6 (five element-wise kernels -> one
 *    pass; a sixth of a MobileNetV2 step). On every other backend, and for shapes the native
 *    kernels do not cover, tfjs's own gradient runs unchanged. The conformance suite checks these
 *    gradients against the CPU backend's.
 * 3) tfjs-layers' `gelu` activation composes five element-wise ops (about ten more in its gradient);
 *    on libtorch it runs as one native GELU kernel with a one-pass gradient instead (the airbench
 *    network has seven GELUs; they were about 13% of its training step). Same formula (erf form);
 *    other backends keep tfjs-layers' own composition.
 * 4) tfjs-layers' BatchNormalization in training computes the batch statistics with Mean,
 *    SquaredDifference and Mean, then normalises, and backpropagates through all of them; on libtorch
 *    (channels on the last axis, rank 2 or 4) it is one native batch-norm-training kernel whose
 *    gradient is libtorch's fused training backward. The moving averages are updated exactly as
 *    tfjs-layers does. (The statistics outputs feed only those averages, so the gradient treats them
 *    as constants.)
 */
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import {
  BATCH_NORM_GRAD,
  BATCH_NORM_TRAIN,
  BATCH_NORM_TRAIN_GRAD,
  CLIP_GRAD,
  EXPAND_TO,
  GELU,
  GELU_GRAD,
  RELU_GRAD,
} from './kernels/grad_kernels.js';

const BACKEND = 'libtorch';
let done = false;

function onLibtorch(): boolean {
  return tf.getBackend() === BACKEND;
}

function expandTo(dy: tf.Tensor, keepShape: number[], shape: number[]): tf.Tensor {
  return tf.engine().runKernel(EXPAND_TO, { x: tf.reshape(dy, keepShape) }, { shape } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/**
 * `name`'s gradient with respect to its one input x: `fused` on libtorch for float32 inputs, tfjs's own
 * gradient (captured before replacing it) everywhere else.
 */
function fusedGradient(name: string, fused: (dy: tf.Tensor, x: tf.Tensor, attrs: tf.NamedAttrMap) => tf.Tensor): tf.GradConfig {
  const orig = tf.getGradient(name)!;
  return {
    kernelName: name,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      if (!onLibtorch() || x.dtype !== 'float32') return orig.gradFunc(dy, saved, attrs);
      return { x: () => fused(dy as tf.Tensor, x, attrs) };
    },
  };
}

/** Installs the fused gradients (idempotent). */
export function registerFusedGradients(): void {
  if (done) return;
  done = true;
  // AURAPRUNE_FUSED_GRADS=0: tfjs's own compositions everywhere (A/B timing, bisecting a wrong gradient)
  if (process.env.AURAPRUNE_FUSED_GRADS === '0') return;
  const bn = tf.getGradient('FusedBatchNorm')!;

  tf.registerGradient(fusedGradient('Relu', (dy, x) => tf.engine().runKernel(RELU_GRAD, { dy, x }, {}) as tf.Tensor));
  // ClipByValue (tfjs-layers' ReLU with maxValue: MobileNets' ReLU6) and Relu6: one native pass
  // instead of five element-wise kernels
  const clipGrad = (dy: tf.Tensor, x: tf.Tensor, bounds: { lo: number; hi: number; relu6: boolean }) =>
    tf.engine().runKernel(CLIP_GRAD, { dy, x }, bounds as unknown as tf.NamedAttrMap) as tf.Tensor;
  tf.registerGradient(
    fusedGradient('ClipByValue', (dy, x, a) =>
      clipGrad(dy, x, { lo: a.clipValueMin as number, hi: a.clipValueMax as number, relu6: false }),
    ),
  );
  tf.registerGradient(fusedGradient('Relu6', (dy, x) => clipGrad(dy, x, { lo: 0, hi: 6, relu6: true })));
  for (const [name, scaleByCount] of [
    ['Mean', true],
    ['Sum', false],
  ] as const)
    tf.registerGradient(
      fusedGradient(name, (dy, x, attrs) => {
        const axes = tf.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape);
        const keep = x.shape.slice();
        axes.forEach((a) => (keep[a] = 1));
        const count = axes.reduce((p, a) => p * x.shape[a], 1);
        return expandTo(scaleByCount ? tf.div(dy, count) : dy, keep, x.shape);
      }),
    );

  tf.registerGradient({
    kernelName: GELU,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved;
      return { x: () => tf.engine().runKernel(GELU_GRAD, { dy: dy as tf.Tensor, x }, {}) as tf.Tensor };
    },
  });
  // the class tfjs-layers registered for activation: 'gelu' (a layer config or model.json names it so)
  const [Gelu] = tf.serialization.SerializationMap.getMap().classNameMap.gelu as unknown as [
    { prototype: { apply(x: tf.Tensor): tf.Tensor } },
  ];
  const composed = Gelu.prototype.apply;
  Gelu.prototype.apply = function (x: tf.Tensor) {
    return onLibtorch() && x.dtype === 'float32' ? (tf.engine().runKernel(GELU, { x }, {}) as tf.Tensor) : composed.call(this, x);
  };

  tf.registerGradient({
    kernelName: BATCH_NORM_TRAIN,
    inputsToSave: ['x', 'scale'],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved, attrs) => {
      const [x, scale, mean, variance] = saved;
      const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
      const g = tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD, { dy, x, mean, variance, scale }, attrs as tf.NamedAttrMap) as tf.Tensor[];
      return { x: () => g[0], scale: () => g[1], offset: () => g[2] };
    },
  });
  type BnLayer = {
    axis: number;
    epsilon: number;
    momentum: number;
    gamma: { read(): tf.Tensor } | null;
    beta: { read(): tf.Tensor } | null;
    movingMean: { read(): tf.Tensor; write(v: tf.Tensor): void };
    movingVariance: { read(): tf.Tensor; write(v: tf.Tensor): void };
  };
  type Call = (this: BnLayer, inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }) => tf.Tensor;
  const [BatchNorm] = tf.serialization.SerializationMap.getMap().classNameMap.BatchNormalization as unknown as [
    { prototype: { call: Call } },
  ];
  const layersCall = BatchNorm.prototype.call;
  BatchNorm.prototype.call = function (inputs, kwargs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const axis = this.axis >= 0 ? this.axis : this.axis + x.rank;
    if (!kwargs?.training || !onLibtorch() || x.dtype !== 'float32' || (x.rank !== 4 && x.rank !== 2) || axis !== x.rank - 1)
      return layersCall.call(this, inputs, kwargs);
    return tf.tidy(() => {
      const C = x.shape[axis];
      const scale = this.gamma ? this.gamma.read() : tf.ones([C]);
      const offset = this.beta ? this.beta.read() : tf.zeros([C]);
      const [y, mean, variance] = tf
        .engine()
        .runKernel(BATCH_NORM_TRAIN, { x, scale, offset }, { varianceEpsilon: this.epsilon }) as tf.Tensor[];
      // tfjs-layers' moving average: v <- v - (v - batch value) * (1 - momentum)
      for (const [v, value] of [
        [this.movingMean, mean],
        [this.movingVariance, variance],
      ] as const)
        tf.tidy(() => {
          const orig = v.read();
          v.write(tf.sub(orig, tf.mul(tf.sub(orig, value), 1 - this.momentum)));
        });
      return y;
    });
  };

  tf.registerGradient({
    kernelName: 'FusedBatchNorm',
    inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dy, saved, attrs) => {
      const [x, m, v, s] = saved;
      const C = x.shape[x.rank - 1];
      const vec = (t?: tf.Tensor) => !t || t.size === C;
      if (!onLibtorch() || (x.rank !== 4 && x.rank !== 2) || !vec(m) || !vec(v) || !vec(s)) return bn.gradFunc(dy, saved, attrs);
      const eps = (attrs as { varianceEpsilon: number }).varianceEpsilon;
      const g = tf
        .engine()
        .runKernel(
          BATCH_NORM_GRAD,
          { dy: dy as tf.Tensor, x, mean: m, variance: v, ...(s ? { scale: s } : {}) },
          { varianceEpsilon: eps },
        ) as tf.Tensor[];
      return {
        x: () => g[0],
        mean: () => tf.reshape(g[1], m.shape),
        variance: () => tf.reshape(g[2], v.shape),
        offset: () => g[3],
        scale: () => tf.reshape(g[4], s ? s.shape : [C]),
      };
    },
  });
}
