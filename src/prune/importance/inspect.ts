/**
 * Data for the report's pictures: the aura-MI matrix between the filters of one adjacent layer
 * pair, and, for a few filters, the activation map, its label map, its aura matrix and entropy.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { forEachActivationBatch } from '../../activations/collect.js';
import type { ImageSplit } from '../../data/dataset.js';
import { subset } from '../../data/pipeline.js';
import { auraMatrix, entropyOfCounts } from '../../info/aura.js';
import { quantizeMap } from '../../info/quantize.js';
import { poolMaps, spatialMIMatrix } from '../../info/spatial_mi.js';
import { pruningUnits } from '../graph/graph.js';
import { buildStore } from './store.js';
import { unitTaps } from './taps.js';
import { labelKey } from './types.js';

export interface InspectData {
  pair: { parent: string; child: string; rows: number; cols: number; mi: number[] };
  examples: Array<{
    layer: string;
    filter: number;
    h: number;
    w: number;
    map: number[];
    labels: number[];
    levels: number;
    aura: number[];
    entropy: number;
  }>;
}

export function inspectAura(
  model: LayersModel,
  sample: ImageSplit,
  o: { levels?: number; unit?: number; filters?: number } = {},
): InspectData | null {
  const units = pruningUnits(model);
  const taps = unitTaps(model, units, 'relu');
  const k = o.unit ?? units.findIndex((_, i) => taps[i].child !== null);
  if (k < 0 || !taps[k].child) return null;
  const G = o.levels ?? 8;
  const store = buildStore(
    model,
    sample,
    {
      labels: [
        { layer: taps[k].self, pool: taps[k].pool },
        { layer: taps[k].child!, pool: 1 },
      ],
    },
    { quantize: { levels: G, zeroBin: true }, quiet: true },
  );
  const X = store.labels.get(labelKey(taps[k].self, taps[k].pool))!,
    Y = store.labels.get(`${taps[k].child}@1`)!;
  const { mi } = spatialMIMatrix(X, Y);
  const examples: InspectData['examples'] = [];
  const one = subset(sample, [0]);
  forEachActivationBatch(
    model,
    one,
    [taps[k].self],
    (b) => {
      const [, H, W, C] = b.shape;
      const p = poolMaps(b.values, b.shape, 1);
      for (let f = 0; f < Math.min(o.filters ?? 4, C); f++) {
        const map = Array.from({ length: H * W }, (_, s) => p.values[s * C + f]);
        const labels = Array.from(quantizeMap(map, new Uint8Array(H * W), { levels: G, zeroBin: true }));
        const aura = auraMatrix(labels, H, W, G);
        examples.push({
          layer: taps[k].self,
          filter: f,
          h: H,
          w: W,
          map,
          labels,
          levels: G,
          aura: Array.from(aura),
          entropy: entropyOfCounts(aura),
        });
      }
    },
    { quiet: true },
  );
  return { pair: { parent: taps[k].self, child: taps[k].child!, rows: X.channels, cols: Y.channels, mi: Array.from(mi) }, examples };
}
