/**
 * Runs a model over images in batches and hands each batch's activations of the requested layers to
 * a visitor as plain typed arrays (tensors stop here). Nothing is kept between batches, so memory
 * is one batch of activations plus whatever the visitor aggregates.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { type ImageSplit, pixelsOf } from '../data/dataset.js';
import { fillBatch } from '../data/pipeline.js';
import { Progress } from '../util/progress.js';

export interface ActivationBatch {
  layer: string;
  /** NHWC values of this batch */
  values: Float32Array;
  shape: [number, number, number, number];
  /** index of the batch's first image in the sample */
  start: number;
}

export function forEachActivationBatch(
  model: tfl.LayersModel,
  data: ImageSplit,
  layers: string[],
  visit: (b: ActivationBatch) => void,
  opts: { batch?: number; label?: string; quiet?: boolean; inputNoise?: { sigma: number; seed: number } } = {},
): void {
  const batch = opts.batch ?? 100;
  const outputs = layers.map((l) => model.getLayer(l).output as tfl.SymbolicTensor);
  const probe = tfl.model({ inputs: model.inputs, outputs });
  const pix = pixelsOf(data.info);
  const buf = new Float32Array(batch * pix);
  const bar = opts.quiet ? null : new Progress(opts.label ?? 'activations', data.n, 'img');
  let noiseSeed = opts.inputNoise?.seed ?? 0;
  for (let start = 0; start < data.n; start += batch) {
    const b = Math.min(batch, data.n - start);
    fillBatch(
      data,
      Array.from({ length: b }, (_, i) => start + i),
      buf,
      null,
    );
    const outs = tf.tidy(() => {
      let x: tf.Tensor = tf.tensor4d(buf.subarray(0, b * pix), [b, ...data.info.shape]);
      if (opts.inputNoise && opts.inputNoise.sigma > 0)
        x = tf.add(x, tf.randomNormal(x.shape, 0, opts.inputNoise.sigma, 'float32', noiseSeed++));
      const r = probe.apply(x, { training: false });
      return (Array.isArray(r) ? r : [r]) as tf.Tensor[];
    });
    outs.forEach((t, k) => {
      // a vector of units (a hidden Dense group) is read as 1x1 maps
      if (t.rank !== 4 && t.rank !== 2)
        throw new Error(`layer ${layers[k]} output has rank ${t.rank}; activation maps need [N,H,W,C] or [N,C]`);
      const shape = (t.rank === 4 ? t.shape : [t.shape[0], 1, 1, t.shape[1]]) as [number, number, number, number];
      visit({ layer: layers[k], values: t.dataSync() as Float32Array, shape, start });
    });
    tf.dispose(outs);
    bar?.update(start + b);
  }
}
