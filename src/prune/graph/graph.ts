/**
 * The coupling graph of a tfjs LayersModel for filter pruning (after Torch-Pruning's dependency
 * graph): which conv layers can lose output filters, which layers' weights follow each such choice,
 * and which layers forbid it.
 *
 * A conv (any producer in rules.ts: Conv2D, SeparableConv2D, Conv2DTranspose) is prunable when its
 * output reaches exactly one consumer through channel-wise layers (BN, activations, pooling, dropout,
 * depthwise convs, whose channels are sliced with it), and that consumer is another producer, or a
 * Dense after Flatten / global pooling. A conv whose output feeds an Add (residual) or several
 * consumers is coupled to other layers and is left intact: for ResNets this prunes the
 * block-internal convs, the choice of HRank and MINT. Frozen (non-trainable) convs are not pruned.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { isChannelwise, LAYER_RULES, Layer, ruleOf } from './rules.js';

/** A prunable conv with the layers that follow its output channels. */
export interface PruningUnit {
  /** The conv whose output filters are removed (also the unit's key in reports). */
  conv: string;
  filters: number;
  /** Channel-preserving layers between the conv and its consumer (BN weights are sliced). */
  followers: string[];
  /** The layer whose input channels are sliced. */
  consumer: string;
  consumerKind: 'conv' | 'dense-flatten' | 'dense-global';
  /** Class of the consumer (Conv2D, SeparableConv2D, Conv2DTranspose, Dense). */
  consumerClass: string;
  /** For dense-flatten: spatial positions per channel (H*W before Flatten). */
  spatial: number;
  /** Pooling factor between the conv output and the consumer's input lattice (for map alignment). */
  poolFactor: number;
}

export function consumersOf(model: LayersModel): Map<string, Layer[]> {
  const map = new Map<string, Layer[]>();
  for (const layer of model.layers) {
    for (const node of layer.inboundNodes) {
      for (const inbound of node.inboundLayers) {
        const list = map.get(inbound.name) ?? [];
        list.push(layer);
        map.set(inbound.name, list);
      }
    }
  }
  return map;
}

/** Throws a one-line error naming the first layer type that surgery cannot handle. */
export function checkSupported(model: LayersModel): void {
  for (const l of model.layers) {
    const cls = l.getClassName();
    if (!LAYER_RULES[cls])
      throw new Error(
        `layer ${l.name} (${cls}) is not supported by filter pruning; supported: ${Object.keys(LAYER_RULES).sort().join(', ')}`,
      );
  }
}

/** A conv that pruning leaves intact, and why (reported by `prune` and in prune-report.json). */
export interface IntactConv {
  conv: string;
  reason: string;
}

export function pruningUnits(model: LayersModel, intact: IntactConv[] = []): PruningUnit[] {
  checkSupported(model);
  const consumers = consumersOf(model);
  const units: PruningUnit[] = [];
  for (const layer of model.layers) {
    if (ruleOf(layer)?.role !== 'producer') continue;
    // frozen layers (e.g. airbench's data-derived whitening filters) are the user's choice to keep intact
    if (!layer.trainable) {
      intact.push({ conv: layer.name, reason: 'frozen (trainable: false)' });
      continue;
    }
    const r = walk(layer, consumers);
    if ('reason' in r) intact.push({ conv: layer.name, reason: r.reason });
    else units.push(r);
  }
  return units;
}

/** Follows a producer's channels to their consumer; the unit, or why there is none. */
function walk(layer: Layer, consumers: Map<string, Layer[]>): PruningUnit | { reason: string } {
  const followers: string[] = [];
  const filters = (layer.getConfig() as { filters: number }).filters;
  let cur = layer;
  for (;;) {
    const next = consumers.get(cur.name) ?? [];
    if (next.length !== 1)
      return {
        reason: next.length
          ? `its output feeds ${next.length} layers (${next.map((l) => l.name).join(', ')}); they would all have to lose the same channels`
          : 'it is a model output',
      };
    const n = next[0];
    const cls = n.getClassName();
    const role = ruleOf(n)!.role;
    if (isChannelwise(n)) {
      followers.push(n.name);
      cur = n;
      continue;
    }
    // lattice of the conv output vs the consumer's input (pooling in between)
    const poolFactor = Math.round((layer.outputShape as number[])[1] / (cur.outputShape as number[])[1]);
    const base = { conv: layer.name, filters, poolFactor, consumer: n.name, consumerClass: cls };
    if (role === 'producer') return { ...base, followers, consumerKind: 'conv', spatial: 1 };
    if (role === 'flatten') {
      // weightless channel-wise layers (Dropout) may sit between the flatten/pooling and the dense layer
      const between: string[] = [];
      let after = consumers.get(n.name) ?? [];
      while (after.length === 1 && isChannelwise(after[0]) && after[0].getWeights().length === 0) {
        between.push(after[0].name);
        after = consumers.get(after[0].name) ?? [];
      }
      if (after.length === 1 && ruleOf(after[0])?.role === 'dense') {
        const s = cur.outputShape as number[];
        const flat = cls === 'Flatten';
        return {
          ...base,
          consumer: after[0].name,
          consumerClass: after[0].getClassName(),
          followers: [...followers, n.name, ...between],
          consumerKind: flat ? 'dense-flatten' : 'dense-global',
          spatial: flat ? s[1] * s[2] : 1,
        };
      }
      return {
        reason: `after ${n.name} (${cls}) comes ${after.map((l) => `${l.name} (${l.getClassName()})`).join(', ') || 'nothing'}, not a Dense layer`,
      };
    }
    if (role === 'join')
      return { reason: `its output joins a residual sum (${n.name}); the other branch would have to lose the same channels` };
    if (role === 'channelwise') return { reason: `${n.name} (${cls}) does not keep channels one to one in this configuration` };
    return { reason: `its consumer ${n.name} (${cls}) cannot lose input channels` };
  }
}
