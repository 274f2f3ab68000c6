/**
 * What `auraprune study` runs, in priority order: the main comparison (50% FLOPs, no fine-tune and one
 * epoch) on every seed first, then other targets, the shared sensitivity allocation, the ablations, and
 * the full recovery fine-tune for the five main criteria; `--quick` is one seed of the first two stages.
 */
import type { StudyOptions, StudyStage } from './study.js';

/** The five-plus criteria every budget compares. */
export const MAIN = ['aura', 'aura-red', 'mint', 'hrank', 'l1', 'label-mi', 'random'];
/** The criteria given the full recovery fine-tune. */
export const FULL = ['aura', 'aura-red', 'l1', 'hrank', 'random'];
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

export function studyPlan(quick: boolean): Pick<StudyOptions, 'stages' | 'stability'> & { seeds: number[] } {
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
    { budget: 'full', variants: FULL, targets: [0.5], allocations: ['uniform'] },
  ];
  return {
    seeds: [1, 2, 3],
    stages,
    stability: {
      variants: ['aura', 'aura-red', 'aura-descriptor', 'mint-g8', 'hrank', 'label-mi'],
      sizes: [5, 10, 25, 100],
      sigmas: [0.05, 0.1, 0.2],
    },
  };
}
