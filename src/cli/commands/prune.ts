/** `auraprune score`, `auraprune prune`, `auraprune finetune`. */
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { balancedSample } from '../../data/pipeline.js';
import { countComplexity } from '../../eval/complexity.js';
import { evaluate } from '../../eval/evaluate.js';
import { inferenceSpeed } from '../../eval/speed.js';
import { loadModel, MODEL_JSON, saveModel, WEIGHTS_BIN } from '../../models/io.js';
import { CRITERIA, scoreModel } from '../../prune/importance/registry.js';
import type { TapPoint } from '../../prune/importance/types.js';
import { PruneTarget, pruneWithScores, ScoresFile, toScoresFile } from '../../prune/pipeline.js';
import { foldBatchNorm } from '../../prune/surgery/fold_bn.js';
import { trainModel, TrainConfig } from '../../train/loop.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { int, num, setupBackend } from '../options.js';
import { loadData } from './train.js';

export function scoreOptions(cmd: Command): Command {
  return cmd
    .option('--per-class <n>', 'calibration images per class (class-balanced, unaugmented, from the training split)', int, 50)
    .option('--where <tap>', 'activations read after: conv | bn | relu (relu: what the next layer sees)', 'relu')
    .option('--levels <g>', 'aura: quantisation levels G', int, 8)
    .option('--no-zero-bin', 'aura: do not give exact zeros (ReLU) their own label')
    .option('--neighbourhood <n>', 'aura: 4 | 8', '4')
    .option('--reduce <how>', 'aura: combine child MIs by sum | max', 'sum')
    .option('--estimator <e>', 'aura-descriptor: binned | ksg', 'binned')
    .option('--groups <n>', 'mint: filter groups per layer', int, 8)
    .option('--conditional', 'mint: condition on the other parent groups')
    .option('--seed <s>', 'seed', int, 1)
    .option('--val-size <n>', 'validation images held out of training (the calibration set avoids them)', int, 5000)
    .option('--data <dir>', 'CIFAR-10 binary folder')
    .option('--threads <n>', 'libtorch threads', int)
    .option('--backend <name>', 'libtorch | cpu | auto', 'auto');
}

export interface ScoreCliOptions {
  perClass: number;
  where: TapPoint;
  levels: number;
  zeroBin: boolean;
  neighbourhood: '4' | '8';
  reduce: 'sum' | 'max';
  estimator: 'binned' | 'ksg';
  groups: number;
  conditional?: boolean;
  seed: number;
  valSize: number;
  data?: string;
}

export async function scoreWith(
  model: LayersModel,
  criteria: string[],
  o: ScoreCliOptions,
  extra: { inputNoise?: { sigma: number; seed: number }; activationNoise?: { sigma: number; seed: number }; quiet?: boolean } = {},
): Promise<ScoresFile[]> {
  const data = await loadData(o.data, o.valSize, o.seed);
  const sample = balancedSample(data.train, o.perClass, o.seed);
  const res = await scoreModel(model, sample, criteria, {
    where: o.where,
    seed: o.seed,
    quantize: { levels: o.levels, zeroBin: o.zeroBin },
    ...extra,
    aura: { neighbourhood: o.neighbourhood, reduce: o.reduce, estimator: o.estimator },
    mint: { groups: o.groups, conditional: o.conditional },
  });
  const config = {
    perClass: o.perClass,
    where: o.where,
    levels: o.levels,
    zeroBin: o.zeroBin,
    neighbourhood: o.neighbourhood,
    reduce: o.reduce,
    estimator: o.estimator,
    groups: o.groups,
    conditional: !!o.conditional,
    seed: o.seed,
  };
  return res.map((r) => toScoresFile(r, config));
}

export function parseTarget(o: { targetFlops?: number; targetParams?: number; ratio?: number }): PruneTarget {
  const given = [o.targetFlops, o.targetParams, o.ratio].filter((v) => v !== undefined).length;
  if (given !== 1) throw new Error('give exactly one of --target-flops F, --target-params F or --ratio R (fractions to remove, e.g. 0.5)');
  if (o.ratio !== undefined) return { ratio: o.ratio };
  return o.targetFlops !== undefined ? { by: 'flops', fraction: o.targetFlops } : { by: 'params', fraction: o.targetParams! };
}

