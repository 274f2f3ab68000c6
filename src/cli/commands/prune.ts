/** `auraprune score`, `auraprune prune`, `auraprune finetune`. */
import { pruneAndRecover } from '../../experiment/recover.js';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { balancedSample, subset } from '../../data/pipeline.js';
import { loadImageModel, modelFingerprint, saveModel } from '../../models/io.js';
import { CRITERIA, scoreModel } from '../../prune/importance/registry.js';
import { DEFAULT_AURA_EDGES } from '../../prune/importance/aura.js';
import type { TapPoint } from '../../prune/importance/types.js';
import { ALLOCATIONS, CHANNEL_GROUPS, ChannelGroups, PruneTarget, ScoresFile, toScoresFile } from '../../prune/pipeline.js';
import type { GroupReduce } from '../../prune/importance/simple.js';
import { readScoresFile } from '../../prune/scores_file.js';
import { finetuneAndCompare } from '../../experiment/finetune.js';
import { measureSensitivity } from '../../prune/allocate/sensitivity.js';
import { measureLatency } from '../../prune/allocate/latency.js';
import { pruningUnits } from '../../prune/graph/graph.js';
import { foldBatchNorm } from '../../prune/surgery/fold_bn.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { claimOutDir } from '../../util/outdir.js';
import { dataFlags, dataOptions, int, num, setupBackend, sparsityOption } from '../options.js';
import { openRunData, trainingRunSettings } from '../../data/splits.js';
import type { ImageSplit } from '../../data/dataset.js';

export function scoreOptions(cmd: Command): Command {
  cmd
    .option('--per-class <n>', 'calibration images per class (class-balanced, unaugmented, from the training split)', int, 50)
    .option('--where <tap>', 'activations read after: conv | bn | relu (relu: what the next layer sees)', 'relu')
    .option('--levels <g>', 'aura: quantisation levels G', int, 8)
    .option('--no-zero-bin', 'aura: do not give exact zeros (ReLU) their own label')
    .option('--neighbourhood <n>', 'aura: 4 | 8', '4')
    .option('--reduce <how>', 'aura: combine child MIs by sum | max', 'sum')
    .option(
      '--aura-edges <n>',
      'aura: neighbour pairs counted per image: a count, a fraction in (0, 1), or all (exact); a seeded sample where the map has more',
      auraEdges,
      DEFAULT_AURA_EDGES,
    )
    .option('--estimator <e>', 'aura-descriptor: binned | ksg', 'binned')
    .option('--groups <n>', 'mint: filter groups per layer', int, 8)
    .option('--conditional', 'mint: condition on the other parent groups')
    .option('--group-reduce <how>', "l1: how a coupled group's producers' filter scores combine: mean | sum | max", groupReduce, 'mean')
    .option('--seed <s>', 'seed', int, 1)
    .option('--val-size <n>', 'validation images held out of training (the calibration set avoids them)', int, 5000)
    .option('--threads <n>', 'threads (libtorch and aura counting)', int)
    .option('--backend <name>', 'libtorch | cpu | auto', 'auto');
  return dataOptions(cmd);
}

/** --aura-edges: 'all', a count >= 1 or a fraction in (0, 1). */
export function auraEdges(v: string): number | 'all' {
  if (v === 'all') return 'all';
  const n = Number(v);
  if (!(Number.isFinite(n) && n > 0) || (n > 1 && !Number.isInteger(n)))
    throw new InvalidArgumentError('a count of neighbour pairs (integer >= 1), a fraction in (0, 1), or all');
  return n;
}

/** --group-reduce: mean | sum | max. */
export function groupReduce(v: string): GroupReduce {
  if (v !== 'mean' && v !== 'sum' && v !== 'max') throw new InvalidArgumentError('mean | sum | max');
  return v;
}

/** --channel-groups: coupled | internal. */
export function channelGroups(v: string): ChannelGroups {
  if (!(CHANNEL_GROUPS as readonly string[]).includes(v)) throw new InvalidArgumentError(CHANNEL_GROUPS.join(' | '));
  return v as ChannelGroups;
}

