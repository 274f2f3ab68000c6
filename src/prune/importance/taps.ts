/** Resolves where activations are read for each unit (its own filters and its consumer's). */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { consumersOf, PruningUnit } from '../surgery/graph.js';
import type { TapPoint, UnitTaps } from './types.js';

/**
 * The layer read for conv `name`: the conv, its BN, or the activation after it (falls back to what
 * exists). Pooling and dropout between them are followed, so 'relu' reads what the next layer sees
 * (airbench: conv -> pool -> BN -> GELU).
 */
export function tapOf(model: LayersModel, name: string, where: TapPoint): string {
  if (where === 'conv') return name;
  const consumers = consumersOf(model);
  let cur = name,
    tap = name;
  for (;;) {
    const next = consumers.get(cur) ?? [];
    if (next.length !== 1) return tap;
    const cls = next[0].getClassName();
    if (cls === 'BatchNormalization') {
      tap = next[0].name;
      if (where === 'bn') return tap;
    } else if (cls === 'ReLU' || cls === 'Activation' || cls === 'LeakyReLU') return next[0].name;
    else if (!THROUGH.has(cls)) return tap;
    cur = next[0].name;
  }
}

const THROUGH = new Set(['MaxPooling2D', 'AveragePooling2D', 'Dropout']);

function height(model: LayersModel, layer: string): number {
  return (model.getLayer(layer).outputShape as number[])[1];
}

export function unitTaps(model: LayersModel, units: PruningUnit[], where: TapPoint): UnitTaps[] {
  return units.map((u) => {
    const self = tapOf(model, u.conv, where);
    const child = u.consumerKind === 'conv' ? tapOf(model, u.consumer, where) : null;
    return { self, child, pool: child ? Math.max(1, Math.round(height(model, self) / height(model, child))) : 1 };
  });
}
