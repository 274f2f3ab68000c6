/**
 * Analytic params/FLOPs of a pruned model as a function of the number of filters kept per unit, from
 * each layer type's cost terms (rules.ts): a conv kernel scales with the kept fraction of its input
 * channels times that of its output channels, biases and batch-norm parameters with the output
 * fraction only. Exact for the layer types surgery supports (checked against countComplexity of the
 * rebuilt model in tests).
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { countComplexity } from '../../eval/complexity.js';
import type { PruningUnit } from '../graph/graph.js';
import { costTerms } from '../graph/rules.js';

interface Term {
  params: number;
  flops: number;
  inUnit: number;
  outUnit: number;
}

export interface CostModel {
  units: PruningUnit[];
  total: { params: number; flops: number; latency?: number };
  /** params and FLOPs (and predicted latency, when a latency table was attached) when unit u keeps kept[u] filters */
  count(kept: ArrayLike<number>): { params: number; flops: number; latency?: number };
}

/**
 * Which unit's kept filters scale each layer: `outOf` a layer whose output channels are a unit's
 * filters (the conv and its followers), `inOf` a layer whose input channels are (the consumer).
 */
export function unitMaps(units: PruningUnit[]): { outOf: Map<string, number>; inOf: Map<string, number> } {
  const outOf = new Map<string, number>(),
    inOf = new Map<string, number>();
  units.forEach((u, k) => {
    outOf.set(u.conv, k);
    u.followers.forEach((f) => outOf.set(f, k));
    inOf.set(u.consumer, k);
  });
  return { outOf, inOf };
}

export function costModel(model: LayersModel, units: PruningUnit[]): CostModel {
  const c = countComplexity(model);
  const { outOf, inOf } = unitMaps(units);
  // each layer's cost terms (rules.ts) scale with the kept fraction of the unit feeding its input
  // channels and/or of the unit whose filters its output channels are
  const terms: Term[] = model.layers.flatMap((layer) =>
    costTerms(layer).map((t) => ({
      params: t.params,
      flops: t.flops,
      inUnit: t.in ? (inOf.get(layer.name) ?? -1) : -1,
      outUnit: t.out ? (outOf.get(layer.name) ?? -1) : -1,
    })),
  );
  const frac = (kept: ArrayLike<number>, u: number) => (u < 0 ? 1 : kept[u] / units[u].filters);
  return {
    units,
    total: { params: c.params, flops: c.flops },
    count(kept) {
      let params = 0,
        flops = 0;
      for (const t of terms) {
        const f = frac(kept, t.inUnit) * frac(kept, t.outUnit);
        params += t.params * f;
        flops += t.flops * f;
      }
      return { params: Math.round(params), flops: Math.round(flops) };
    },
  };
}
