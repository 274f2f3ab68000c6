/**
 * Allocation: how many filters each prunable layer keeps, decided separately from which ones
 * (ranking). Pure functions of a cost model (and, for `sensitivity`, of measured loss curves); the
 * result is a count per unit, which `keepTopK` turns into kept sets for any criterion, so criteria
 * can be compared at identical per-layer counts.
 *
 * - uniform: the same fraction r from every unit (optionally scaled per unit), with r found by
 *   bisection so that the params or FLOPs target is met.
 * - sensitivity: per unit, the loss measured with only that unit pruned at fractions 0.1..0.9
 *   (batch-norm statistics re-estimated, no fine-tune); a greedy pass removes, one step at a time,
 *   the fraction step with the least predicted loss increase per unit of cost saved until the
 *   target is met (the sum of per-layer losses is the predicted loss; EagleEye-style evaluation).
 */
import type { CostModel } from '../select/cost.js';

/** `latency`: fraction of the predicted time removed (a cost model with a latency table, allocate/latency.ts). */
export type CostTarget = { by: 'params' | 'flops' | 'latency'; fraction: number };

export interface AllocateOptions {
  /** Filters always kept per unit. Default 1. */
  minKeep?: number;
  /** Largest fraction of a unit's filters that may be removed. Default 0.9. */
  maxRemove?: number;
  /**
   * Kept counts are multiples of this (or the unit's full count). oneDNN computes convolutions in
   * channel blocks, so an odd count costs a whole block: at the same FLOPs an airbench with block
   * widths 32/128/144 ran 2.72x faster than the unpruned one, 33/133/134 2.03x (docs/pruning.md).
   * Default 1.
   */
  roundTo?: number;
}

/** Allowed kept counts of a unit with n filters: multiples of roundTo, or n itself. */
function allowed(n: number, k: number, o: AllocateOptions): boolean {
  const m = o.roundTo ?? 1;
  return k === n || k % m === 0;
}

/** Smallest number of filters unit with n filters may keep. */
export function floorKeep(n: number, o: AllocateOptions = {}): number {
  const f = Math.min(n, Math.max(o.minKeep ?? 1, Math.ceil(n * (1 - (o.maxRemove ?? 0.9)))));
  const m = o.roundTo ?? 1;
  return Math.min(n, Math.ceil(f / m) * m);
}

/** Filters kept when removing fraction r of n (rounded to the nearest allowed count, within the floor). */
export function keptAt(n: number, r: number, o: AllocateOptions = {}): number {
  const m = o.roundTo ?? 1;
  const k = n - n * r;
  const nearest = Math.round(k / m) * m;
  // the full count is allowed too when n is not a multiple of m: take whichever is nearer
  const best = n % m !== 0 && Math.abs(n - k) < Math.abs(nearest - k) ? n : Math.min(n, nearest);
  return Math.max(floorKeep(n, o), best);
}

/** The next allowed kept count below k (k itself when none is above the floor). */
export function stepDown(n: number, k: number, o: AllocateOptions = {}): number {
  const m = o.roundTo ?? 1;
  const next = k % m === 0 ? k - m : k - (k % m);
  return next >= floorKeep(n, o) && allowed(n, next, o) ? next : k;
}

/** Reduction of the cost (fraction of the original removed) for kept counts. */
export function reduction(cost: CostModel, kept: ArrayLike<number>, by: CostTarget['by']): number {
  const total = cost.total[by];
  if (total === undefined) throw new Error('a latency target needs measured layer times (withLatency)');
  return 1 - cost.count(kept)[by]! / total;
}

/**
 * Uniform allocation solved for a target: every unit u loses fraction min(maxRemove, r * scale[u])
 * of its filters, with r found by bisection. The achieved reduction is within one filter step of the
 * target (checked: an error when the target is out of reach).
 */
