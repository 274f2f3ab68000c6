/**
 * `auraprune robustness`: how stable each criterion's filter ranking is when Gaussian noise is added
 * to the input images or to the activations: Spearman correlation and top-k overlap (k = half the
 * filters) against the noise-free ranking, per layer and averaged.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ImageSplit } from '../data/dataset.js';
import { spearman, topKOverlap } from '../eval/ranking.js';
import { CriterionOptions, scoreModel } from '../prune/importance/registry.js';
import type { StoreOptions } from '../prune/importance/store.js';
import type { TapPoint } from '../prune/importance/types.js';

export interface RobustnessRow {
  criterion: string;
  sigma: number;
  where: 'input' | 'activations';
  spearman: number;
  topK: number;
  perLayer: Array<{ conv: string; spearman: number; topK: number }>;
}

export async function robustness(
  model: LayersModel,
  sample: ImageSplit,
  criteria: string[],
  sigmas: number[],
  o: CriterionOptions & Pick<StoreOptions, 'quantize'> & { where: 'input' | 'activations'; tap: TapPoint; seed: number; quiet?: boolean },
): Promise<RobustnessRow[]> {
  const run = (sigma: number) =>
    scoreModel(model, sample, criteria, {
      ...o,
      where: o.tap,
      seed: o.seed,
      quiet: o.quiet,
      ...(sigma > 0
        ? o.where === 'input'
          ? { inputNoise: { sigma, seed: o.seed + 1 } }
          : { activationNoise: { sigma, seed: o.seed + 1 } }
        : {}),
    });
  const clean = await run(0);
  const rows: RobustnessRow[] = [];
  for (const sigma of sigmas) {
    const noisy = await run(sigma);
    noisy.forEach((r, ci) => {
      const perLayer = r.scores.map((u, li) => {
        const ref = clean[ci].scores[li].scores;
        const s = spearman(ref, u.scores);
        return {
          conv: u.conv,
          spearman: Number.isNaN(s) ? 1 : s,
          topK: topKOverlap(ref, u.scores, Math.max(1, Math.floor(ref.length / 2))),
        };
      });
      const mean = (f: (x: (typeof perLayer)[number]) => number) => perLayer.reduce((a, x) => a + f(x), 0) / perLayer.length;
      rows.push({ criterion: r.criterion, sigma, where: o.where, spearman: mean((x) => x.spearman), topK: mean((x) => x.topK), perLayer });
    });
  }
  return rows;
}
