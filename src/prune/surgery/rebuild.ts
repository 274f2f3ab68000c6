/**
 * Physical channel removal: builds a new, smaller tfjs model from the original's topology with fewer
 * channels in each pruned group (graph.ts), and copies the weights with the removed channels sliced
 * out of every producer's kernel and bias, the batch-norm parameters and statistics (and any other
 * channel-wise weights) on their paths, and the input channels (or flattened rows) of each consumer.
 * The result is a plain tfjs LayersModel.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ChannelGraph, ChannelLayout, channelGraph, PruningUnit } from '../graph/graph.js';
import { LAYER_RULES, ruleOf } from '../../models/layers.js';

export interface PruneRecord {
  conv: string;
  filters: number;
  kept: number[];
  removed: number[];
  /** every producer of a coupled group (absent for a lone conv) */
  members?: string[];
}

interface LayerJson {
  class_name: string;
  config: { name: string; filters?: number; layers?: LayerJson[] };
  name?: string;
}

/** Positions of a layout whose channel survives (`keep`: kept group channels per unit, as sets). */
function keptPositions(l: ChannelLayout, keep: Array<Set<number> | undefined>): number[] | null {
  const out: number[] = [];
  let changed = false;
  for (let k = 0; k < l.unit.length; k++) {
    const u = l.unit[k];
    if (u < 0 || !keep[u] || keep[u]!.has(l.chan[k])) out.push(k);
    else changed = true;
  }
  return changed ? out : null;
}

function keepSets(graph: ChannelGraph, units: PruningUnit[], keep: Map<string, number[]>): Array<Set<number> | undefined> {
  const index = new Map(graph.units.map((u, i) => [u.conv, i]));
  const allowed = new Set(units.map((u) => u.conv));
  const sets: Array<Set<number> | undefined> = graph.units.map(() => undefined);
  for (const [conv, k] of keep) {
    const i = index.get(conv);
    if (i === undefined || !allowed.has(conv))
      throw new Error(
        `layer ${conv} is not a prunable group (its channels reach a model output or input, a frozen or unknown layer, or it is not a producer)`,
      );
    const u = graph.units[i];
    if (k.length === 0) throw new Error(`layer ${conv}: cannot remove all ${u.filters} filters`);
    if (k.some((x, j) => !Number.isInteger(x) || x < 0 || x >= u.filters || (j > 0 && k[j - 1] >= x)))
      throw new Error(`layer ${conv}: kept indices must be sorted, unique and in [0, ${u.filters})`);
    sets[i] = new Set(k);
  }
  return sets;
}

/**
 * Removes the channels of each group not in `keep` (group key -> kept group channels, sorted): every
 * producer of the group loses those filters, every channel-wise layer on their paths the matching
 * slices, and every consumer the matching input rows (at their offset in a concatenation, once per
 * position after a Flatten, m per channel after a depthwise multiplier).
 */
export async function pruneModel(
  model: tfl.LayersModel,
  units: PruningUnit[],
  keep: Map<string, number[]>,
): Promise<{ model: tfl.LayersModel; history: PruneRecord[] }> {
  const graph = channelGraph(model);
  const sets = keepSets(graph, units, keep);
  const outSel = new Map<string, number[]>(),
    inSel = new Map<string, number[]>();
  for (const [name, l] of graph.out) {
    const k = keptPositions(l, sets);
    if (k) outSel.set(name, k);
  }
  for (const [name, l] of graph.inp) {
    const k = keptPositions(l, sets);
    if (k) inSel.set(name, k);
  }
  // 1) topology with fewer channels where a layer's config names them
  const json = model.toJSON(null, false) as unknown as { config: { layers: LayerJson[] } };
  for (const l of json.config.layers) {
    const k = outSel.get(l.config.name);
    const resize = LAYER_RULES[l.class_name]?.resize;
    if (k && resize) resize(l.config as unknown as Record<string, unknown>, k.length);
  }
  const pruned = await tfl.models.modelFromJSON({ modelTopology: json as unknown as tf.io.ModelJSON['modelTopology'] } as never);
  // 2) sliced weights
  tf.tidy(() => {
    for (const layer of model.layers) {
      const ws = layer.getWeights();
      if (ws.length === 0) continue;
      const o = outSel.get(layer.name),
        i = inSel.get(layer.name);
      const slice = ruleOf(layer)?.slice;
      pruned.getLayer(layer.name).setWeights((o || i) && slice ? slice(ws, { out: o, inp: i }, layer) : ws);
    }
  });
  const history = graph.units
    .map((u, i) => ({ u, k: sets[i] }))
    .filter(({ k }) => k)
    .map(({ u, k }) => ({
      conv: u.conv,
      filters: u.filters,
      kept: [...k!].sort((a, b) => a - b),
      removed: Array.from({ length: u.filters }, (_, j) => j).filter((j) => !k!.has(j)),
      ...(u.members.length > 1 ? { members: u.members.map((m) => m.layer) } : {}),
    }));
  return { model: pruned, history };
}

/**
 * The reference pruned models are tested against, built without surgery: the original model with
 * the input rows of every removed channel zeroed in each consumer (conv, dense), so those channels
 * contribute nothing anywhere. Equal logits mean surgery removed exactly those channels.
 */
export function zeroFilters(model: tfl.LayersModel, units: PruningUnit[], keep: Map<string, number[]>): void {
  const graph = channelGraph(model);
  const sets = keepSets(graph, units, keep);
  tf.tidy(() => {
    for (const [name, l] of graph.inp) {
      const layer = model.getLayer(name);
      const zeroIn = ruleOf(layer)?.zeroIn;
      const k = keptPositions(l, sets);
      if (!zeroIn || !k) continue;
      const mask = new Float32Array(l.unit.length);
      for (const j of k) mask[j] = 1;
      layer.setWeights(zeroIn(layer.getWeights(), tf.tensor1d(mask), layer));
    }
  });
}
