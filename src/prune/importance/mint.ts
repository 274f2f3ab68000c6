/**
 * MINT (Ganesh, Corso & Sekeh, ICPR 2020) on spatially averaged activations: each layer's filters are
 * split into contiguous groups; for each (child group, parent group) pair, MINT's geometric
 * estimator scores the dependence of the child group's means on the parent group's means; a parent
 * group's score is the sum over child groups, and every filter inherits its group's score.
 * Conditioning on the other parents (MINT's I(child; parent | other parents)) is the option
 * `conditional`: Z = the mean over the other parent groups (one column), which keeps one call
 * O(n^2). For the last conv, the child is the one-hot class label.
 * Scores tie (a group's filters share its score; the geometric estimator counts, so per-filter
 * scores repeat too): ties are broken by a seeded random order (types.ts `breakTies`).
 */
import { mintConditionalMI, Rows } from '../../info/mint_geometric.js';
import { Rng } from '../../util/rng.js';
import { Importance, timedTieBroken } from './types.js';

export interface MintOptions {
  groups?: number;
  conditional?: boolean;
}

function groupBounds(C: number, groups: number): Array<[number, number]> {
  const g = Math.max(1, Math.min(groups, C));
  return Array.from({ length: g }, (_, k) => [Math.floor((k * C) / g), Math.floor(((k + 1) * C) / g)] as [number, number]);
}

/** Rows (n x |group|) of a group's per-image means. */
function groupRows(means: Float64Array, n: number, [a, b]: [number, number]): Rows {
  const d = b - a;
  const data = new Float64Array(n * d);
  for (let c = a; c < b; c++) for (let i = 0; i < n; i++) data[i * d + (c - a)] = means[c * n + i];
  return { data, n, d };
}

export function mintImportance(o: MintOptions = {}): Importance {
  return {
    name: 'mint',
    uses: 'means',
    needs: (_u, taps) => ({ means: taps.flatMap((t) => [t.self, ...(t.child ? [t.child] : [])]) }),
    score: ({ units, taps, store, seed }) => {
      const rng = new Rng(seed);
      return units.map((u, k) =>
        timedTieBroken(u.conv, rng, () => {
          const n = store.n;
          const pm = store.means.get(taps[k].self)!;
          const pg = groupBounds(u.filters, o.groups ?? 8);
          const parents = pg.map((g) => groupRows(pm, n, g));
          let children: Rows[];
          if (taps[k].child) {
            const cm = store.means.get(taps[k].child!)!;
            children = groupBounds(cm.length / n, o.groups ?? 8).map((g) => groupRows(cm, n, g));
          } else {
            // the last layer's child is the class label, one-hot over the data set's classes
            const k = store.classes;
            const oh = new Float64Array(n * k);
            store.classLabels.forEach((l, i) => (oh[i * k + l] = 1));
            children = [{ data: oh, n, d: k }];
          }
          const out = new Float64Array(u.filters);
          pg.forEach((g, p) => {
            let z: Rows | null = null;
            if (o.conditional && pg.length > 1) {
              const zd = new Float64Array(n);
              for (let c = 0; c < u.filters; c++)
                if (c < g[0] || c >= g[1]) for (let i = 0; i < n; i++) zd[i] += pm[c * n + i] / (u.filters - (g[1] - g[0]));
              z = { data: zd, n, d: 1 };
            }
            let s = 0;
            for (const ch of children) s += mintConditionalMI(ch, parents[p], z, { seed: seed + p });
            for (let c = g[0]; c < g[1]; c++) out[c] = s;
          });
          return out;
        }),
      );
    },
  };
}
