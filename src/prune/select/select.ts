/**
 * From importance scores to kept-filter sets (pure functions). Higher score = more important.
 *
 * - perLayer: remove the same fraction from every unit.
 * - global: remove filters in ascending order of (per-layer normalised) score until the params or
 *   FLOPs reduction reaches the target, skipping units at their cap. The target is hit to within
 *   one filter's cost (well under 1% for CIFAR models).
 */
import type { CostModel } from './cost.js';

export interface SelectOptions {
  /** Filters always kept per unit. Default 1 (no layer loses all its filters). */
  minKeep?: number;
  /** Largest fraction of a unit's filters that may be removed. Default 0.9. */
  maxRemove?: number;
  /** How scores are made comparable across layers for global selection: 'max' divides by the
   * layer's largest score (default), 'rank' uses the within-layer rank in [0, 1], 'none' keeps raw
   * scores (only for criteria whose scale is shared across layers, like l1 of normalised weights). */
  normalize?: 'max' | 'rank' | 'mean' | 'lamp' | 'none';
  /**
   * Global selection only: divide each filter's normalised score by the params/FLOPs one filter of
   * its layer carries (relative to the average), so a FLOPs target stops favouring cheap filters.
   */
  costAware?: boolean;
  /** Kept counts are multiples of this or the full count (allocate.ts); not with global selection. */
  roundTo?: number;
}

export type Scores = Float64Array[];

function floorFor(n: number, o: SelectOptions): number {
  return Math.max(o.minKeep ?? 1, Math.ceil(n * (1 - (o.maxRemove ?? 0.9))));
}

/** Indices sorted by ascending score, ties by index (deterministic). */
function ascending(s: Float64Array): number[] {
  return Array.from(s.keys()).sort((a, b) => s[a] - s[b] || a - b);
}

function keptSets(scores: Scores, removed: Array<Set<number>>): number[][] {
  return scores.map((s, u) => Array.from(s.keys()).filter((i) => !removed[u].has(i)));
}

export function selectPerLayer(scores: Scores, ratio: number, o: SelectOptions = {}): number[][] {
  if (!(ratio >= 0 && ratio < 1)) throw new RangeError(`--ratio must be in [0, 1), got ${ratio}`);
  return scores.map((s) => {
    const n = s.length;
    let drop = Math.min(Math.floor(n * ratio), n - floorFor(n, o));
    const m = o.roundTo ?? 1;
    // keep the multiple of roundTo nearest to the unrounded count (units of at most roundTo filters stay whole)
    if (m > 1 && drop > 0) drop = n <= m ? 0 : Math.max(0, Math.min(n - Math.max(m, Math.round((n - drop) / m) * m), n - floorFor(n, o)));
    const gone = new Set(ascending(s).slice(0, Math.max(0, drop)));
    return Array.from(s.keys()).filter((i) => !gone.has(i));
  });
}

export function normalise(s: Float64Array, how: SelectOptions['normalize']): Float64Array {
  if (how === 'none') return s;
  if (how === 'mean') {
    let m = 0;
    for (const v of s) m += Math.abs(v) / s.length;
    return m > 0 ? s.map((v) => v / m) : s.slice();
  }
  if (how === 'lamp') {
    // LAMP (Lee et al., ICLR 2021): s_i^2 / (sum of s_j^2 over filters at least as important)
    const order = ascending(s);
    const r = new Float64Array(s.length);
    let tail = 0;
    for (let k = order.length - 1; k >= 0; k--) {
      tail += s[order[k]] ** 2;
      r[order[k]] = tail > 0 ? s[order[k]] ** 2 / tail : 0;
    }
    return r;
  }
  if (how === 'rank') {
    const r = new Float64Array(s.length);
    ascending(s).forEach((i, k) => (r[i] = s.length > 1 ? k / (s.length - 1) : 1));
    return r;
  }
  let m = 0;
  for (const v of s) m = Math.max(m, Math.abs(v));
  return m > 0 ? s.map((v) => v / m) : s.slice();
}

/**
 * Global selection to a params or FLOPs reduction target (fraction of the original removed).
 * @returns kept indices per unit and the achieved reduction.
 */
export function selectGlobal(
  scores: Scores,
  cost: CostModel,
  target: { by: 'params' | 'flops'; fraction: number },
  o: SelectOptions = {},
): { kept: number[][]; achieved: number } {
  if (!(target.fraction > 0 && target.fraction < 1)) throw new RangeError(`target must be in (0, 1), got ${target.fraction}`);
  if ((o.roundTo ?? 1) > 1)
    throw new Error('--round-to needs --allocation uniform or sensitivity (global selection removes single filters)');
  const units = cost.units;
  let norm = scores.map((s) => normalise(s, o.normalize ?? 'max'));
  if (o.costAware) {
    // cost of one filter per unit, at full width, relative to the mean over units
    const full = units.map((u) => u.filters);
    const per = units.map((_, u) => {
      const k = full.slice();
      k[u]--;
      return cost.count(full)[target.by] - cost.count(k)[target.by];
    });
    const mean = per.reduce((a, b) => a + b, 0) / per.length;
    norm = norm.map((s, u) => s.map((v) => v / Math.max(per[u] / mean, 1e-12)));
  }
  const queue: Array<[number, number]> = [];
  norm.forEach((s, u) => s.forEach((_, i) => queue.push([u, i])));
  queue.sort((a, b) => norm[a[0]][a[1]] - norm[b[0]][b[1]] || a[0] - b[0] || a[1] - b[1]);
  const keptN = units.map((u) => u.filters);
  const removed = units.map(() => new Set<number>());
  const base = cost.total[target.by];
  let achieved = 0;
  for (const [u, i] of queue) {
    if (achieved >= target.fraction) break;
    if (keptN[u] - 1 < floorFor(units[u].filters, o)) continue;
    keptN[u]--;
    removed[u].add(i);
    achieved = 1 - cost.count(keptN)[target.by] / base;
  }
  if (achieved < target.fraction - 0.01) {
    throw new RangeError(
      `cannot remove ${(target.fraction * 100).toFixed(1)}% of ${target.by}: at most ${(achieved * 100).toFixed(1)}% with maxRemove ${o.maxRemove ?? 0.9} per layer and only the prunable convs; lower the target or raise --max-remove`,
    );
  }
  return { kept: keptSets(scores, removed), achieved };
}
