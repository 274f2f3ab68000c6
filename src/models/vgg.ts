/**
 * CIFAR VGG-16 with batch normalisation, as used by the pruning literature (HRank's cifar VGG):
 * 13 conv3x3(same)+BN+ReLU layers with max-pooling after blocks, then a classifier
 * linear(512->512)+BN+ReLU+linear(512->classes). With width 1: 14.99 M parameters and 313.7 M
 * multiply-adds for a 32x32 input, the totals HRank reports.
 *
 * Layer names are stable (`conv1`..`conv13`, `bn1`.., `relu1`.., `pool1`..`pool5`, `fc1`, `fc_bn`,
 * `fc_relu`, `fc2`): pruning reports and surgery key on them.
 */
import * as tf from '@tensorflow/tfjs-layers';

export interface VggOptions {
  /** Channel multiplier applied to every conv layer (rounded, at least 1). Default 1. */
  width?: number;
  /** Number of classes. Default 10. */
  classes?: number;
  /** Input size (square). Default 32. */
  inputSize?: number;
  /** Input image [h, w, c]; overrides inputSize. Default [32, 32, 3]. */
  inputShape?: [number, number, number];
  /** Seed for the weight initialisers, so the same options give the same initial weights. */
  seed?: number;
}

/** Conv widths and pooling points ('M') of VGG-16. */
export const VGG16_CFG: Array<number | 'M'> = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'];

export function scaled(c: number, width: number): number {
  return Math.max(1, Math.round(c * width));
}

export function buildVgg16(opts: VggOptions = {}): tf.Sequential {
  const width = opts.width ?? 1;
  const [h, w, ch] = opts.inputShape ?? [opts.inputSize ?? 32, opts.inputSize ?? 32, 3];
  let side = Math.min(h, w);
  let seed = opts.seed ?? 0;
  const init = () => tf.initializers.heNormal({ seed: seed++ });
  const model = tf.sequential({ name: 'vgg16' });
  let conv = 0,
    pool = 0,
    last = 3;
  for (const item of VGG16_CFG) {
    if (item === 'M') {
      // a small input (28x28) runs out of pixels before the fifth pool: the pools that would reach 0 are left out
      if (side < 2) continue;
      side = Math.floor(side / 2);
      model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `pool${++pool}` }));
      continue;
    }
    conv++;
    last = scaled(item, width);
    model.add(
      tf.layers.conv2d({
        filters: last,
        kernelSize: 3,
        padding: 'same',
        useBias: true,
        kernelInitializer: init(),
        name: `conv${conv}`,
        ...(conv === 1 ? { inputShape: [h, w, ch] } : {}),
      }),
    );
    model.add(tf.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5, name: `bn${conv}` }));
    model.add(tf.layers.reLU({ name: `relu${conv}` }));
  }
  model.add(tf.layers.flatten({ name: 'flatten' }));
  model.add(tf.layers.dense({ units: last, kernelInitializer: init(), name: 'fc1' }));
  model.add(tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, name: 'fc_bn' }));
  model.add(tf.layers.reLU({ name: 'fc_relu' }));
  model.add(tf.layers.dense({ units: opts.classes ?? 10, kernelInitializer: init(), name: 'fc2' }));
  return model;
}
