/** Criteria by name (what `--criterion` accepts) and the one-call scoring entry point. */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ImageSplit } from '../../data/dataset.js';
import { pruningUnits, PruningUnit } from '../graph/graph.js';
import { auraDescriptorImportance, AuraCriterionOptions, auraImportance } from './aura.js';
import { mintImportance, MintOptions } from './mint.js';
import { GroupReduce, hrankImportance, l1Importance, labelMiImportance, randomImportance } from './simple.js';
import { buildStore, mergeNeeds, StoreOptions } from './store.js';
import { bnScaleImportance, taylorImportance } from './taylor.js';
import { unitTaps } from './taps.js';
import type { Importance, TapPoint, UnitScores } from './types.js';

export const CRITERIA = ['aura', 'aura-red', 'aura-descriptor', 'mint', 'hrank', 'l1', 'random', 'label-mi', 'taylor', 'bn-scale'] as const;
export type CriterionName = (typeof CRITERIA)[number];

export interface CriterionOptions {
  aura?: AuraCriterionOptions;
  mint?: MintOptions;
  /** How a coupled group's members' weight-based scores combine (l1). Default 'mean'. */
  groupReduce?: GroupReduce;
}

export function criterion(name: string, o: CriterionOptions = {}): Importance {
  switch (name) {
    case 'aura':
      return auraImportance({ ...o.aura, redundancy: 0 });
    case 'aura-red':
      return auraImportance({ ...o.aura, redundancy: o.aura?.redundancy || 0.5 });
    case 'aura-descriptor':
      return auraDescriptorImportance(o.aura);
    case 'mint':
      return mintImportance(o.mint);
    case 'hrank':
      return hrankImportance;
    case 'l1':
      return l1Importance({ groupReduce: o.groupReduce });
    case 'random':
      return randomImportance;
    case 'label-mi':
      return labelMiImportance;
    case 'taylor':
      return taylorImportance;
    case 'bn-scale':
      return bnScaleImportance({ groupReduce: o.groupReduce });
  }
  throw new RangeError(`unknown criterion ${name}; choose one of ${CRITERIA.join(', ')}`);
}

export interface ScoreResult {
  criterion: string;
  units: PruningUnit[];
  scores: UnitScores[];
  /** seconds of the shared activation pass (forward passes, excluding the criterion's own
   * aggregate), and of scoring, including the building of the aggregate this criterion uses
   * (label maps for aura, ranks for hrank, means for mint) */
  activationSeconds: number;
  scoringSeconds: number;
}

/**
 * Scores every prunable unit of `model` with each criterion, from one activation pass over
 * `sample` (a class-balanced, unaugmented calibration set).
 */
export async function scoreModel(
  model: LayersModel,
  sample: ImageSplit,
  names: string[],
  o: CriterionOptions & StoreOptions & { where?: TapPoint; seed?: number } = {},
): Promise<ScoreResult[]> {
  // every group (coupled ones too): a scores file then serves coupled and internal-only pruning alike
  const units = pruningUnits(model);
  const taps = unitTaps(model, units, o.where ?? 'relu');
  const crits = names.map((n) => criterion(n, o));
  const t0 = performance.now();
  const store = buildStore(model, sample, mergeNeeds(crits.map((c) => c.needs(units, taps))), o);
  const activationSeconds = (performance.now() - t0) / 1000;
  const results: ScoreResult[] = [];
  for (const c of crits) {
    const t1 = performance.now();
    const scores = await c.score({ model, units, taps, store, seed: o.seed ?? 0 });
    const own = c.uses ? store.seconds[c.uses] : 0;
    const aggregates = store.seconds.labels + store.seconds.means + store.seconds.ranks + store.seconds.gradients;
    results.push({
      criterion: c.name,
      units,
      scores,
      activationSeconds: activationSeconds - aggregates,
      scoringSeconds: (performance.now() - t1) / 1000 + own,
    });
  }
  return results;
}
