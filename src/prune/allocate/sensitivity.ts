/**
 * Measures the sensitivity curves the `sensitivity` allocation needs: for each prunable unit alone,
 * at removed fractions 0.1..0.9 (its lowest-scoring filters by the chosen criterion), the loss and
 * accuracy on a held-out evaluation set right after surgery (raw) and after batch-norm statistics are
 * re-estimated on calibration batches (adaptive BN, which tracks post-fine-tune accuracy better).
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ImageSplit } from '../../data/dataset.js';
import { evaluate } from '../../eval/evaluate.js';
import { recalibrateBatchNorm } from '../../train/bn.js';
import { Progress } from '../../util/progress.js';
import type { PruningUnit } from '../graph/graph.js';
import { pruneModel } from '../surgery/rebuild.js';
import { keepTopK, keptAt, SensitivityCurve } from './allocate.js';

export interface SensitivityResult {
  baseLoss: number;
  baseAcc: number;
  curves: Array<SensitivityCurve & { acc: number[]; rawLoss: number[]; rawAcc: number[] }>;
  settings: { fractions: number[]; recalBatches: number; batch: number; evalImages: number; seed: number };
}

export async function measureSensitivity(
  model: LayersModel,
  units: PruningUnit[],
  scores: ArrayLike<number>[],
  calib: ImageSplit,
  evalSet: ImageSplit,
  o: { fractions?: number[]; recalBatches?: number; batch?: number; seed?: number; quiet?: boolean } = {},
): Promise<SensitivityResult> {
  const fractions = o.fractions ?? [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
  const recalBatches = o.recalBatches ?? 4,
    batch = o.batch ?? 256,
    seed = o.seed ?? 0;
  const base = evaluate(model, evalSet);
  const bar = o.quiet ? null : new Progress('sensitivity', units.length * fractions.length, 'cut');
  const curves: SensitivityResult['curves'] = [];
  for (const [u, unit] of units.entries()) {
    const c = { conv: unit.conv, fractions, loss: [] as number[], acc: [] as number[], rawLoss: [] as number[], rawAcc: [] as number[] };
    for (const [fi, f] of fractions.entries()) {
      const counts = units.map((x, k) => (k === u ? keptAt(x.filters, f, { maxRemove: 1 }) : x.filters));
      const kept = keepTopK([scores[u]], [counts[u]])[0];
      const { model: pruned } = await pruneModel(model, units, new Map([[unit.conv, kept]]));
      const raw = evaluate(pruned, evalSet);
      recalibrateBatchNorm(pruned, calib, { batches: recalBatches, batch, seed });
      const rec = evaluate(pruned, evalSet);
      pruned.dispose();
      c.rawLoss.push(raw.loss);
      c.rawAcc.push(raw.accuracy);
      c.loss.push(rec.loss);
      c.acc.push(rec.accuracy);
      bar?.update(u * fractions.length + fi + 1, unit.conv);
    }
    curves.push(c);
  }
  return { baseLoss: base.loss, baseAcc: base.accuracy, curves, settings: { fractions, recalBatches, batch, evalImages: evalSet.n, seed } };
}