export function allocateUniform(
  cost: CostModel,
  target: CostTarget,
  o: AllocateOptions & { scale?: number[] } = {},
): { kept: number[]; ratio: number; achieved: number } {
  if (!(target.fraction > 0 && target.fraction < 1)) throw new RangeError(`target must be in (0, 1), got ${target.fraction}`);
  const units = cost.units;
  const scale = o.scale ?? units.map(() => 1);
  if (scale.length !== units.length) throw new RangeError(`${scale.length} per-layer scales for ${units.length} prunable layers`);
  const at = (r: number) => units.map((u, i) => keptAt(u.filters, Math.min(o.maxRemove ?? 0.9, r * scale[i]), o));
  const maxScale = Math.max(...scale);
  let lo = 0,
    hi = (o.maxRemove ?? 0.9) / maxScale;
  const best = reduction(cost, at(hi), target.by);
  if (best < target.fraction - 0.01) {
    throw new RangeError(
      `uniform allocation cannot remove ${(target.fraction * 100).toFixed(1)}% of ${target.by}: at most ${(best * 100).toFixed(1)}% with --max-remove ${o.maxRemove ?? 0.9} on the prunable layers`,
    );
  }
  for (let it = 0; it < 60; it++) {
    const mid = (lo + hi) / 2;
    if (reduction(cost, at(mid), target.by) < target.fraction) lo = mid;
    else hi = mid;
  }
  // one ratio for all layers moves in steps of whole filters per layer, which can exceed 1% of the
  // cost: walk from the allocation just below the target towards the one just above it a filter at a
  // time (layers with most filters first), stop once the target is reached, keep the closer side
  const kept = at(lo),
    upper = at(hi);
  const order = units.map((_, u) => u).sort((p, q) => units[q].filters - units[p].filters || p - q);
  let prev = kept.slice(),
    r = reduction(cost, kept, target.by);
  for (;;) {
    if (r >= target.fraction) break;
    const u = order.find((k) => kept[k] > upper[k]);
    if (u === undefined) break;
    prev = kept.slice();
    kept[u] = Math.max(upper[u], stepDown(units[u].filters, kept[u], o));
    r = reduction(cost, kept, target.by);
  }
  const rp = reduction(cost, prev, target.by);
  // with whole channel blocks a step can be several percent of the cost: never fall short of the
  // target then (a user asking for 70% gets at least 70%), else take the closer side
  const usePrev = (o.roundTo ?? 1) > 1 ? r < target.fraction : Math.abs(rp - target.fraction) < Math.abs(r - target.fraction);
  return { kept: usePrev ? prev : kept, ratio: hi, achieved: usePrev ? rp : r };
}

/** Per-unit loss measured with only that unit pruned, at each removed fraction (ascending). */
export interface SensitivityCurve {
  conv: string;
  fractions: number[];
  loss: number[];
}

/**
 * Greedy sensitivity allocation: starting from nothing removed, repeatedly take the step (one unit
 * moving to its next measured fraction) with the smallest increase in predicted loss per unit of
 * cost removed, until the target is reached. Losses between measured fractions are not interpolated:
 * each unit sits at one of its measured fractions (or 0).
 */
export function allocateSensitivity(
  cost: CostModel,
  curves: SensitivityCurve[],
  target: CostTarget,
  baseLoss: number,
  o: AllocateOptions = {},
): { kept: number[]; fractions: number[]; achieved: number; predictedLoss: number } {
  const units = cost.units;
  const byConv = new Map(curves.map((c) => [c.conv, c]));
  const curve = units.map((u) => {
    const c = byConv.get(u.conv);
    if (!c) throw new Error(`no sensitivity curve for ${u.conv}`);
    return c;
  });
  const level = units.map(() => -1); // index into the curve; -1 = nothing removed
  const frac = (u: number) => (level[u] < 0 ? 0 : curve[u].fractions[level[u]]);
  const lossAt = (u: number, l: number) => (l < 0 ? baseLoss : curve[u].loss[l]);
  const kept = () => units.map((un, u) => keptAt(un.filters, Math.min(frac(u), o.maxRemove ?? 0.9), o));
  let achieved = reduction(cost, kept(), target.by);
  while (achieved < target.fraction) {
    let best = -1,
      bestRate = Infinity,
      bestGain = 0;
    for (let u = 0; u < units.length; u++) {
      const next = level[u] + 1;
      if (next >= curve[u].fractions.length || curve[u].fractions[next] > (o.maxRemove ?? 0.9) + 1e-9) continue;
      level[u] = next;
      const gain = reduction(cost, kept(), target.by) - achieved;
      level[u] = next - 1;
      if (gain <= 0) continue;
      const dLoss = Math.max(0, lossAt(u, next) - lossAt(u, next - 1));
      const rate = dLoss / gain;
      if (rate < bestRate || (rate === bestRate && gain > bestGain)) {
        best = u;
        bestRate = rate;
        bestGain = gain;
      }
    }
    if (best < 0)
      throw new RangeError(
        `sensitivity allocation cannot remove ${(target.fraction * 100).toFixed(1)}% of ${target.by}: at most ${(achieved * 100).toFixed(1)}% with the measured fractions`,
      );
    level[best]++;
    achieved = reduction(cost, kept(), target.by);
  }
  const predictedLoss = units.reduce((a, _, u) => a + lossAt(u, level[u]) - baseLoss, baseLoss);
  return { kept: kept(), fractions: units.map((_, u) => frac(u)), achieved, predictedLoss };
}

/** Kept sets from counts: the `counts[u]` highest-scoring filters of each unit (ties: lower index), sorted. */
export function keepTopK(scores: ArrayLike<number>[], counts: number[]): number[][] {
  return scores.map((s, u) => {
    const idx = Array.from({ length: s.length }, (_, i) => i).sort((a, b) => s[b] - s[a] || a - b);
    return idx.slice(0, counts[u]).sort((a, b) => a - b);
  });
}
