/**
 * Sparsity penalties trained before pruning, so the channels pruning will remove matter less:
 *
 * - bn-l1 (Network Slimming, Liu et al., ICCV 2017): lambda * sum |gamma| over every batch norm on a
 *   prunable group's channels; its gradient lambda * sign(gamma) is added to gamma's gradient.
 * - group-l2 (group lasso, as Torch-Pruning's GroupNormPruner): lambda * sum over groups and channels
 *   c of ||theta_c||_2, theta_c every parameter that removing channel c removes (each producer's
 *   filter c with its bias, gamma/beta of channel c in the group's batch norms); its gradient
 *   lambda * theta_s / ||theta_c|| is added to each of those parameters' gradients.
 *
 * `growing` (growing regularisation, Wang et al., ICLR 2021) raises lambda linearly from 0 to its
 * value over training instead of applying it from the start. The penalties are tensor ops on whole
 * weights (a few per weight and step), so they run on the libtorch backend with the step.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { ruleOf, weightChannelAxis } from '../models/layers.js';
import { channelGraph } from './graph/graph.js';
import type { SparsityOptions } from '../train/loop.js';

export { SPARSITY_KINDS } from '../train/loop.js';
export type { SparsityOptions };

/** lambda at training progress `p` in [0, 1]. */
export function sparsityLambda(o: SparsityOptions, p: number): number {
  return o.schedule === 'growing' ? o.lambda * Math.min(1, Math.max(0, p)) : o.lambda;
}

interface Member {
  variable: tf.Variable;
  /** the channel axis of the weight */
  axis: number;
  /** group channel of each of the weight's channels */
  chan: Int32Array;
}

/** The weights each prunable group's channels live in (cached per model). */
function plan(model: LayersModel): Array<{ filters: number; members: Member[]; gammas: Member[] }> {
  const hit = plans.get(model);
  if (hit) return hit;
  const graph = channelGraph(model);
  const out = graph.units.map((u, gi) => {
    const members: Member[] = [],
      gammas: Member[] = [];
    for (const name of [...u.members.map((m) => m.layer), ...u.followers]) {
      const layer = model.getLayer(name);
      const layout = graph.out.get(name);
      // a layer whose channels are not all this group's (after a concatenation) is left out
      if (!layout || layout.unit.some((x) => x !== gi)) continue;
      const rule = ruleOf(layer);
      layer.weights.forEach((w, index) => {
        const axis = weightChannelAxis(layer, index);
        if (!w.trainable || axis === null) return;
        const variable = (w as unknown as { read(): tf.Variable }).read();
        const m = { variable, axis, chan: layout.chan };
        members.push(m);
        if (rule?.normalization && /\/gamma$/.test(w.originalName)) gammas.push(m);
      });
    }
    return { filters: u.filters, members, gammas };
  });
  plans.set(model, out);
  return out;
}
const plans = new WeakMap<LayersModel, ReturnType<typeof plan>>();

/** Shape that broadcasts a per-channel vector along `axis` of a rank-`rank` weight. */
const along = (rank: number, axis: number) => Array.from({ length: rank }, (_, i) => (i === axis ? -1 : 1));

/**
 * The penalty's gradient for each weight it touches, keyed by variable name, at `lambda`. Callers add
 * it to the loss gradient before the optimiser step (inside their tidy).
 */
export function sparsityGradients(model: LayersModel, kind: SparsityOptions['kind'], lambda: number): Record<string, tf.Tensor> {
  const grads: Record<string, tf.Tensor> = {};
  if (!(lambda > 0)) return grads;
  for (const g of plan(model)) {
    if (kind === 'bn-l1') {
      for (const m of g.gammas) grads[m.variable.name] = tf.mul(tf.sign(m.variable), lambda);
      continue;
    }
    // ||theta_c||^2 summed over every member's channel-c slice
    let sq: tf.Tensor = tf.zeros([g.filters]);
    for (const m of g.members) {
      const axes = m.variable.shape.map((_, i) => i).filter((i) => i !== m.axis);
      const per = axes.length ? tf.sum(tf.square(m.variable), axes) : tf.square(m.variable);
      sq = tf.add(sq, tf.unsortedSegmentSum(per, tf.tensor1d(m.chan, 'int32'), g.filters));
    }
    const norm = tf.sqrt(tf.add(sq, 1e-12));
    for (const m of g.members) {
      const scale = tf.reshape(tf.gather(norm, tf.tensor1d(m.chan, 'int32')), along(m.variable.rank, m.axis));
      const add = tf.mul(tf.div(m.variable, scale), lambda);
      grads[m.variable.name] = grads[m.variable.name] ? tf.add(grads[m.variable.name], add) : add;
    }
  }
  return grads;
}

/** The penalty hook trainModel takes for `o` (undefined without sparsity). */
export function sparsityPenalty(
  o: SparsityOptions | undefined,
): ((model: LayersModel, progress: number) => Record<string, tf.Tensor>) | undefined {
  return o && ((model, progress) => sparsityGradients(model, o.kind, sparsityLambda(o, progress)));
}
