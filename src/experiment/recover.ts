/**
 * Prune and recover: the one sequence every command uses after scoring (CLI `prune`, `compress`,
 * `experiment`, `study`, `bench prune`): surgery, accuracy right after it, batch-norm statistics
 * re-estimated on calibration images, accuracy again. Removing filters shifts the statistics the next
 * batch norm was trained on, so raw accuracy alone can sit at chance (docs/method.md).
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ImageSplit } from '../data/dataset.js';
import { evaluate, type EvalResult } from '../eval/evaluate.js';
import { type PlanOptions, pruneWithScores, type PruneReport, type PruneTarget, type ScoresFile } from '../prune/pipeline.js';
import { recalibrateBatchNorm } from '../train/bn.js';

export interface RecoverOptions extends PlanOptions {
  /** class-balanced, unaugmented training images for batch-norm re-estimation */
  calib: ImageSplit;
  /** batches of min(256, calibration images) for the re-estimation; 0 skips it */
  recalBatches: number;
  seed: number;
  /** splits evaluated after surgery and after re-estimation, by name (e.g. { val } or { test }) */
  evalOn: Record<string, ImageSplit>;
  /** also evaluate right after surgery, before re-estimation (default true) */
  raw?: boolean;
  /** progress bars while evaluating */
  progress?: boolean;
}

export interface Recovered {
  model: LayersModel;
  report: PruneReport;
  /** accuracy right after surgery, per split (empty when `raw` is false) */
  raw: Record<string, EvalResult>;
  /** after batch-norm re-estimation (the same results as raw when it was skipped) */
  recalibrated: Record<string, EvalResult>;
  recalibrationImages: number;
}

/** Surgery with `scores` to `target`, then batch-norm re-estimation, evaluated on `o.evalOn` before and after. */
export async function pruneAndRecover(model: LayersModel, scores: ScoresFile, target: PruneTarget, o: RecoverOptions): Promise<Recovered> {
  const { model: pruned, report } = await pruneWithScores(model, scores, target, o);
  const run = (stage: string) =>
    Object.fromEntries(
      Object.entries(o.evalOn).map(([name, split]) => [
        name,
        evaluate(pruned, split, { progress: o.progress ? `${name} (${stage})` : undefined }),
      ]),
    );
  const raw = o.raw === false ? {} : run('raw');
  const used =
    o.recalBatches > 0
      ? recalibrateBatchNorm(pruned, o.calib, { batches: o.recalBatches, batch: Math.min(256, o.calib.n), seed: o.seed })
      : 0;
  const recalibrated = used || o.raw === false ? run('BN re-estimated') : raw;
  return { model: pruned, report, raw, recalibrated, recalibrationImages: used };
}
