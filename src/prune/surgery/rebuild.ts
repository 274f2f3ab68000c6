/**
 * Physical filter removal: builds a new, smaller tfjs model from the original's topology with fewer
 * filters in the pruned convs, and copies the weights with the removed channels sliced out of the
 * conv kernels and biases, the batch-norm parameters and statistics that follow them, and the input
 * channels (or flattened rows) of each consumer. The result is a plain tfjs LayersModel.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { PruningUnit } from '../graph/graph.js';
import { ruleOf } from '../graph/rules.js';

export interface PruneRecord {
  conv: string;
  filters: number;
  kept: number[];
  removed: number[];
}

interface LayerJson {
  class_name: string;
  config: { name: string; filters?: number; layers?: LayerJson[] };
  name?: string;
}

/** Indices of the flattened rows that survive when channels `kept` of C survive, for `spatial` positions. */
export function flattenRows(kept: number[], C: number, spatial: number): number[] {
  const rows: number[] = [];
  for (let p = 0; p < spatial; p++) for (const c of kept) rows.push(p * C + c);
  return rows;
}

export async function pruneModel(
  model: tfl.LayersModel,
  units: PruningUnit[],
  keep: Map<string, number[]>,
): Promise<{ model: tfl.LayersModel; history: PruneRecord[] }> {
  const byConv = new Map(units.map((u) => [u.conv, u]));
  for (const [conv, k] of keep) {
    const u = byConv.get(conv);
    if (!u) throw new Error(`layer ${conv} is not a prunable conv (coupled by a residual add, shared, or not a convolution)`);
    if (k.length === 0) throw new Error(`layer ${conv}: cannot remove all ${u.filters} filters`);
    if (k.some((i, j) => i < 0 || i >= u.filters || (j > 0 && k[j - 1] >= i)))
      throw new Error(`layer ${conv}: kept indices must be sorted, unique and in [0, ${u.filters})`);
  }
  // 1) topology with fewer filters
  const json = model.toJSON(null, false) as unknown as { config: { layers: LayerJson[] } };
  for (const l of json.config.layers) {
    const k = keep.get(l.config.name);
    if (k) l.config.filters = k.length;
  }
  const pruned = await tfl.models.modelFromJSON({ modelTopology: json as unknown as tf.io.ModelJSON['modelTopology'] } as never);
  // 2) which channel selection applies to each layer's output (o) and input (i) axis
  const outSel = new Map<string, number[]>(),
    inSel = new Map<string, { rows: number[] }>();
  for (const u of units) {
    const k = keep.get(u.conv);
    if (!k) continue;
    outSel.set(u.conv, k);
    for (const f of u.followers) outSel.set(f, k);
    inSel.set(u.consumer, { rows: u.consumerKind === 'dense-flatten' ? flattenRows(k, u.filters, u.spatial) : k });
  }
  // 3) sliced weights
  tf.tidy(() => {
    for (const layer of model.layers) {
      const target = pruned.getLayer(layer.name);
      const ws = layer.getWeights();
      if (ws.length === 0) continue;
      const o = outSel.get(layer.name),
        i = inSel.get(layer.name);
      const slice = ruleOf(layer)?.slice;
      const sliced = (o || i) && slice ? slice(ws, { out: o, inp: i?.rows }, layer) : ws;
      target.setWeights(sliced);
    }
  });
  const history = units
    .filter((u) => keep.has(u.conv))
    .map((u) => {
      const k = new Set(keep.get(u.conv));
      return {
        conv: u.conv,
        filters: u.filters,
        kept: [...k],
        removed: Array.from({ length: u.filters }, (_, j) => j).filter((j) => !k.has(j)),
      };
    });
  return { model: pruned, history };
}

/**
 * The "masked" reference for testing surgery: the model with the removed filters zeroed in the conv
 * and every channel-wise layer after it (each layer type's `zero` rule), so those channels are
 * exactly 0 downstream.
 */
export function zeroFilters(model: tfl.LayersModel, units: PruningUnit[], keep: Map<string, number[]>): void {
  tf.tidy(() => {
    for (const u of units) {
      const k = keep.get(u.conv);
      if (!k) continue;
      const mask = new Float32Array(u.filters);
      k.forEach((j) => (mask[j] = 1));
      const m = tf.tensor1d(mask);
      for (const name of [u.conv, ...u.followers]) {
        const layer = model.getLayer(name);
        const zero = ruleOf(layer)?.zero;
        if (zero && layer.getWeights().length) layer.setWeights(zero(layer.getWeights(), m, layer));
      }
    }
  });
}
