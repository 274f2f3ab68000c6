/**
 * Aura-entropy criteria (docs/method.md section 2; Musat & Andonie, arXiv 2312.04926).
 *
 * - aura (default): a filter's score aggregates the spatial aura MI I_aura(X_i; Y_j) between its
 *   activation map X_i and each filter map Y_j of the next conv layer, with X pooled to Y's lattice
 *   when a pooling layer sits between them. Aggregation ('sum' by default, or 'max') is an option.
 * - aura-descriptor: each (image, filter) map is summarised by its aura entropy; a filter's score
 *   aggregates binned MI (Miller-Madow) between its descriptor and each child filter's over images.
 * For the last conv before the classifier (no child maps) both use I(descriptor; class label).
 */
import { mutualInfoBinned, mutualInfoWithLabels } from '../../info/binned.js';
import { mutualInfoKSG } from '../../info/ksg.js';
import { AuraOptions } from '../../info/aura.js';
import { auraDescriptors, LabelStack, spatialMIMatrix } from '../../info/spatial_mi.js';
import { auraKernelOrWarn } from './aura_kernel.js';
import { threadBudget } from '../../engine/threads.js';
import { parallelSpatialMIMatrix } from '../../info/parallel.js';
import { Importance, labelKey, timed, UnitScores } from './types.js';

/**
 * Neighbour pairs per image aura counts by default: a seeded uniform sample of this fraction of them,
 * Miller-Madow corrected (docs/method.md, "Sampling neighbour pairs"; chosen from `auraprune bench mi
 * --model`, BENCHMARKS.md: the smallest fraction whose filter ranking keeps Spearman >= 0.99 against
 * the exact count in every layer).
 */
export const DEFAULT_AURA_EDGES = 256;

export interface AuraCriterionOptions extends AuraOptions {
  /**
   * aura only: neighbour pairs counted per image: a count (>= 1), a fraction in (0, 1), or 'all'
   * (exact). Default DEFAULT_AURA_EDGES. The sample is seeded by the scoring seed.
   */
  edges?: number | 'all';
  /** How child MIs combine into a filter's score: 'sum' (default) or 'max'. */
  reduce?: 'sum' | 'max';
  /** aura-descriptor only: 'binned' (default) or 'ksg'. */
  estimator?: 'binned' | 'ksg';
  /** aura only: threads for the counting (native kernel) or worker threads (TS loop); default all cores. */
  threads?: number;
  /** aura only: false forces the TypeScript counting loop (the reference). */
  native?: boolean;
  /**
   * aura only, our variant ('aura-red', docs/method.md): weight lambda of a redundancy term. A filter
   * whose maps share much aura MI with its siblings' carries less unique information, so its score
   * becomes z(relevance) - lambda z(redundancy), z standardising within the layer, redundancy the
   * mean aura MI with the other filters of its layer (mRMR's relevance-minus-redundancy, Peng 2005).
   */
  redundancy?: number;
}

/**
 * Per (filter, image) descriptors: the aura entropy of each map, or, for 1x1 "maps" (the units of a
 * hidden Dense group, which have no neighbours), the quantised value itself.
 */
function descriptors(st: LabelStack, o: AuraOptions): Float64Array {
  return st.h * st.w === 1 ? Float64Array.from(st.labels) : auraDescriptors(st, o);
}

/** (v - mean) / sd within a layer (zeros when constant). */
function zscore(v: Float64Array): Float64Array {
  const n = v.length;
  const m = v.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / n);
  return Float64Array.from(v, (x) => (sd > 0 ? (x - m) / sd : 0));
}

/** Mean of each row of a square matrix without its diagonal. */
export function meanOffDiagonal(m: Float64Array, n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => {
    let t = 0;
    for (let k = 0; k < n; k++) if (k !== i) t += m[i * n + k];
    return n > 1 ? t / (n - 1) : 0;
  });
}

function reduceRows(mi: Float64Array, rows: number, cols: number, how: 'sum' | 'max'): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let a = how === 'max' ? -Infinity : 0;
    for (let j = 0; j < cols; j++) a = how === 'max' ? Math.max(a, mi[i * cols + j]) : a + mi[i * cols + j];
    out[i] = a;
  }
  return out;
}

