/**
 * CIFAR ResNet-20/32/56 (He et al. 2016, section 4.2): a 3x3 stem with 16 channels, three stages
 * of n basic blocks (16/32/64 channels, stride 2 at the start of stages 2 and 3), global average
 * pooling and a linear classifier; depth = 6n + 2. Shortcuts that change shape use a 1x1 conv +
 * BN projection (option B) built from standard layers, so the saved model loads with
 * tf.loadLayersModel anywhere; ResNet-56 then has 0.856 M parameters and 125.8 M FLOPs (HRank's
 * option-A counts: 0.85 M, 125.5 M).
 *
 * Layer names: `stem_conv/bn/relu`, `s{stage}b{block}_conv1/bn1/relu1/conv2/bn2/add/relu2`,
 * `s{stage}b{block}_proj_conv/proj_bn`, `gap`, `fc`.
 */
import * as tf from '@tensorflow/tfjs-layers';
import { scaled } from './vgg.js';

export interface ResNetOptions {
  /** 20, 32, 44, 56 or 110 (6n + 2). Default 56. */
  depth?: number;
  /** Channel multiplier. Default 1. */
  width?: number;
  /**
   * Channels per stage instead of a multiplier: `stream` for the stem, every block's second conv and
   * projection (the residual stream), `internal` for every block's first conv; the shape a model
   * pruned with coupled groups has (untrained, for timing: `bench speed --base resnet20:...`).
   */
  channels?: { stream: [number, number, number]; internal: [number, number, number] };
  classes?: number;
  /** Input image [h, w, c]. Default [32, 32, 3]. */
  inputShape?: [number, number, number];
  seed?: number;
}

export function buildResNet(opts: ResNetOptions = {}): tf.LayersModel {
  const depth = opts.depth ?? 56;
  if ((depth - 2) % 6 !== 0) throw new RangeError(`ResNet depth must be 6n+2 (20, 32, 56, ...), got ${depth}`);
  const n = (depth - 2) / 6;
  const width = opts.width ?? 1;
  let seed = opts.seed ?? 0;
  const conv = (filters: number, k: number, strides: number, name: string) =>
    tf.layers.conv2d({
      filters,
      kernelSize: k,
      strides,
      padding: 'same',
      useBias: false,
      kernelInitializer: tf.initializers.heNormal({ seed: seed++ }),
      name,
    });
  const bn = (name: string) => tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, name });
  const input = tf.input({ shape: opts.inputShape ?? [32, 32, 3], name: 'input' });
  const stream = (s: number) => opts.channels?.stream[s - 1] ?? scaled(16 * 2 ** (s - 1), width);
  const internal = (s: number) => opts.channels?.internal[s - 1] ?? scaled(16 * 2 ** (s - 1), width);
  let x = conv(stream(1), 3, 1, 'stem_conv').apply(input) as tf.SymbolicTensor;
  x = bn('stem_bn').apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: 'stem_relu' }).apply(x) as tf.SymbolicTensor;
  let inC = stream(1);
  for (let s = 1; s <= 3; s++) {
    const c = stream(s);
    for (let b = 1; b <= n; b++) {
      const stride = s > 1 && b === 1 ? 2 : 1;
      const p = `s${s}b${b}_`;
      let y = conv(internal(s), 3, stride, `${p}conv1`).apply(x) as tf.SymbolicTensor;
      y = bn(`${p}bn1`).apply(y) as tf.SymbolicTensor;
      y = tf.layers.reLU({ name: `${p}relu1` }).apply(y) as tf.SymbolicTensor;
      y = conv(c, 3, 1, `${p}conv2`).apply(y) as tf.SymbolicTensor;
      y = bn(`${p}bn2`).apply(y) as tf.SymbolicTensor;
      let short = x;
      if (stride !== 1 || inC !== c) {
        short = conv(c, 1, stride, `${p}proj_conv`).apply(x) as tf.SymbolicTensor;
        short = bn(`${p}proj_bn`).apply(short) as tf.SymbolicTensor;
      }
      x = tf.layers.add({ name: `${p}add` }).apply([y, short]) as tf.SymbolicTensor;
      x = tf.layers.reLU({ name: `${p}relu2` }).apply(x) as tf.SymbolicTensor;
      inC = c;
    }
  }
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: opts.classes ?? 10, kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }), name: 'fc' })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: `resnet${depth}` });
}
