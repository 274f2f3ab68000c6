/**
 * Folds each BatchNormalization that directly follows a Conv2D (its only consumer) into the conv's
 * kernel and bias, for inference and deployment: y = gamma * (conv(x) + b - mean) / sqrt(var + eps)
 * + beta becomes conv'(x) with kernel' = kernel * s and bias' = (b - mean) * s + beta, where
 * s = gamma / sqrt(var + eps). The result is a standard tfjs LayersModel with fewer layers that
 * computes the same function in inference mode (it must not be trained further as is).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { consumersOf } from '../graph/graph.js';
import { ruleOf } from '../../models/layers.js';

type Json = Record<string, unknown> & {
  class_name: string;
  config: Record<string, unknown> & { name: string };
  inbound_nodes?: unknown[];
  name?: string;
};

/** Replaces every [layerName, ...] reference to `from` with `to` inside nested inbound-node arrays. */
function renameRefs(v: unknown, from: string, to: string): unknown {
  if (Array.isArray(v)) {
    if (v.length >= 3 && v[0] === from && typeof v[1] === 'number') return [to, ...v.slice(1)];
    return v.map((x) => renameRefs(x, from, to));
  }
  return v;
}

const lastAxis = (l: tfl.layers.Layer) => {
  const axis = (l.getConfig() as { axis: number | number[] }).axis;
  return axis === -1 || axis === 3 || (Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 3));
};

/** True when every channel's BN multiplier gamma / sqrt(var + eps) is >= 0 (BN is then monotone per channel). */
function nonNegativeScale(bn: tfl.layers.Layer): boolean {
  const cfg = bn.getConfig() as { scale: boolean };
  if (!cfg.scale) return true;
  return bn
    .getWeights()[0]
    .dataSync()
    .every((g) => g >= 0);
}

/**
 * Folds BN into the conv before it, also across a pooling layer between them (airbench: conv -> pool ->
 * BN): average pooling commutes with any per-channel affine map, max pooling with a non-decreasing one
 * (every BN multiplier >= 0, checked per model), so BN(pool(conv(x))) = pool(BN'(conv(x))) and the BN
 * goes into the conv's kernel and bias as above.
 */
export async function foldBatchNorm(model: tfl.LayersModel): Promise<{ model: tfl.LayersModel; folded: Array<[string, string]> }> {
  const consumers = consumersOf(model);
  const pairs: Array<[string, string]> = [];
  // what the BN's readers read instead once it is gone: the conv itself, or the pooling layer
  const replacement = new Map<string, string>();
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'Conv2D') continue;
    const next = consumers.get(layer.name) ?? [];
    if (next.length !== 1) continue;
    let bn = next[0],
      via: string | null = null;
    const pooling = ruleOf(bn)?.pooling;
    if (pooling) {
      const after = consumers.get(bn.name) ?? [];
      if (after.length !== 1 || !ruleOf(after[0])?.normalization) continue;
      if (pooling === 'max' && !nonNegativeScale(after[0] as tfl.layers.Layer)) continue;
      via = bn.name;
      bn = after[0];
    }
    if (ruleOf(bn)?.normalization && lastAxis(bn as tfl.layers.Layer)) {
      pairs.push([layer.name, bn.name]);
      replacement.set(bn.name, via ?? layer.name);
    }
  }
  const json = model.toJSON(null, false) as unknown as { class_name: string; config: { layers: Json[]; output_layers?: unknown[] } };
  const bnNames = new Set(pairs.map((p) => p[1]));
  let layers = json.config.layers;
  for (const [conv, bn] of pairs) {
    const c = layers.find((l) => l.config.name === conv)!;
    c.config.use_bias = true;
    // carry the BN's input spec role: anything reading the BN now reads the conv
    const to = replacement.get(bn) ?? conv;
    layers = layers.map((l) => (l.inbound_nodes ? { ...l, inbound_nodes: renameRefs(l.inbound_nodes, bn, to) as unknown[] } : l));
    if (json.config.output_layers) json.config.output_layers = renameRefs(json.config.output_layers, bn, to) as unknown[];
  }
  json.config.layers = layers.filter((l) => !bnNames.has(l.config.name));
  const folded = await tfl.models.modelFromJSON({ modelTopology: json as never } as never);
  tf.tidy(() => {
    for (const layer of folded.layers) {
      const orig = model.getLayer(layer.name);
      const pair = pairs.find((p) => p[0] === layer.name);
      if (!pair) {
        if (orig.getWeights().length) layer.setWeights(orig.getWeights());
        continue;
      }
      const bn = model.getLayer(pair[1]);
      const cfg = bn.getConfig() as { epsilon: number; scale: boolean; center: boolean };
      const bw = bn.getWeights();
      // weight order: [gamma if scale], [beta if center], moving mean, moving variance
      const gamma = cfg.scale ? bw[0] : null,
        beta = cfg.center ? bw[cfg.scale ? 1 : 0] : null;
      const [mean, variance] = bw.slice(bw.length - 2);
      const s = tf.div(gamma ?? tf.onesLike(mean), tf.sqrt(tf.add(variance, cfg.epsilon)));
      const [k, b] = orig.getWeights();
      const bias = b ?? tf.zerosLike(mean);
      layer.setWeights([tf.mul(k, s), tf.add(tf.mul(tf.sub(bias, mean), s), beta ?? tf.zerosLike(mean))]);
    }
  });
  return { model: folded, folded: pairs };
}
