/**
 * The fast preset for a 2-core CPU: ResNet-9 (Page 2018, "How to train your ResNet", the DAWNBench
 * CIFAR-10 network), at width 0.5 by default (32-64-128-256 channels, ~95 M FLOPs): conv-BN-ReLU
 * stages with max-pooling, two residual blocks, global pooling, linear classifier. Page's network
 * ends with global max pooling and a fixed 0.125 logit scale; tfjs-layers has no scale layer (a
 * custom one would break loading elsewhere), so this uses global average pooling, which keeps the
 * logits small at initialisation (measured: 37.8% vs 17.8% validation accuracy after one epoch on
 * 2,000 images, width 0.25).
 *
 * Layer names: `prep_conv/bn/relu`, `l{1,2,3}_conv/bn/relu/pool`, `l{1,3}_res{1,2}_conv/bn/relu`,
 * `l{1,3}_add`, `gap`, `fc`.
 */
import * as tf from '@tensorflow/tfjs-layers';
import { scaled } from './vgg.js';

export interface ResNet9Options {
  width?: number;
  classes?: number;
  /** Input image [h, w, c]. Default [32, 32, 3]. */
  inputShape?: [number, number, number];
  seed?: number;
}

export function buildResNet9(opts: ResNet9Options = {}): tf.LayersModel {
  const width = opts.width ?? 0.5;
  let seed = opts.seed ?? 0;
  const cbr = (x: tf.SymbolicTensor, c: number, name: string): tf.SymbolicTensor => {
    let y = tf.layers
      .conv2d({
        filters: scaled(c, width),
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        kernelInitializer: tf.initializers.heNormal({ seed: seed++ }),
        name: `${name}_conv`,
      })
      .apply(x) as tf.SymbolicTensor;
    y = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, name: `${name}_bn` }).apply(y) as tf.SymbolicTensor;
    return tf.layers.reLU({ name: `${name}_relu` }).apply(y) as tf.SymbolicTensor;
  };
  const stage = (x: tf.SymbolicTensor, c: number, name: string, residual: boolean): tf.SymbolicTensor => {
    let y = cbr(x, c, name);
    y = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `${name}_pool` }).apply(y) as tf.SymbolicTensor;
    if (!residual) return y;
    const r = cbr(cbr(y, c, `${name}_res1`), c, `${name}_res2`);
    return tf.layers.add({ name: `${name}_add` }).apply([y, r]) as tf.SymbolicTensor;
  };
  const input = tf.input({ shape: opts.inputShape ?? [32, 32, 3], name: 'input' });
  let x = cbr(input, 64, 'prep');
  x = stage(x, 128, 'l1', true);
  x = stage(x, 256, 'l2', false);
  x = stage(x, 512, 'l3', true);
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: opts.classes ?? 10, kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }), name: 'fc' })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'resnet9' });
}
