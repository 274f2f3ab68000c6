/**
 * Data-free and single-layer criteria.
 * - random: seeded uniform scores (the floor any criterion must beat).
 * - l1: sum of |weights| of each filter (Li et al., "Pruning Filters for Efficient ConvNets", ICLR 2017).
 * - hrank: mean numerical rank of the filter's feature maps over the calibration images (Lin et al.,
 *   "HRank: Filter Pruning using High-Rank Feature Map", CVPR 2020).
 * - label-mi: I(spatial mean of the filter's map; class label), binned with Miller-Madow.
 */
import { mutualInfoWithLabels } from '../../info/binned.js';
import { Rng } from '../../util/rng.js';
import { Importance, timed } from './types.js';

export const randomImportance: Importance = {
  name: 'random',
  needs: () => ({}),
  score: ({ units, seed }) => {
    const rng = new Rng(seed);
    return units.map((u) => timed(u.conv, () => Float64Array.from({ length: u.filters }, () => rng.next())));
  },
};

export const l1Importance: Importance = {
  name: 'l1',
  needs: () => ({}),
  score: ({ model, units }) =>
    units.map((u) =>
      timed(u.conv, () => {
        const k = model.getLayer(u.conv).getWeights()[0];
        const v = k.dataSync();
        const out = new Float64Array(u.filters);
        for (let i = 0; i < v.length; i++) out[i % u.filters] += Math.abs(v[i]); // HWIO: filter = last axis
        return out;
      }),
    ),
};

export const hrankImportance: Importance = {
  name: 'hrank',
  uses: 'ranks',
  needs: (_u, taps) => ({ ranks: taps.map((t) => t.self) }),
  score: ({ units, taps, store }) => units.map((u, k) => timed(u.conv, () => Float64Array.from(store.ranks.get(taps[k].self)!))),
};

export const labelMiImportance: Importance = {
  name: 'label-mi',
  uses: 'means',
  needs: (_u, taps) => ({ means: taps.map((t) => t.self) }),
  score: ({ units, taps, store }) =>
    units.map((u, k) =>
      timed(u.conv, () => {
        const m = store.means.get(taps[k].self)!;
        return Float64Array.from({ length: u.filters }, (_, c) =>
          mutualInfoWithLabels(m.subarray(c * store.n, (c + 1) * store.n), store.classLabels, 10),
        );
      }),
    ),
};
