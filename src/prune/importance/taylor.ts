/**
 * Criteria users of Torch-Pruning and NNI reach for:
 *
 * - taylor: first-order Taylor importance (Molchanov et al., CVPR 2019). Removing channel c of a
 *   group zeroes its parameters: each producer's filter c (kernel and bias) and channel c of every
 *   batch norm on the group's paths (gamma and beta, so the channel's output is exactly 0). To first
 *   order that changes the loss by -sum over those parameters of g * w (g the gradient of the training
 *   loss, softmax cross-entropy on the calibration labels). The score of channel c is
 *     taylor(c) = (1/B) sum over calibration batches b of | sum_{s in params of c} g_s^(b) w_s |,
 *   B batches of `TAYLOR_BATCH` images: the mean absolute first-order loss change per batch.
 * - bn-scale: |gamma| of the batch norms on the group's paths (Network Slimming, Liu et al., ICCV
 *   2017), reduced over them like l1 (`groupReduce`). Only meaningful after a phase that trains the
 *   scales with a sparsity penalty: a model whose gammas are all equal (the airbench recipe freezes
 *   them) is refused, since every ranking would be a tie.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ImageSplit } from '../../data/dataset.js';
import { fillBatch } from '../../data/pipeline.js';
import { endsInSoftmax } from '../../eval/evaluate.js';
import { ruleOf, weightChannelAxis } from '../../models/layers.js';
import { outputUnits } from '../../models/io.js';
import { channelGraph, PruningUnit } from '../graph/graph.js';
import { GROUP_REDUCE_DEFAULT, GroupReduce, reduceMembers } from './simple.js';
import { Importance, timed } from './types.js';

/** Calibration images per gradient batch. */
export const TAYLOR_BATCH = 64;

/** Per-channel sums of g * w along `axis` of a weight. */
function channelSums(gw: Float32Array, shape: number[], axis: number): Float64Array {
  const n = shape[axis];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float64Array(n);
  for (let i = 0; i < gw.length; i++) out[Math.floor(i / inner) % n] += gw[i];
  return out;
}

/**
 * The gradient pass: for every producer and batch-norm weight, per calibration batch, the per-channel
 * sums of g * w, keyed `${layer}#${weight index}`.
 */
export function firstOrderTerms(model: LayersModel, sample: ImageSplit, o: { batch?: number } = {}): Map<string, Float64Array[]> {
  const batch = o.batch ?? TAYLOR_BATCH;
  const targets: Array<{ key: string; layer: string; index: number; axis: number; variable: tf.Variable }> = [];
  for (const layer of model.layers)
    layer.weights.forEach((w, index) => {
      if (!w.trainable) return;
      const axis = weightChannelAxis(layer, index);
      if (axis === null) return;
      targets.push({
        key: `${layer.name}#${index}`,
        layer: layer.name,
        index,
        axis,
        variable: (w as unknown as { read(): tf.Variable }).read(),
      });
    });
  const out = new Map(targets.map((t) => [t.key, [] as Float64Array[]]));
  const probs = endsInSoftmax(model);
  const [h, w, c] = model.inputs[0].shape.slice(1) as number[];
  const buf = new Float32Array(batch * h * w * c);
  for (let start = 0; start < sample.n; start += batch) {
    const b = Math.min(batch, sample.n - start);
    fillBatch(
      sample,
      Array.from({ length: b }, (_, i) => start + i),
      buf,
      null,
    );
    const grads = tf.tidy(() => {
      const x = tf.tensor4d(buf.subarray(0, b * h * w * c), [b, h, w, c]);
      const onehot = tf.oneHot(tf.tensor1d(Int32Array.from(sample.labels.subarray(start, start + b)), 'int32'), outputUnits(model));
      const { grads } = tf.variableGrads(
        () => {
          const y = model.apply(x, { training: false }) as tf.Tensor2D;
          // a softmax output: cross-entropy on its probabilities, as for logits
          return probs
            ? (tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.log(tf.maximum(y, 1e-30))), 1))) as tf.Scalar)
            : (tf.losses.softmaxCrossEntropy(onehot, y) as tf.Scalar);
        },
        targets.map((t) => t.variable),
      );
      return targets.map((t) => tf.mul(grads[t.variable.name], t.variable));
    });
    targets.forEach((t, k) => out.get(t.key)!.push(channelSums(grads[k].dataSync() as Float32Array, grads[k].shape, t.axis)));
    tf.dispose(grads);
  }
  return out;
}

