/**
 * Analytic params/FLOPs of a pruned model as a function of the number of filters kept per unit:
 * every layer's kernel count scales with the kept fraction of its input channels times that of its
 * output channels, biases and batch-norm parameters with the output fraction only. Exact for the
 * layer types surgery supports (checked against countComplexity of the rebuilt model in tests).
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { countComplexity } from '../../eval/complexity.js';
import type { PruningUnit } from '../surgery/graph.js';

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
  const terms: Term[] = [];
  for (const l of c.layers) {
    if (l.params === 0 && l.flops === 0) continue;
    const layer = model.getLayer(l.name);
    const cls = layer.getClassName();
    const ws = layer.trainableWeights.map((w) => w.shape.reduce((a: number, b) => a * (b ?? 1), 1));
    const inU = inOf.get(l.name) ?? -1,
      outU = outOf.get(l.name) ?? -1;
    if (cls === 'Conv2D' || cls === 'Dense') {
      // kernel scales with in x out, bias with out; FLOPs with in x out
      terms.push({ params: ws[0], flops: l.flops, inUnit: inU, outUnit: cls === 'Conv2D' ? outU : -1 });
      if (ws.length > 1) terms.push({ params: ws[1], flops: 0, inUnit: -1, outUnit: cls === 'Conv2D' ? outU : -1 });
    } else {
      terms.push({ params: l.params, flops: l.flops, inUnit: -1, outUnit: outU });
    }
  }
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
