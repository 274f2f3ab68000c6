/**
 * What `auraprune study` runs, in priority order: the main comparison (50% FLOPs, no fine-tune and one
 * epoch) on every seed first, then other targets, the shared sensitivity allocation, the ablations, and
 * the recovery fine-tune for every main criterion; `--quick` is one seed of the first two stages.
 * Seeds: 10 for the budgets without fine-tune and after one epoch, 5 for the recovery fine-tune
 * (3 seeds gave t intervals too wide to separate criteria, and verdicts that flipped between reruns).
 */
import type { StudyOptions, StudyStage } from './study.js';

/** The criteria every budget compares: ours, MINT, and the baselines practitioners reach for. */
export const MAIN = ['aura', 'aura-red', 'mint', 'hrank', 'l1', 'label-mi', 'taylor', 'random'];
/**
 * The criteria given the full recovery fine-tune: all of MAIN (MINT and label MI included), and the
 * two ablations that beat the default after BN re-estimation in the first run (max over child filters,
 * 4 levels), so a change of the default can rest on the budget that matters.
 */
export const FULL = [...MAIN, 'aura-max', 'aura-L4'];
/** Seeds of the cheap budgets (and of the stability measurements) and of the recovery fine-tune. */
export const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
export const FULL_SEEDS = [1, 2, 3, 4, 5];
/** Aura's own choices and the other estimators, compared at the cheap budgets. */
export const ABLATIONS = [
  'aura-max',
  'aura-descriptor',
  'aura-descriptor-ksg',
  'mint-g8',
  'aura-L4',
  'aura-L16',
  'aura-N8',
  'aura-bn',
  'aura-c10',
  'aura-c100',
];

/** Scored for their cost only: aura in per-filter MINT's implementation (TypeScript, one thread). */
export const COSTS = { variants: ['aura-ts1'], seeds: [1, 2, 3] };

export function studyPlan(quick: boolean): Pick<StudyOptions, 'stages' | 'stability' | 'costs'> & { seeds: number[] } {
  if (quick)
    return {
      seeds: [1],
      stages: [
        { budget: 'none', variants: MAIN, targets: [0.5], allocations: ['uniform'] },
        { budget: 'epoch', variants: MAIN, targets: [0.5], allocations: ['uniform'] },
      ],
    };
  // in priority order: the main comparison (50% FLOPs, no fine-tune and one epoch) on every seed first
  const stages: StudyStage[] = [
    { budget: 'none', variants: MAIN, targets: [0.5], allocations: ['uniform'] },
    { budget: 'epoch', variants: MAIN, targets: [0.5], allocations: ['uniform'] },
    { budget: 'none', variants: MAIN, targets: [0.2, 0.7], allocations: ['uniform'] },
    { budget: 'none', variants: MAIN, targets: [0.5], allocations: ['sensitivity'] },
    { budget: 'none', variants: ABLATIONS, targets: [0.5], allocations: ['uniform'] },
    { budget: 'full', variants: FULL, targets: [0.5], allocations: ['uniform'], seeds: FULL_SEEDS },
  ];
  return {
    seeds: SEEDS,
    stages,
    costs: COSTS,
    stability: {
      variants: ['aura', 'aura-red', 'aura-descriptor', 'mint-g8', 'hrank', 'label-mi'],
      sizes: [5, 10, 25, 100],
      sigmas: [0.05, 0.1, 0.2],
    },
  };
}