/** Every weight of a group that holds one value set per group channel: producers and batch norms, with the group channel of each of their channels. */
function groupWeights(model: LayersModel, u: PruningUnit): Array<{ key: string; channels: Int32Array }> {
  const graph = channelGraph(model);
  const gi = graph.units.findIndex((x) => x.conv === u.conv);
  const list: Array<{ key: string; channels: Int32Array }> = [];
  for (const name of [...u.members.map((m) => m.layer), ...u.followers]) {
    const layer = model.getLayer(name);
    const layout = graph.out.get(name);
    if (!layout) continue;
    layer.weights.forEach((w, index) => {
      if (!w.trainable || weightChannelAxis(layer, index) === null) return;
      // only channels of this group (a layer's output can mix groups only through a concatenation)
      list.push({ key: `${name}#${index}`, channels: Int32Array.from(layout.chan, (c, k) => (layout.unit[k] === gi ? c : -1)) });
    });
  }
  return list;
}

export const taylorImportance: Importance = {
  name: 'taylor',
  uses: 'gradients',
  needs: () => ({ gradients: true }),
  score: ({ model, units, store }) =>
    units.map((u) =>
      timed(u.conv, () => {
        const terms = store.gradients!;
        const weights = groupWeights(model, u);
        const batches = terms.get(weights[0]?.key ?? '')?.length ?? 0;
        const out = new Float64Array(u.filters);
        const t = new Float64Array(u.filters);
        for (let b = 0; b < batches; b++) {
          t.fill(0);
          for (const { key, channels } of weights) {
            const v = terms.get(key)![b];
            channels.forEach((c, k) => c >= 0 && (t[c] += v[k]));
          }
          for (let c = 0; c < u.filters; c++) out[c] += Math.abs(t[c]) / batches;
        }
        return out;
      }),
    ),
};

export function bnScaleImportance(o: { groupReduce?: GroupReduce } = {}): Importance {
  return {
    name: 'bn-scale',
    needs: () => ({}),
    score: ({ model, units }) => {
      const graph = channelGraph(model);
      const gammas = units.map((u) => {
        const gi = graph.units.findIndex((x) => x.conv === u.conv);
        const parts = u.followers
          .filter((name) => ruleOf(model.getLayer(name))?.normalization)
          .map((name) => {
            const layer = model.getLayer(name);
            const cfg = layer.getConfig() as { scale?: boolean };
            const layout = graph.out.get(name)!;
            // scale: false means gamma is 1 everywhere
            const g =
              cfg.scale === false ? new Float32Array(layout.chan.length).fill(1) : (layer.getWeights()[0].dataSync() as Float32Array);
            const keep = Array.from(layout.chan).flatMap((c, k) => (layout.unit[k] === gi ? [k] : []));
            return { channels: keep.map((k) => layout.chan[k]), scores: Float64Array.from(keep, (k) => Math.abs(g[k])) };
          });
        if (!parts.length)
          throw new Error(`bn-scale: group ${u.conv} has no batch norm on its channels; score this model with another criterion`);
        return parts;
      });
      const all = gammas.flatMap((p) => p.flatMap((x) => Array.from(x.scores)));
      if (all.every((v) => v === all[0]))
        throw new Error(
          `bn-scale: every batch-norm scale in the model is ${all[0]} (the recipe kept them fixed), so every ranking would be a tie; train the scales with a sparsity penalty first, or use another criterion`,
        );
      return units.map((u, k) => timed(u.conv, () => reduceMembers(gammas[k], u.filters, o.groupReduce ?? GROUP_REDUCE_DEFAULT)));
    },
  };
}
