/**
 * Fine-tuning a pruned model and comparing it with the model it came from: the recovery recipe (the
 * base run's airbench recipe at a fraction of its peak lr, or SGD), optional distillation from the
 * unpruned model, accuracy before and after, params/FLOPs/bytes, and the speed-up with batch norm
 * folded, measured in the same process. Writes the fine-tune run directory and compare.json.
 */
import { copyFileSync, existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { subset } from '../data/pipeline.js';
import { openRunData, trainingRunSettings } from '../data/splits.js';
import { countComplexity } from '../eval/complexity.js';
import { evaluate, TtaLevel } from '../eval/evaluate.js';
import { compareSpeed } from '../eval/speed.js';
import { loadImageModel, modelFingerprint, MODEL_JSON, saveModel, WEIGHTS_BIN } from '../models/io.js';
import { foldBatchNorm } from '../prune/surgery/fold_bn.js';
import { trainModel, TrainConfig } from '../train/loop.js';
import { FINETUNE_DEFAULTS, finetuneRecipe } from '../train/recipes.js';
import { writeFileAtomic } from '../util/atomic.js';
import { claimRunDir } from '../util/rundir.js';
import type { SparsityOptions } from '../train/loop.js';
import { sparsityPenalty } from '../prune/sparsity.js';
import { readJsonFile } from '../util/jsonl.js';

/** Bytes of a model directory's model.json and weights. */
export function dirBytes(dir: string): number {
  return [MODEL_JSON, WEIGHTS_BIN].reduce((a, f) => a + (existsSync(join(dir, f)) ? statSync(join(dir, f)).size : 0), 0);
}

/**
 * Epochs and distillation of a fine-tune: the user's, else the recipe's defaults; the default
 * distillation needs the unpruned model, so it is off when the pruned model names none.
 */
export function finetuneBudget(
  kind: 'airbench' | 'sgd',
  o: { epochs?: number; distill?: boolean },
  source: string | undefined,
  cfgPath: string,
): { epochs: number; distill: boolean } {
  if (o.distill && !source) throw new Error(`--distill needs the unpruned model: ${cfgPath} names no source`);
  return {
    epochs: o.epochs ?? FINETUNE_DEFAULTS[kind].epochs,
    distill: o.distill ?? (FINETUNE_DEFAULTS[kind].distill && source !== undefined),
  };
}

export async function finetuneAndCompare(
  prunedDir: string,
  out: string,
  o: {
    /** default: the recipe's (FINETUNE_DEFAULTS) */
    epochs?: number;
    batch: number;
    lr: number;
    schedule: TrainConfig['schedule'];
    wd: number;
    labelSmoothing: number;
    seed: number;
    valSize: number;
    trainLimit?: number;
    data?: string;
    dataset?: string;
    resize?: [number, number];
    labels?: 'fine' | 'coarse';
    resume?: boolean;
    quiet?: boolean;
    recipe?: string;
    lrScale?: number;
    /** default: the recipe's when the unpruned source model is known, else off */
    distill?: boolean;
    temperature?: number;
    alpha?: number;
    tta?: number;
    /** a sparsity penalty during the fine-tune (slimming before a second pruning round) */
    sparsity?: SparsityOptions;
  },
) {
  const cfgPath = join(prunedDir, 'config.json');
  const source = existsSync(cfgPath) ? (readJsonFile(cfgPath).source as string | undefined) : undefined;
  // use the validation split the original model was trained with (its run's config.json), so
  // "validation" never contains images the original saw in training
  const trained = source ? trainingRunSettings(source) : {};
  if (source && !existsSync(source))
    throw new Error(`${cfgPath} names source model ${source}, which does not exist; restore it or drop --distill`);
  const split = await openRunData(trained, o, { valSize: o.valSize, seed: o.seed }, { quiet: o.quiet });
  const data =
    o.trainLimit && o.trainLimit < split.train.n
      ? {
          ...split,
          train: subset(
            split.train,
            Array.from({ length: o.trainLimit }, (_, i) => i),
          ),
        }
      : split;
  const kind = (o.recipe ?? 'auto') === 'auto' ? (trained.paramGroups === 'airbench' ? 'airbench' : 'sgd') : o.recipe;
  if (kind !== 'airbench' && kind !== 'sgd') throw new Error(`--recipe must be auto, airbench or sgd, got ${o.recipe}`);
  const { epochs, distill } = finetuneBudget(kind, o, source, cfgPath);
  const cfg: TrainConfig =
    kind === 'airbench'
      ? finetuneRecipe({ paramGroups: 'airbench', batch: trained.batch }, { epochs, lrScale: o.lrScale ?? 0.5, seed: o.seed })
      : {
          epochs,
          batch: o.batch,
          lr: o.lr,
          schedule: o.schedule,
          warmupEpochs: 0,
          weightDecay: o.wd,
          decay: 'l2',
          momentum: 0.9,
          nesterov: true,
          labelSmoothing: o.labelSmoothing,
          seed: o.seed,
          augment: { pad: 4, flip: true },
        };
  if (distill) {
    cfg.distill = { temperature: o.temperature ?? 4, alpha: o.alpha ?? 0.5 };
  }
  if (o.sparsity) cfg.sparsity = o.sparsity;
  const tta = (o.tta ?? 0) as TtaLevel;
  const pruned = await loadImageModel(prunedDir, data.info);
  // the output directory owns its settings: --resume continues only the same fine-tune
  const { release } = claimRunDir(
    out,
    {
      pruned: resolve(prunedDir),
      prunedSha256: modelFingerprint(prunedDir),
      source: source ?? null,
      trainLimit: o.trainLimit ?? null,
      ...cfg,
    },
    { resume: o.resume, marker: 'checkpoint', record: { command: 'finetune', pruned: resolve(prunedDir), source } },
  );
  process.once('exit', release);
  const beforeFt = evaluate(pruned, data.val, { progress: o.quiet ? undefined : 'validation before fine-tuning' });
  const teacher = distill ? await loadImageModel(source!) : undefined;
  const ft0 = performance.now();
  const r = await trainModel(pruned, cfg, data, out, { resume: o.resume, quiet: o.quiet, teacher, penalty: sparsityPenalty(cfg.sparsity) });
  const ftSeconds = (performance.now() - ft0) / 1000;
  const best = await loadImageModel(join(out, 'best'));
  await saveModel(best, out);
  if (existsSync(join(prunedDir, 'prune-report.json'))) copyFileSync(join(prunedDir, 'prune-report.json'), join(out, 'prune-report.json'));
  const describe = async (m: LayersModel, dir: string) => {
    const c = countComplexity(m);
    return {
      valAcc: evaluate(m, data.val, { progress: o.quiet ? undefined : 'validation' }).accuracy,
      testAcc: evaluate(m, data.test, { progress: o.quiet ? undefined : 'test' }).accuracy,
      testAccTta: tta ? evaluate(m, data.test, { tta, progress: o.quiet ? undefined : `test (TTA ${tta})` }).accuracy : undefined,
      params: c.params,
      flops: c.flops,
      bytesOnDisk: dirBytes(dir),
    };
  };
  const after = await describe(best, out);
  const sourceModel = source ? await loadImageModel(source) : null;
  const original = sourceModel ? await describe(sourceModel, source!.endsWith('.json') ? join(source!, '..') : source!) : null;
  // speed with batch norm folded (how a model is deployed), original and pruned measured alternately
  const speed = sourceModel ? compareSpeed((await foldBatchNorm(sourceModel)).model, (await foldBatchNorm(best)).model) : null;
  const report = {
    recipe: kind,
    distill: cfg.distill ?? null,
    prunedBeforeFinetuneValAcc: beforeFt.accuracy,
    bestEpoch: r.bestEpoch,
    finetuneSeconds: ftSeconds,
    pruned: after,
    original,
    speed,
    speedup: speed?.speedup ?? null,
    latencySpeedup: speed?.latencySpeedup ?? null,
    testAccDrop: original ? original.testAcc - after.testAcc : null,
    testAccDropTta: original && tta ? original.testAccTta! - after.testAccTta! : null,
  };
  writeFileAtomic(join(out, 'compare.json'), JSON.stringify(report, null, 1));
  return report;
}
