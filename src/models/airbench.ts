/**
 * The airbench preset's network (after Keller Jordan's public airbench94 description; re-implemented
 * from the published facts, not copied): a fixed 2x2 patch-whitening conv, then three blocks of
 * (conv 3x3, max-pool 2, BN, activation, conv 3x3, BN, activation) with widths 64/256/256, a 3x3
 * max-pool and a bias-free linear head. About 118 M multiply-adds per image, a third of ResNet-9.
 *
 * Everything is a standard tfjs layer, so the model loads anywhere and our surgery prunes it (a plain
 * conv/BN/pool chain: every block conv is a prunable unit). Two parts of the recipe live in the
 * optimiser instead of in custom layers, with identical training dynamics:
 * - the fixed logit scale 1/9: the head's kernel is stored pre-scaled (V = W/9) and trained with a
 *   learning rate 81x smaller, which is exactly SGD on W followed by the scale;
 * - BN scales are frozen (gamma stays 1) and BN biases get a 64x learning rate (see recipes.ts).
 *
 * Layer names: `whiten`, `whiten_act`, `b{1,2,3}_conv1/pool/bn1/act1/conv2/bn2/act2`, `pool`,
 * `flatten`, `head`.
 */
import * as tfc from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-layers';
import type { ImageSplit } from '../data/dataset.js';
import { epochBatches, fillBatch } from '../data/pipeline.js';
import { symmetricEigen } from '../util/linalg.js';
import { Rng } from '../util/rng.js';

export interface AirbenchOptions {
  /** Width multiplier on 64/256/256. */
  width?: number;
  /** Block widths (before `width`); default [64, 256, 256]. */
  widths?: [number, number, number];
  /** 'gelu' (the recipe's) or 'relu'. */
  activation?: 'gelu' | 'relu';
  classes?: number;
  /** Input image [h, w, c]. Default [32, 32, 3]. */
  inputShape?: [number, number, number];
  seed?: number;
}

/** The fixed logit scale of the recipe, folded into the head's stored kernel. */
export const AIRBENCH_LOGIT_SCALE = 1 / 9;
export const WHITEN_PATCH = 2;
/** Whitening filters for c input channels: every patch direction and its negative. */
const whitenWidth = (c: number) => 2 * c * WHITEN_PATCH * WHITEN_PATCH;

/** PyTorch's default conv/linear init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), seeded. */
function torchUniform(shape: number[], fanIn: number, rng: Rng, scale = 1): Float32Array {
  const b = 1 / Math.sqrt(fanIn);
  return Float32Array.from({ length: shape.reduce((a, c) => a * c, 1) }, () => (rng.next() * 2 - 1) * b * scale);
}

/**
 * A 3x3 kernel [3,3,in,out] with PyTorch's default init whose first min(in, out) filters are
 * replaced by identities (dirac init: output i copies input i at the centre tap), as the recipe does.
 */
function diracKernel(cin: number, cout: number, rng: Rng): Float32Array {
  const k = torchUniform([3, 3, cin, cout], cin * 9, rng);
  for (let o = 0; o < Math.min(cin, cout); o++) {
    for (let t = 0; t < 9; t++) for (let i = 0; i < cin; i++) k[(t * cin + i) * cout + o] = 0;
    k[(4 * cin + o) * cout + o] = 1;
  }
  return k;
}

