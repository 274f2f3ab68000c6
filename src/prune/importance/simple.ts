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
import { ruleOf } from '../../models/layers.js';
import { Importance, timed, timedTieBroken } from './types.js';

export const randomImportance: Importance = {
  name: 'random',
  needs: () => ({}),
  score: ({ units, seed }) => {
    const rng = new Rng(seed);
    return units.map((u) => timed(u.conv, () => Float64Array.from({ length: u.filters }, () => rng.next())));
  },
};

/** How the per-channel scores of a group's members combine into the group's score. */
export type GroupReduce = 'mean' | 'sum' | 'max';
export const GROUP_REDUCE_DEFAULT: GroupReduce = 'mean';

/** Sum of |w| over every axis of `w` but `axis`: one value per filter on that axis. */
export function l1Along(values: ArrayLike<number>, shape: number[], axis: number): Float64Array {
  const n = shape[axis];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float64Array(n);
  for (let i = 0; i < values.length; i++) out[Math.floor(i / inner) % n] += Math.abs(values[i]);
  return out;
}

/** Reduces member scores (one array per member, indexed by group channel) into one score per channel. */
export function reduceMembers(parts: Array<{ channels: number[]; scores: Float64Array }>, filters: number, how: GroupReduce): Float64Array {
  const acc = new Float64Array(filters).fill(how === 'max' ? -Infinity : 0);
  const cnt = new Float64Array(filters);
  for (const { channels, scores } of parts)
    channels.forEach((c, f) => {
      acc[c] = how === 'max' ? Math.max(acc[c], scores[f]) : acc[c] + scores[f];
      cnt[c]++;
    });
  return how === 'mean' ? acc.map((v, c) => (cnt[c] ? v / cnt[c] : 0)) : acc;
}

/**
 * l1: each producer's filter norms read on its filter axis (src/models/layers.ts: the pointwise kernel of a
 * separable conv, the output axis of a transposed conv's [h, w, out, in] kernel), reduced over the
 * producers of a coupled group (`groupReduce`, default mean).
 */
export function l1Importance(o: { groupReduce?: GroupReduce } = {}): Importance {
  return {
    name: 'l1',
    needs: () => ({}),
    score: ({ model, units }) =>
      units.map((u) =>
        timed(u.conv, () => {
          const parts = u.members.map((m) => {
            const layer = model.getLayer(m.layer);
            const fa = ruleOf(layer)?.filterAxis ?? { weight: 0, axis: -1 };
            const w = layer.getWeights()[fa.weight];
            const axis = fa.axis < 0 ? w.rank + fa.axis : fa.axis;
            return { channels: m.channels, scores: l1Along(w.dataSync(), w.shape, axis) };
          });
          return reduceMembers(parts, u.filters, o.groupReduce ?? GROUP_REDUCE_DEFAULT);
        }),
      ),
  };
}

/**
 * HRank's mean ranks tie whenever a layer's maps are full rank (small maps: every 3x3 map of rank 3),
 * so a layer can have one to three distinct scores. Ties are broken by a seeded random order, never by
 * filter index (types.ts `breakTies`); `distinct` counts the raw scores so reports can state the degeneracy.
 */
export const hrankImportance: Importance = {
  name: 'hrank',
  uses: 'ranks',
  needs: (_u, taps) => ({ ranks: taps.map((t) => t.self) }),
  score: ({ units, taps, store, seed }) => {
    const rng = new Rng(seed);
    return units.map((u, k) => timedTieBroken(u.conv, rng, () => Float64Array.from(store.ranks.get(taps[k].self)!)));
  },
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
          mutualInfoWithLabels(m.subarray(c * store.n, (c + 1) * store.n), store.classLabels, store.classes),
        );
      }),
    ),
};