function dirBytes(dir: string): number {
  return [MODEL_JSON, WEIGHTS_BIN].reduce((a, f) => a + (existsSync(join(dir, f)) ? statSync(join(dir, f)).size : 0), 0);
}

export function registerPrune(program: Command): void {
  scoreOptions(program.command('score').description('score every prunable filter with one or more criteria'))
    .requiredOption('--model <path>', 'model directory or model.json')
    .option('--criterion <names>', `comma-separated: ${CRITERIA.join(', ')}`, 'aura')
    .option('--out <file>', 'scores JSON (one criterion) or a directory (several)', 'scores.json')
    .action(async (o) => {
      await setupBackend(o);
      const model = await loadModel(o.model);
      const names = String(o.criterion).split(',');
      const files = await scoreWith(model, names, o);
      if (files.length === 1) writeFileAtomic(o.out, JSON.stringify({ ...files[0], model: o.model }));
      else {
        mkdirSync(o.out, { recursive: true });
        for (const f of files) writeFileAtomic(join(o.out, `${f.criterion}.json`), JSON.stringify({ ...f, model: o.model }));
      }
      console.log(
        JSON.stringify(
          files.map((f) => ({ criterion: f.criterion, activationSeconds: f.activationSeconds, scoringSeconds: f.scoringSeconds })),
        ),
      );
    });

  scoreOptions(program.command('prune').description('remove filters (physically) to a params/FLOPs target or a per-layer ratio'))
    .requiredOption('--model <path>', 'model directory or model.json')
    .option('--scores <file>', 'scores from `auraprune score` (else --criterion scores now)')
    .option('--criterion <name>', 'criterion when no --scores file', 'aura')
    .option('--target-flops <f>', 'fraction of FLOPs to remove (global selection)', num)
    .option('--target-params <f>', 'fraction of parameters to remove (global selection)', num)
    .option('--ratio <r>', 'fraction of filters to remove from every prunable layer', num)
    .option('--max-remove <f>', 'largest fraction of one layer that may be removed', num, 0.9)
    .option('--min-keep <n>', 'filters always kept per layer', int, 1)
    .option('--normalize <how>', 'cross-layer score normalisation for global targets: max | rank | none', 'max')
    .option('--out <dir>', 'output directory', 'runs/pruned')
    .action(async (o) => {
      await setupBackend(o);
      const target = parseTarget(o);
      const model = await loadModel(o.model);
      const scores: ScoresFile = o.scores ? JSON.parse(readFileSync(o.scores, 'utf8')) : (await scoreWith(model, [o.criterion], o))[0];
      const { model: pruned, report } = await pruneWithScores(model, scores, target, {
        maxRemove: o.maxRemove,
        minKeep: o.minKeep,
        normalize: o.normalize,
      });
      await saveModel(pruned, o.out);
      writeFileAtomic(join(o.out, 'prune-report.json'), JSON.stringify(report));
      writeFileAtomic(
        join(o.out, 'config.json'),
        JSON.stringify(
          {
            command: 'prune',
            source: o.model,
            target,
            criterion: scores.criterion,
            scoreConfig: scores.config,
            maxRemove: o.maxRemove,
            minKeep: o.minKeep,
            normalize: o.normalize,
          },
          null,
          1,
        ),
      );
      console.log(
        JSON.stringify({
          out: o.out,
          criterion: report.criterion,
          achieved: report.achieved,
          params: report.pruned.params,
          flops: report.pruned.flops,
        }),
      );
    });

  program
    .command('export')
    .description('write a deployment copy of a model (tfjs LayersModel format), optionally with batch norm folded into the convs')
    .requiredOption('--model <path>', 'model directory or model.json')
    .option('--fold-bn', 'fold BatchNormalization layers that follow convs into the conv weights (inference only)')
    .requiredOption('--out <dir>', 'output directory (model.json + weights.bin, loadable with tf.loadLayersModel)')
    .option('--backend <name>', 'libtorch | cpu | auto', 'auto')
    .action(async (o) => {
      await setupBackend(o);
      let model = await loadModel(o.model);
      let folded: Array<[string, string]> = [];
      if (o.foldBn) ({ model, folded } = await foldBatchNorm(model));
      const { bytes } = await saveModel(model, o.out, { exportedFrom: o.model, foldedBatchNorm: folded.length });
      console.log(JSON.stringify({ out: o.out, bytes, foldedBatchNorm: folded.length, layers: model.layers.length }));
    });

  program
    .command('finetune')
    .description('fine-tune a pruned model, then compare it with the original (accuracy, params, FLOPs, size, img/s)')
    .requiredOption('--model <dir>', 'directory written by `auraprune prune`')
    .option('--epochs <n>', 'epochs', int, 5)
    .option('--batch <n>', 'batch size', int, 128)
    .option('--lr <lr>', 'peak learning rate', num, 0.01)
    .option('--schedule <s>', 'cosine | step | onecycle | constant', 'cosine')
    .option('--wd <wd>', 'weight decay', num, 5e-4)
    .option('--label-smoothing <e>', 'label smoothing', num, 0)
    .option('--seed <s>', 'seed', int, 1)
    .option('--val-size <n>', 'validation size (as in training)', int, 5000)
    .option('--data <dir>', 'CIFAR-10 binary folder')
    .option('--out <dir>', 'output directory (default: <model>/finetuned)')
    .option('--resume', 'continue an interrupted fine-tune')
    .option('--threads <n>', 'libtorch threads', int)
    .option('--backend <name>', 'libtorch | cpu | auto', 'auto')
    .action(async (o) => {
      await setupBackend(o);
      const out = o.out ?? join(o.model, 'finetuned');
      const report = await finetuneAndCompare(o.model, out, o);
      console.log(JSON.stringify(report));
    });
}

