/**
 * The process's thread budget: `--threads` bounds every compute pool, not only libtorch's, so two
 * one-thread processes side by side (study cells, benchmarks' like-for-like timings) do not each
 * spread aura counting over every core. Unset, pools use all cores.
 */
import { availableParallelism } from 'node:os';

let budget: number | null = null;

/** Sets the budget (a positive integer) for every pool created from now on. */
export function setThreadBudget(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`thread budget must be a positive integer, got ${n}`);
  budget = n;
}

/** The budget set by `--threads`, else the number of cores. */
export function threadBudget(): number {
  return budget ?? availableParallelism();
}

/** Forgets the budget (tests). */
export function resetThreadBudget(): void {
  budget = null;
}