export function buildAirbench(opts: AirbenchOptions = {}): tf.LayersModel {
  const w = opts.width ?? 1;
  const widths = (opts.widths ?? [64, 256, 256]).map((c) => Math.max(1, Math.round(c * w)));
  const act = opts.activation ?? 'gelu';
  const rng = new Rng(opts.seed ?? 0);
  const [H, W, C] = opts.inputShape ?? [32, 32, 3];
  const WHITEN_WIDTH = whitenWidth(C);
  const input = tf.input({ shape: [H, W, C], name: 'input' });
  const whiten = tf.layers.conv2d({ filters: WHITEN_WIDTH, kernelSize: WHITEN_PATCH, padding: 'valid', useBias: true, name: 'whiten' });
  let x = whiten.apply(input) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: act, name: 'whiten_act' }).apply(x) as tf.SymbolicTensor;
  const convs: Array<[tf.layers.Layer, number, number]> = [];
  let cin = WHITEN_WIDTH;
  widths.forEach((c, i) => {
    const n = `b${i + 1}`;
    const bn = (name: string) => tf.layers.batchNormalization({ momentum: 0.6, epsilon: 1e-12, name });
    const conv1 = tf.layers.conv2d({ filters: c, kernelSize: 3, padding: 'same', useBias: false, name: `${n}_conv1` });
    x = conv1.apply(x) as tf.SymbolicTensor;
    x = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `${n}_pool` }).apply(x) as tf.SymbolicTensor;
    x = bn(`${n}_bn1`).apply(x) as tf.SymbolicTensor;
    x = tf.layers.activation({ activation: act, name: `${n}_act1` }).apply(x) as tf.SymbolicTensor;
    const conv2 = tf.layers.conv2d({ filters: c, kernelSize: 3, padding: 'same', useBias: false, name: `${n}_conv2` });
    x = conv2.apply(x) as tf.SymbolicTensor;
    x = bn(`${n}_bn2`).apply(x) as tf.SymbolicTensor;
    x = tf.layers.activation({ activation: act, name: `${n}_act2` }).apply(x) as tf.SymbolicTensor;
    convs.push([conv1, cin, c], [conv2, c, c]);
    cin = c;
  });
  // the final max pool covers what is left (3x3 for 32x32 and 28x28 inputs, as the recipe's)
  const left = (s: number) => Math.max(1, Math.floor(Math.floor(Math.floor((s - WHITEN_PATCH + 1) / 2) / 2) / 2));
  const pool: [number, number] = [left(H), left(W)];
  x = tf.layers.maxPooling2d({ poolSize: pool, strides: pool, name: 'pool' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  const classes = opts.classes ?? 10;
  const head = tf.layers.dense({ units: classes, useBias: false, name: 'head' });
  const out = head.apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out, name: 'airbench' });
  // PyTorch-style init (the recipe's learning rates are tuned for it); whitening filters come from data
  whiten.setWeights([
    tfc.tensor(torchUniform([2, 2, C, WHITEN_WIDTH], 4 * C, rng), [2, 2, C, WHITEN_WIDTH]),
    tfc.tensor(torchUniform([WHITEN_WIDTH], 4 * C, rng), [WHITEN_WIDTH]),
  ]);
  for (const [layer, i, o] of convs) layer.setWeights([tfc.tensor(diracKernel(i, o, rng), [3, 3, i, o])]);
  head.setWeights([tfc.tensor(torchUniform([cin, classes], cin, rng, AIRBENCH_LOGIT_SCALE), [cin, classes])]);
  return model;
}

/**
 * 2x2xC patches of normalised images, flattened in the kernel's (dy, dx, channel) order, and their
 * second-moment matrix (4C x 4C; 12 x 12 for RGB). The recipe does not centre the patches:
 * normalised images are already close to zero mean.
 */
export function patchCovariance(data: ImageSplit, images: number): Float64Array {
  const [H, W, C] = data.info.shape;
  const PIX = H * W * C;
  const d = whitenWidth(C) / 2,
    n = Math.min(images, data.n);
  const cov = new Float64Array(d * d);
  const buf = new Float32Array(256 * PIX);
  const p = new Float64Array(d);
  let count = 0;
  for (const idx of epochBatches(n, 256, null)) {
    fillBatch(data, idx, buf, null);
    for (let b = 0; b < idx.length; b++) {
      for (let y = 0; y < H - 1; y++) {
        for (let x = 0; x < W - 1; x++) {
          let k = 0;
          for (let dy = 0; dy < 2; dy++)
            for (let dx = 0; dx < 2; dx++) for (let c = 0; c < C; c++) p[k++] = buf[b * PIX + ((y + dy) * W + x + dx) * C + c];
          for (let i = 0; i < d; i++) for (let j = i; j < d; j++) cov[i * d + j] += p[i] * p[j];
          count++;
        }
      }
    }
  }
  for (let i = 0; i < d; i++) for (let j = i; j < d; j++) cov[j * d + i] = cov[i * d + j] /= count;
  return cov;
}

/**
 * Sets the whitening conv's filters from the training images: eigenvectors of the patch covariance
 * scaled by 1/sqrt(eigenvalue + eps), followed by their negatives (so a following GELU/ReLU keeps
 * both signs). On the images used, the first 12 outputs then have covariance diag(l / (l + eps)),
 * the identity up to eps.
 */
export function initWhitening(model: tf.LayersModel, data: ImageSplit, images = 5000, eps = 5e-4): { eigenvalues: number[] } {
  const layer = model.getLayer('whiten');
  const C = data.info.shape[2];
  const d = whitenWidth(C) / 2;
  const { values, vectors } = symmetricEigen(patchCovariance(data, images), d);
  const kernel = new Float32Array(d * 2 * d);
  for (let f = 0; f < d; f++) {
    const s = 1 / Math.sqrt(Math.max(values[f], 0) + eps);
    for (let k = 0; k < d; k++) {
      kernel[k * 2 * d + f] = vectors[f][k] * s;
      kernel[k * 2 * d + f + d] = -vectors[f][k] * s;
    }
  }
  const [, bias] = layer.getWeights();
  layer.setWeights([tfc.tensor(kernel, [2, 2, C, 2 * d]), bias]);
  return { eigenvalues: values };
}
