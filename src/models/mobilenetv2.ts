/**
 * MobileNetV2 (Sandler et al., CVPR 2018, table 2) for 32x32 inputs: a 3x3 stem, 17 inverted
 * residual blocks (1x1 expansion by t -> BN -> ReLU6 -> 3x3 depthwise -> BN -> ReLU6 -> linear 1x1
 * projection -> BN, added to the block input when shapes match), a 1x1 conv to 1280 channels, global
 * average pooling and a linear classifier. For CIFAR the stem and the second stage keep stride 1
 * (the paper's 224x224 network downsamples 32x there; on 32x32 inputs the widely used CIFAR variant
 * downsamples 8x in all), so the stages run at 32, 32, 16, 8, 8, 4, 4 pixels. `width` multiplies every
 * channel count (rounded to a multiple of 8 as in the paper, except the last conv which stays 1280 for
 * width <= 1). Pruning sees each stage's residual stream as one coupled group (the projections of
 * its blocks), the expansion convs with their depthwise convs as single-producer groups.
 *
 * Layer names: `stem_conv/bn/relu`, `b{i}_expand/expand_bn/expand_relu` (absent when t = 1),
 * `b{i}_dw/dw_bn/dw_relu`, `b{i}_project/project_bn`, `b{i}_add`, `head_conv/bn/relu`, `gap`, `fc`.
 */
import * as tf from '@tensorflow/tfjs-layers';

export interface MobileNetV2Options {
  width?: number;
  classes?: number;
  /** Input image [h, w, c]. Default [32, 32, 3]. */
  inputShape?: [number, number, number];
  seed?: number;
}

/** (expansion t, channels c, blocks n, first stride s), the paper's table 2 with CIFAR strides. */
export const MOBILENETV2_STAGES: Array<[number, number, number, number]> = [
  [1, 16, 1, 1],
  [6, 24, 2, 1],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/** The paper's channel rounding: to the nearest multiple of 8, never below 90% of the target. */
export function divisible(v: number, d = 8): number {
  const r = Math.max(d, Math.floor(v + d / 2) - (Math.floor(v + d / 2) % d));
  return r < 0.9 * v ? r + d : r;
}

export function buildMobileNetV2(opts: MobileNetV2Options = {}): tf.LayersModel {
  const width = opts.width ?? 1;
  let seed = opts.seed ?? 0;
  type T = tf.SymbolicTensor;
  const bn = (x: T, name: string) => tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, name }).apply(x) as T;
  const relu6 = (x: T, name: string) => tf.layers.reLU({ maxValue: 6, name }).apply(x) as T;
  const conv = (x: T, filters: number, k: number, strides: number, name: string) =>
    tf.layers
      .conv2d({
        filters,
        kernelSize: k,
        strides,
        padding: 'same',
        useBias: false,
        kernelInitializer: tf.initializers.heNormal({ seed: seed++ }),
        name,
      })
      .apply(x) as T;
  const input = tf.input({ shape: opts.inputShape ?? [32, 32, 3], name: 'input' });
  let inC = divisible(32 * width);
  let x = relu6(bn(conv(input, inC, 3, 1, 'stem_conv'), 'stem_bn'), 'stem_relu');
  let i = 0;
  for (const [t, c, n, s] of MOBILENETV2_STAGES) {
    const outC = divisible(c * width);
    for (let b = 0; b < n; b++) {
      const p = `b${++i}_`;
      const stride = b === 0 ? s : 1;
      let y = x;
      if (t !== 1) y = relu6(bn(conv(y, inC * t, 1, 1, `${p}expand`), `${p}expand_bn`), `${p}expand_relu`);
      y = tf.layers
        .depthwiseConv2d({
          kernelSize: 3,
          strides: stride,
          padding: 'same',
          useBias: false,
          depthwiseInitializer: tf.initializers.heNormal({ seed: seed++ }),
          name: `${p}dw`,
        })
        .apply(y) as T;
      y = relu6(bn(y, `${p}dw_bn`), `${p}dw_relu`);
      y = bn(conv(y, outC, 1, 1, `${p}project`), `${p}project_bn`);
      x = stride === 1 && inC === outC ? (tf.layers.add({ name: `${p}add` }).apply([x, y]) as T) : y;
      inC = outC;
    }
  }
  const last = width > 1 ? divisible(1280 * width) : 1280;
  x = relu6(bn(conv(x, last, 1, 1, 'head_conv'), 'head_bn'), 'head_relu');
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as T;
  const out = tf.layers
    .dense({ units: opts.classes ?? 10, kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }), name: 'fc' })
    .apply(x) as T;
  return tf.model({ inputs: input, outputs: out, name: 'mobilenetv2' });
}