export function auraImportance(o: AuraCriterionOptions = {}): Importance {
  const lambda = o.redundancy ?? 0;
  return {
    name: lambda > 0 ? 'aura-red' : 'aura',
    uses: 'labels',
    needs: (units, taps) => ({
      labels: units.flatMap((u, k) =>
        taps[k].child
          ? [
              { layer: taps[k].self, pool: taps[k].pool },
              { layer: taps[k].child!, pool: 1 },
            ]
          : [{ layer: taps[k].self, pool: 1 }],
      ),
    }),
    // layer pairs with enough work are split across worker threads (both cores)
    score: async ({ units, taps, store, seed }) => {
      const out: UnitScores[] = [];
      const sampling = { edges: o.edges === 'all' ? undefined : (o.edges ?? DEFAULT_AURA_EDGES), edgeSeed: seed };
      for (const [k, u] of units.entries()) {
        const t0 = performance.now();
        let scores: Float64Array;
        if (!taps[k].child) {
          const d = descriptors(store.labels.get(`${taps[k].self}@1`)!, o);
          scores = Float64Array.from({ length: u.filters }, (_, c) =>
            mutualInfoWithLabels(d.subarray(c * store.n, (c + 1) * store.n), store.classLabels, store.classes),
          );
        } else {
          const X = store.labels.get(labelKey(taps[k].self, taps[k].pool))!,
            Y = store.labels.get(`${taps[k].child}@1`)!;
          if (X.h !== Y.h || X.w !== Y.w)
            throw new Error(
              `aura: the maps of ${taps[k].self} (${X.h}x${X.w} after alignment) and of the next layer's ${taps[k].child} (${Y.h}x${Y.w}) do not line up; the path between them is not a chain of convs, pooling and shape-neutral layers; score this model with another criterion (--criterion l1)`,
            );
          // the native kernel when built (threads across parent filters), else the TS loop over workers
          const kernel = o.native === false ? null : auraKernelOrWarn(o.threads);
          const opts = { ...o, ...sampling };
          const miOf = async (A: typeof X, B: typeof X) =>
            (kernel
              ? spatialMIMatrix(A, B, { ...opts, kernel })
              : await parallelSpatialMIMatrix(A, B, { ...opts, threads: o.threads ?? threadBudget() })
            ).mi;
          scores = reduceRows(await miOf(X, Y), X.channels, Y.channels, o.reduce ?? 'sum');
          if (lambda > 0) {
            const red = zscore(meanOffDiagonal(await miOf(X, X), X.channels));
            const rel = zscore(scores);
            scores = Float64Array.from(rel, (r, i) => r - lambda * red[i]);
          }
        }
        out.push({ conv: u.conv, scores, seconds: (performance.now() - t0) / 1000 });
      }
      return out;
    },
  };
}

export function auraDescriptorImportance(o: AuraCriterionOptions = {}): Importance {
  const mi =
    o.estimator === 'ksg'
      ? (a: Float64Array, b: Float64Array) => mutualInfoKSG(a, b)
      : (a: Float64Array, b: Float64Array) => mutualInfoBinned(a, b);
  return {
    name: 'aura-descriptor',
    uses: 'labels',
    needs: (_units, taps) => ({
      labels: taps.flatMap((t) => [{ layer: t.self, pool: 1 }, ...(t.child ? [{ layer: t.child, pool: 1 }] : [])]),
    }),
    score: ({ units, taps, store }) =>
      units.map((u, k) =>
        timed(u.conv, () => {
          const n = store.n;
          const dx = descriptors(store.labels.get(`${taps[k].self}@1`)!, o);
          if (!taps[k].child)
            return Float64Array.from({ length: u.filters }, (_, c) =>
              mutualInfoWithLabels(dx.subarray(c * n, (c + 1) * n), store.classLabels, store.classes),
            );
          const Y = store.labels.get(`${taps[k].child}@1`)!;
          const dy = auraDescriptors(Y, o);
          const m = new Float64Array(u.filters * Y.channels);
          for (let i = 0; i < u.filters; i++)
            for (let j = 0; j < Y.channels; j++)
              m[i * Y.channels + j] = mi(dx.subarray(i * n, (i + 1) * n), dy.subarray(j * n, (j + 1) * n));
          return reduceRows(m, u.filters, Y.channels, o.reduce ?? 'sum');
        }),
      ),
  };
}
