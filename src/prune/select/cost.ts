/**
 * Analytic params/FLOPs of a pruned model as a function of the number of channels kept per group,
 * from each layer type's cost terms (src/models/layers.ts): a conv kernel scales with the kept fraction of its
 * input channels times that of its output channels, biases and batch-norm parameters with the output
 * fraction only. A layer's channels can come from several groups (a concatenation) or from none
 * (fixed): its kept fraction is the share of its channels whose group keeps them, each group's
 * channels counted at that group's kept fraction. Exact for the layer types surgery supports
 * (checked against countComplexity of the rebuilt model in tests).
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { countComplexity } from '../../eval/complexity.js';
import { channelGraph, ChannelLayout, PruningUnit } from '../graph/graph.js';
import { costTerms } from '../../models/layers.js';

/** A layer's channels as groups and counts: kept fraction = (fixed + sum of count * kept/filters) / total. */
export interface Share {
  fixed: number;
  total: number;
  /** [unit index, channels of that unit] pairs */
  parts: Array<[number, number]>;
}

interface Term {
  params: number;
  flops: number;
  in: Share | null;
  out: Share | null;
}

export interface CostModel {
  units: PruningUnit[];
  total: { params: number; flops: number; latency?: number };
  /** params and FLOPs (and predicted latency, when a latency table was attached) when unit u keeps kept[u] filters */
  count(kept: ArrayLike<number>): { params: number; flops: number; latency?: number };
}

/** The share of each pruned unit in a layout (null when no unit in `units` touches it). */
function shareOf(l: ChannelLayout | undefined, index: Map<number, number>): Share | null {
  if (!l) return null;
  const parts = new Map<number, number>();
  let fixed = 0;
  for (let k = 0; k < l.unit.length; k++) {
    const u = l.unit[k] < 0 ? undefined : index.get(l.unit[k]);
    if (u === undefined) fixed++;
    else parts.set(u, (parts.get(u) ?? 0) + 1);
  }
  return parts.size ? { fixed, total: l.unit.length, parts: [...parts] } : null;
}

/** Kept fraction of a share for kept counts per unit. */
export function keptFraction(s: Share | null, units: PruningUnit[], kept: ArrayLike<number>): number {
  if (!s) return 1;
  let k = s.fixed;
  for (const [u, n] of s.parts) k += (n * kept[u]) / units[u].filters;
  return k / s.total;
}

/**
 * Which units' kept channels scale each layer: `out` the layer's output channels (the producers of
 * a group and the channel-wise layers on their paths), `inp` its input channels (consumers).
 */
export function unitShares(model: LayersModel, units: PruningUnit[]): { out: Map<string, Share>; inp: Map<string, Share> } {
  const graph = channelGraph(model);
  // graph unit index -> index in `units` (callers may pass a subset, e.g. internal-only groups)
  const mine = new Map(units.map((u, i) => [u.conv, i]));
  const index = new Map<number, number>();
  graph.units.forEach((u, g) => mine.has(u.conv) && index.set(g, mine.get(u.conv)!));
  const out = new Map<string, Share>(),
    inp = new Map<string, Share>();
  for (const layer of model.layers) {
    const o = shareOf(graph.out.get(layer.name), index);
    const i = shareOf(graph.inp.get(layer.name), index);
    if (o) out.set(layer.name, o);
    if (i) inp.set(layer.name, i);
  }
  return { out, inp };
}

export function costModel(model: LayersModel, units: PruningUnit[]): CostModel {
  const c = countComplexity(model);
  const { out, inp } = unitShares(model, units);
  const terms: Term[] = model.layers.flatMap((layer) =>
    costTerms(layer).map((t) => ({
      params: t.params,
      flops: t.flops,
      in: t.in ? (inp.get(layer.name) ?? null) : null,
      out: t.out ? (out.get(layer.name) ?? null) : null,
    })),
  );
  return {
    units,
    total: { params: c.params, flops: c.flops },
    count(kept) {
      let params = 0,
        flops = 0;
      for (const t of terms) {
        const f = keptFraction(t.in, units, kept) * keptFraction(t.out, units, kept);
        params += t.params * f;
        flops += t.flops * f;
      }
      return { params: Math.round(params), flops: Math.round(flops) };
    },
  };
}