export async function finetuneAndCompare(
  prunedDir: string,
  out: string,
  o: {
    epochs: number;
    batch: number;
    lr: number;
    schedule: TrainConfig['schedule'];
    wd: number;
    labelSmoothing: number;
    seed: number;
    valSize: number;
    data?: string;
    resume?: boolean;
    quiet?: boolean;
  },
) {
  const cfgPath = join(prunedDir, 'config.json');
  const source = existsSync(cfgPath) ? (JSON.parse(readFileSync(cfgPath, 'utf8')).source as string | undefined) : undefined;
  // use the validation split the original model was trained with (its run's config.json), so
  // "validation" never contains images the original saw in training
  const runCfg = source
    ? [join(source, 'config.json'), join(source, '..', 'config.json')].find(
        (f) => existsSync(f) && JSON.parse(readFileSync(f, 'utf8')).command === 'train',
      )
    : undefined;
  const trained = runCfg ? JSON.parse(readFileSync(runCfg, 'utf8')) : {};
  const data = await loadData(o.data, trained.valSize ?? o.valSize, trained.seed ?? o.seed);
  const cfg: TrainConfig = {
    epochs: o.epochs,
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
  mkdirSync(out, { recursive: true });
  writeFileAtomic(join(out, 'config.json'), JSON.stringify({ command: 'finetune', pruned: prunedDir, source, ...cfg }, null, 1));
  const pruned = await loadModel(prunedDir);
  const beforeFt = evaluate(pruned, data.val);
  const r = await trainModel(pruned, cfg, data, out, { resume: o.resume, quiet: o.quiet });
  const best = await loadModel(join(out, 'best'));
  await saveModel(best, out);
  if (existsSync(join(prunedDir, 'prune-report.json'))) copyFileSync(join(prunedDir, 'prune-report.json'), join(out, 'prune-report.json'));
  const describe = async (m: LayersModel, dir: string) => {
    const c = countComplexity(m);
    return {
      valAcc: evaluate(m, data.val).accuracy,
      testAcc: evaluate(m, data.test).accuracy,
      params: c.params,
      flops: c.flops,
      bytesOnDisk: dirBytes(dir),
      imagesPerSecond: inferenceSpeed(m),
    };
  };
  const after = await describe(best, out);
  const original = source ? await describe(await loadModel(source), source.endsWith('.json') ? join(source, '..') : source) : null;
  const report = {
    prunedBeforeFinetuneValAcc: beforeFt.accuracy,
    bestEpoch: r.bestEpoch,
    pruned: after,
    original,
    speedup: original ? after.imagesPerSecond / original.imagesPerSecond : null,
    testAccDrop: original ? original.testAcc - after.testAcc : null,
  };
  writeFileAtomic(join(out, 'compare.json'), JSON.stringify(report, null, 1));
  return report;
}