export interface ScoreCliOptions {
  perClass: number;
  where: TapPoint;
  levels: number;
  zeroBin: boolean;
  neighbourhood: '4' | '8';
  reduce: 'sum' | 'max';
  auraEdges: number | 'all';
  estimator: 'binned' | 'ksg';
  groups: number;
  conditional?: boolean;
  groupReduce?: GroupReduce;
  seed: number;
  valSize: number;
  data?: string;
  dataset?: string;
  resize?: [number, number];
  labels?: string;
}

/** The data of the run `modelPath` came from (flags override its recorded location and format). */
export function runDataOf(modelPath: string, o: ScoreCliOptions) {
  return openRunData(trainingRunSettings(modelPath), dataFlags(o), { valSize: o.valSize, seed: o.seed });
}

export async function scoreWith(
  model: LayersModel,
  criteria: string[],
  o: ScoreCliOptions,
  extra: { inputNoise?: { sigma: number; seed: number }; activationNoise?: { sigma: number; seed: number }; quiet?: boolean } = {},
  loaded?: { train: ImageSplit },
): Promise<ScoresFile[]> {
  // the calibration sample comes from the training split of the run the model came from
  const modelPath = (o as { model?: unknown }).model;
  const data = loaded ?? (await openRunData(typeof modelPath === 'string' ? trainingRunSettings(modelPath) : {}, dataFlags(o), o));
  const sample = balancedSample(data.train, o.perClass, o.seed);
  const res = await scoreModel(model, sample, criteria, {
    where: o.where,
    seed: o.seed,
    quantize: { levels: o.levels, zeroBin: o.zeroBin },
    ...extra,
    aura: { neighbourhood: o.neighbourhood, reduce: o.reduce, estimator: o.estimator, edges: o.auraEdges },
    mint: { groups: o.groups, conditional: o.conditional },
    groupReduce: o.groupReduce,
  });
  const config = {
    perClass: o.perClass,
    where: o.where,
    levels: o.levels,
    zeroBin: o.zeroBin,
    neighbourhood: o.neighbourhood,
    reduce: o.reduce,
    auraEdges: o.auraEdges,
    estimator: o.estimator,
    groups: o.groups,
    conditional: !!o.conditional,
    groupReduce: o.groupReduce ?? 'mean',
    seed: o.seed,
  };
  return res.map((r) => toScoresFile(r, config));
}

export function parseTarget(o: { targetFlops?: number; targetParams?: number; targetSpeedup?: number; ratio?: number }): PruneTarget {
  const given = [o.targetFlops, o.targetParams, o.targetSpeedup, o.ratio].filter((v) => v !== undefined).length;
  if (given !== 1)
    throw new Error(
      'give exactly one of --target-flops F, --target-params F (fractions to remove, e.g. 0.5), --target-speedup S (e.g. 2) or --ratio R',
    );
  if (o.ratio !== undefined) return { ratio: o.ratio };
  // a speed-up S removes the fraction 1 - 1/S of the predicted time
  if (o.targetSpeedup !== undefined) return { by: 'latency', fraction: 1 - 1 / o.targetSpeedup };
  return o.targetFlops !== undefined ? { by: 'flops', fraction: o.targetFlops } : { by: 'params', fraction: o.targetParams! };
}

/** The recovery fine-tune's recipe options, shared by `finetune` and `compress`. */
function recipeOptions(cmd: Command): Command {
  return cmd
    .option('--lr-scale <x>', "airbench recipe: peak lr as a multiple of the training recipe's", num, 0.5)
    .option('--batch <n>', 'batch size (sgd recipe)', int, 128)
    .option('--lr <lr>', 'peak learning rate (sgd recipe)', num, 0.01)
    .option('--schedule <s>', 'cosine | step | onecycle | constant', 'cosine')
    .option('--wd <wd>', 'weight decay', num, 5e-4)
    .option('--label-smoothing <e>', 'label smoothing', num, 0);
}

