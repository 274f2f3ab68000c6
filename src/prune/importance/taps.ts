/** Resolves where activations are read for each unit (its own filters and its consumer's). */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { consumersOf, PruningUnit } from '../surgery/graph.js';
import type { TapPoint, UnitTaps } from './types.js';

/** The layer read for conv `name`: the conv, its BN, or the ReLU after it (falls back to what exists). */
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
    else return tap;
    cur = next[0].name;
  }
}

export function unitTaps(model: LayersModel, units: PruningUnit[], where: TapPoint): UnitTaps[] {
  return units.map((u) => ({
    self: tapOf(model, u.conv, where),
    child: u.consumerKind === 'conv' ? tapOf(model, u.consumer, where) : null,
  }));
}
