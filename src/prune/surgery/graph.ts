/**
 * The coupling graph of a tfjs LayersModel for filter pruning (after Torch-Pruning's dependency
 * graph): which conv layers can lose output filters, which layers' weights follow each such choice,
 * and which layers forbid it.
 *
 * A conv is prunable when its output reaches exactly one consumer through channel-preserving
 * layers (BatchNormalization, ReLU/Activation, pooling, Dropout), and that consumer is a Conv2D, or
 * a Dense after Flatten / global pooling. A conv whose output feeds an Add (residual) or several
 * consumers is coupled to other layers and is left intact: for ResNets this prunes the
 * block-internal convs, the choice of HRank and MINT. Frozen (non-trainable) convs are not pruned.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';

type Layer = LayersModel['layers'][number];

export const PASSTHROUGH = new Set([
  'BatchNormalization',
  'ReLU',
  'Activation',
  'MaxPooling2D',
  'AveragePooling2D',
  'Dropout',
  'LeakyReLU',
]);
const GLOBAL_POOL = new Set(['GlobalAveragePooling2D', 'GlobalMaxPooling2D']);
export const SUPPORTED = new Set([...PASSTHROUGH, ...GLOBAL_POOL, 'InputLayer', 'Conv2D', 'Dense', 'Flatten', 'Add', 'Softmax']);

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
    if (!SUPPORTED.has(cls))
      throw new Error(`layer ${l.name} (${cls}) is not supported by filter pruning; supported: ${[...SUPPORTED].sort().join(', ')}`);
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
    if (layer.getClassName() !== 'Conv2D') continue;
    // frozen layers (e.g. airbench's data-derived whitening filters) are the user's choice to keep intact
    if (!layer.trainable) {
      intact.push({ conv: layer.name, reason: 'frozen (trainable: false)' });
      continue;
    }
    const followers: string[] = [];
    let poolFactor: number;
    let cur = layer;
    let unit: PruningUnit | null = null;
    let reason = '';
    for (;;) {
      const next = consumers.get(cur.name) ?? [];
      if (next.length !== 1) {
        reason = next.length
          ? `its output feeds ${next.length} layers (${next.map((l) => l.name).join(', ')}); they would all have to lose the same channels`
          : 'it is a model output';
        break;
      }
      const n = next[0];
      const cls = n.getClassName();
      if (PASSTHROUGH.has(cls)) {
        followers.push(n.name);
        cur = n;
        continue;
      }
      // lattice of the conv output vs the consumer's input (pooling in between)
      poolFactor = Math.round((layer.outputShape as number[])[1] / (cur.outputShape as number[])[1]);
      const filters = (layer.getConfig() as { filters: number }).filters;
      if (cls === 'Conv2D') unit = { conv: layer.name, filters, followers, consumer: n.name, consumerKind: 'conv', spatial: 1, poolFactor };
      else if (cls === 'Flatten' || GLOBAL_POOL.has(cls)) {
        // shape-neutral layers (Dropout) may sit between the flatten/pooling and the dense layer
        const between: string[] = [];
        let after = consumers.get(n.name) ?? [];
        while (after.length === 1 && after[0].getClassName() === 'Dropout') {
          between.push(after[0].name);
          after = consumers.get(after[0].name) ?? [];
        }
        if (after.length === 1 && after[0].getClassName() === 'Dense') {
          const s = cur.outputShape as number[];
          unit = {
            conv: layer.name,
            filters,
            followers: [...followers, n.name, ...between],
            consumer: after[0].name,
            consumerKind: cls === 'Flatten' ? 'dense-flatten' : 'dense-global',
            spatial: cls === 'Flatten' ? s[1] * s[2] : 1,
            poolFactor,
          };
        } else
          reason = `after ${n.name} (${cls}) comes ${after.map((l) => `${l.name} (${l.getClassName()})`).join(', ') || 'nothing'}, not a Dense layer`;
      } else
        reason =
          cls === 'Add'
            ? `its output joins a residual sum (${n.name}); the other branch would have to lose the same channels`
            : `its consumer ${n.name} (${cls}) cannot lose input channels`;
      break;
    }
    if (unit) units.push(unit);
    else intact.push({ conv: layer.name, reason });
  }
  return units;
}