export function registerPrune(program: Command): void {
  scoreOptions(program.command('score').description('score every prunable filter with one or more criteria'))
    .requiredOption('--model <path>', 'model directory or model.json')
    .option('--criterion <names>', `comma-separated: ${CRITERIA.join(', ')}`, 'aura')
    .option('--out <file>', 'scores JSON (one criterion) or a directory (several)', 'scores.json')
    .action(async (o) => {
      await setupBackend(o);
      const data = await runDataOf(o.model, o);
      const model = await loadImageModel(o.model, data.info);
      const names = String(o.criterion).split(',');
      const files = await scoreWith(model, names, o, {}, data);
      // keyed by the model: `prune --scores` refuses scores of another model (or of other weights)
      const key = { model: resolve(o.model), modelSha256: modelFingerprint(o.model) };
      if (files.length === 1) writeFileAtomic(o.out, JSON.stringify({ ...files[0], ...key }));
      else {
        mkdirSync(o.out, { recursive: true });
        for (const f of files) writeFileAtomic(join(o.out, `${f.criterion}.json`), JSON.stringify({ ...f, ...key }));
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
    .option('--target-speedup <s>', 'predicted speed-up on this backend (layer times measured at --latency-batch)', num)
    .option('--latency-batch <n>', 'batch size at which --target-speedup is measured (1: per-request latency)', int, 1)
    .option('--ratio <r>', 'fraction of filters to remove from every prunable layer', num)
    .option('--max-remove <f>', 'largest fraction of one layer that may be removed', num, 0.9)
    .option('--min-keep <n>', 'filters always kept per layer', int, 1)
    .option(
      '--round-to <n>',
      'kept filters per layer in multiples of n or all (uniform/sensitivity/ratio; 16 matches oneDNN channel blocks: faster on CPU)',
      int,
      1,
    )
    .option(
      '--allocation <how>',
      `how many filters each layer keeps for a target: ${ALLOCATIONS.join(' | ')} (uniform: the same fraction everywhere; global: ranked across layers; sensitivity: measured per layer)`,
      'uniform',
    )
    .option(
      '--channel-groups <how>',
      'coupled: channels joined by residual adds, concatenations or squeeze-excitation are pruned together (every conv of a ResNet stage loses the same ones); internal: only convs with their own channels (block-internal convs)',
      channelGroups,
      'coupled',
    )
    .option('--normalize <how>', 'cross-layer score normalisation for --allocation global: max | rank | mean | lamp | none', 'max')
    .option('--cost-aware', 'global allocation: divide scores by the params/FLOPs a filter carries')
    .option(
      '--recalibrate-bn <n>',
      're-estimate batch-norm statistics on n batches of 256 calibration images after surgery (0: off)',
      int,
      4,
    )
    .option('--out <dir>', 'output directory', 'runs/pruned')
    .action(async (o) => {
      await setupBackend(o);
      const target = parseTarget(o);
      if (!ALLOCATIONS.includes(o.allocation))
        throw new Error(`--allocation must be one of ${ALLOCATIONS.join(', ')}, got ${o.allocation}`);
      const release = claimOutDir(o.out, 'prune', { inputs: [o.model] });
      const data = await runDataOf(o.model, o);
      const model = await loadImageModel(o.model, data.info);
      const scores: ScoresFile = o.scores
        ? readScoresFile(o.scores, modelFingerprint(o.model))
        : (await scoreWith(model, [o.criterion], o, {}, data))[0];
      const calib = balancedSample(data.train, o.perClass, o.seed);
      let sensitivity;
      if (o.allocation === 'sensitivity') {
        mkdirSync(o.out, { recursive: true });
        const units = pruningUnits(model, [], { coupled: o.channelGroups === 'coupled' });
        const s = units.map((u) => Float64Array.from(scores.units.find((x) => x.conv === u.conv)?.scores ?? []));
        const evalSet = subset(
          data.val,
          Array.from({ length: Math.min(1000, data.val.n) }, (_, i) => i),
        );
        sensitivity = await measureSensitivity(model, units, s, calib, evalSet, { recalBatches: o.recalibrateBn || 4, seed: o.seed });
        writeFileAtomic(join(o.out, 'sensitivity.json'), JSON.stringify(sensitivity));
      }
      const latency =
        'by' in target && target.by === 'latency'
          ? measureLatency(model, pruningUnits(model, [], { coupled: o.channelGroups === 'coupled' }), { batch: o.latencyBatch })
          : undefined;
      if (latency)
        process.stderr.write(`measured layer times at batch ${latency.batch}: whole model ${(1000 * latency.base).toFixed(2)} ms\n`);
      const r = await pruneAndRecover(model, scores, target, {
        latency,
        maxRemove: o.maxRemove,
        minKeep: o.minKeep,
        roundTo: o.roundTo,
        normalize: o.normalize,
        costAware: o.costAware,
        allocation: o.allocation,
        sensitivity,
        coupled: o.channelGroups === 'coupled',
        calib,
        recalBatches: o.recalibrateBn,
        seed: o.seed,
        evalOn: { validation: data.val },
        progress: true,
      });
      const { model: pruned, report } = r;
      const valRaw = r.raw.validation.accuracy;
      const valRecal = r.recalibrated.validation.accuracy;
      const used = r.recalibrationImages;
      for (const c of report.intact) process.stderr.write(`left intact: ${c.conv}: ${c.reason}\n`);
      await saveModel(pruned, o.out);
      writeFileAtomic(
        join(o.out, 'prune-report.json'),
        JSON.stringify({ ...report, valAccRaw: valRaw, valAccRecalibratedBn: valRecal, recalibrationImages: used }),
      );
      writeFileAtomic(
        join(o.out, 'config.json'),
        JSON.stringify(
          {
            command: 'prune',
            source: resolve(o.model),
            target,
            criterion: scores.criterion,
            scoreConfig: scores.config,
            maxRemove: o.maxRemove,
            minKeep: o.minKeep,
            roundTo: o.roundTo,
            normalize: o.normalize,
            allocation: o.allocation,
            channelGroups: o.channelGroups,
            costAware: !!o.costAware,
            recalibrateBn: o.recalibrateBn,
          },
          null,
          1,
        ),
      );
      release();
      console.log(
        JSON.stringify({
          out: o.out,
          criterion: report.criterion,
          allocation: report.allocation,
          valAccRaw: valRaw,
          valAccRecalibratedBn: valRecal,
          keptPerLayer: Object.fromEntries(report.units.map((u) => [u.conv, `${u.kept.length}/${u.filters}`])),
          groups: Object.fromEntries(report.units.filter((u) => u.members).map((u) => [u.conv, u.members])),
          achieved: report.achieved,
          params: report.pruned.params,
          flops: report.pruned.flops,
        }),
      );
    });

  dataOptions(recipeOptions(program.command('compress')))
    .description(
      'iterative pruning: K rounds of score -> prune -> BN re-estimation -> fine-tune to a FLOPs target (geometric schedule; resumable)',
    )
    .requiredOption('--model <path>', "model directory (a training run's best/, or any model with its run config)")
    .requiredOption('--target-flops <f>', 'fraction of the FLOPs to remove in all', num)
    .option('--rounds <k>', 'rounds; round k brings the total to 1 - (1 - F)^(k/K)', int, 3)
    .option('--criterion <name>', `criterion: ${CRITERIA.join(', ')}`, 'aura')
    .option('--allocation <how>', `${ALLOCATIONS.filter((a) => a !== 'sensitivity').join(' | ')}`, 'uniform')
    .option('--channel-groups <how>', 'coupled | internal', channelGroups, 'coupled')
    .option('--round-to <n>', 'kept filters per layer in multiples of n', int, 1)
    .option('--per-class <n>', 'calibration images per class (scoring, BN re-estimation)', int, 50)
    .option('--recalibrate-bn <n>', 'batches of 256 calibration images for BN re-estimation after each surgery', int, 4)
    .option('--epochs <n>', "fine-tune epochs per round (default: the recipe's)", int)
    .option('--distill', "distillation from the previous round's model (default for airbench bases)")
    .option('--no-distill', 'no distillation')
    .option('--train-limit <n>', 'fine-tune on the first N training images (quick runs)', int)
    .option('--tta <level>', 'also report test accuracy with TTA', int, 0)
    .option('--seed <s>', 'seed', int, 1)
    .option('--val-size <n>', 'validation size when the model names no training run', int, 5000)
    .option('--out <dir>', 'output directory', 'runs/compressed')
    .option('--threads <n>', 'threads (libtorch and aura counting)', int)
    .option('--backend <name>', 'libtorch | cpu | auto', 'auto')
    .action(async (o) => {
      await setupBackend(o);
      if (!(o.targetFlops > 0 && o.targetFlops < 1)) throw new Error(`--target-flops must be in (0, 1), got ${o.targetFlops}`);
      if (o.allocation === 'sensitivity') throw new Error('--allocation: compress takes uniform or global');
      const { compress } = await import('../../experiment/compress.js');
      const r = await compress(o.model, o.out, {
        criterion: o.criterion,
        targetFlops: o.targetFlops,
        rounds: o.rounds,
        allocation: o.allocation,
        coupled: o.channelGroups === 'coupled',
        roundTo: o.roundTo,
        perClass: o.perClass,
        recalBatches: o.recalibrateBn,
        seed: o.seed,
        ...dataFlags(o),
        finetune: {
          epochs: o.epochs,
          batch: o.batch,
          lr: o.lr,
          schedule: o.schedule,
          wd: o.wd,
          labelSmoothing: o.labelSmoothing,
          seed: o.seed,
          valSize: o.valSize,
          trainLimit: o.trainLimit,
          ...dataFlags(o),
          lrScale: o.lrScale,
          distill: o.distill,
          tta: o.tta,
        },
      });
      for (const x of r.rounds)
        console.log(
          JSON.stringify({
            round: x.round,
            flopsRemoved: x.flopsRemoved,
            target: x.target,
            valAccRaw: x.valAccRaw,
            valAccRecalBn: x.valAccRecalBn,
            testAcc: (x.compare.pruned as { testAcc: number }).testAcc,
          }),
        );
      console.log(JSON.stringify({ out: o.out, final: r.final }));
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
      const release = claimOutDir(o.out, 'export', { inputs: [o.model] });
      let model = await loadImageModel(o.model);
      let folded: Array<[string, string]> = [];
      if (o.foldBn) ({ model, folded } = await foldBatchNorm(model));
      const { bytes } = await saveModel(model, o.out, { exportedFrom: o.model, foldedBatchNorm: folded.length });
      release();
      console.log(JSON.stringify({ out: o.out, bytes, foldedBatchNorm: folded.length, layers: model.layers.length }));
    });

  dataOptions(recipeOptions(program.command('finetune')))
    .description('fine-tune a pruned model, then compare it with the original (accuracy, params, FLOPs, size, img/s)')
    .requiredOption('--model <dir>', 'directory written by `auraprune prune`')
    .option('--recipe <r>', "auto (the base run's: airbench for airbench bases) | airbench | sgd", 'auto')
    .option('--epochs <n>', 'epochs (default: 5 for airbench bases, 8 for sgd)', int)
    .option('--seed <s>', 'seed', int, 1)
    .option('--val-size <n>', 'validation size (as in training)', int, 5000)
    .option('--train-limit <n>', "fine-tune on the first N images of the base run's training split (quick runs)", int)
    .option('--out <dir>', 'output directory (default: <model>/finetuned)')
    .option('--resume', 'continue an interrupted fine-tune')
    .option('--distill', 'knowledge distillation from the unpruned source model (default for airbench bases)')
    .option('--no-distill', 'no distillation')
    .option('--temperature <t>', 'distillation temperature', num, 4)
    .option('--alpha <a>', 'distillation weight of the soft term', num, 0.5)
    .option('--tta <level>', 'also report test accuracy with TTA (1 mirror, 2 mirror + translate)', int, 2)
    .option('--threads <n>', 'threads (libtorch and aura counting)', int)
    .option('--backend <name>', 'libtorch | cpu | auto', 'auto')
    .option('--sparsity <kind>', 'fine-tune with a sparsity penalty (before another pruning round): bn-l1 | group-l2')
    .option('--sparsity-lambda <l>', 'penalty weight', num)
    .option('--sparsity-schedule <s>', 'constant | growing', 'constant')
    .action(async (o) => {
      await setupBackend(o);
      const out = o.out ?? join(o.model, 'finetuned');
      const report = await finetuneAndCompare(o.model, out, { ...o, ...sparsityOption(o) });
      console.log(JSON.stringify(report));
    });
}
