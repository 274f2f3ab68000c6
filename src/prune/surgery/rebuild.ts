/**
 * Physical filter removal: builds a new, smaller tfjs model from the original's topology with fewer
 * filters in the pruned convs, and copies the weights with the removed channels sliced out of the
 * conv kernels and biases, the batch-norm parameters and statistics that follow them, and the input
 * channels (or flattened rows) of each consumer. The result is a plain tfjs LayersModel.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { PruningUnit } from './graph.js';

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
    if (!u) throw new Error(`layer ${conv} is not a prunable conv (coupled by a residual add, shared, or not a Conv2D)`);
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
      const cls = layer.getClassName();
      const o = outSel.get(layer.name),
        i = inSel.get(layer.name);
      const sliced = ws.map((w, wi) => {
        let t = w;
        if (cls === 'Conv2D') {
          if (wi === 0 && i) t = tf.gather(t, i.rows, 2);
          if (o) t = tf.gather(t, o, wi === 0 ? 3 : 0);
        } else if (cls === 'Dense') {
          if (wi === 0 && i) t = tf.gather(t, i.rows, 0);
        } else if (cls === 'BatchNormalization' && o) {
          t = tf.gather(t, o, 0);
        }
        return t;
      });
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
 * The "masked" reference for testing surgery: a copy of the model where the removed filters'
 * kernels, biases and batch-norm gamma/beta are zero, so those channels are exactly 0 downstream.
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
        const cls = layer.getClassName();
        const ws = layer.getWeights();
        if (cls === 'Conv2D') layer.setWeights(ws.map((w) => tf.mul(w, m)));
        // gamma and beta only: moving statistics stay (gamma = beta = 0 makes the output 0)
        else if (cls === 'BatchNormalization') layer.setWeights(ws.map((w, wi) => (wi < 2 ? tf.mul(w, m) : w)));
      }
    }
  });
}
