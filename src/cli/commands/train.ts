/** `auraprune train` and `auraprune eval`. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { countComplexity } from '../../eval/complexity.js';
import { evaluate } from '../../eval/evaluate.js';
import { loadImageModel, modelFingerprint } from '../../models/io.js';
import { sparsityPenalty } from '../../prune/sparsity.js';
import { sparsityOption } from '../options.js';
import { buildModel, MODEL_NAMES } from '../../models/zoo.js';
import { initWhitening } from '../../models/airbench.js';
import { PRESETS } from '../../train/recipes.js';
import type { TtaLevel } from '../../eval/evaluate.js';
import { trainModel, TrainConfig } from '../../train/loop.js';
import { claimRunDir } from '../../util/rundir.js';
import { dataFlags, dataOptions, setupBackend, int, num } from '../options.js';

export { loadData, trainingRunSettings } from '../../data/splits.js';
import { loadData, openRunData, trainingRunSettings } from '../../data/splits.js';

export function registerTrain(program: Command): void {
  dataOptions(
    program
      .command('train')
      .description('train a model on CIFAR-10 or --data (resumable; best model chosen on a held-out validation split)'),
  )
    .option('--preset <name>', `recipe defaults: ${Object.keys(PRESETS).join(', ')}`, 'airbench')
    .option('--model <name>', `model: ${MODEL_NAMES.join(', ')}`)
    .option('--width <w>', 'width multiplier', num)
    .option('--epochs <n>', 'epochs', int)
    .option('--batch <n>', 'batch size', int)
    .option('--lr <lr>', 'peak learning rate', num)
    .option('--schedule <s>', 'cosine | step | onecycle | constant | linear')
    .option('--warmup <epochs>', 'linear warm-up epochs', num)
    .option('--wd <wd>', 'weight decay (kernels only; BN and biases are not decayed)', num)
    .option('--decay <kind>', 'l2 | decoupled')
    .option('--momentum <m>', 'momentum (default 0.9; airbench 0.85)', num)
    .option('--nesterov', 'Nesterov momentum')
    .option('--no-nesterov', 'plain momentum')
    .option('--label-smoothing <e>', 'label smoothing', num)
    .option('--no-augment', 'disable crop + flip augmentation')
    .option('--val-size <n>', 'validation images held out of the training set (stratified; preset default, else 5000)', int)
    .option('--train-limit <n>', 'use only the first N training records (quick runs)', int)
    .option('--seed <s>', 'seed', int, 1)
    .option('--out <dir>', 'run directory', 'runs/train')
    .option('--resume', 'continue from <out>/checkpoint')
    .option(
      '--tta <level>',
      'also report test accuracy with test-time augmentation: 0 none, 1 mirror, 2 mirror + translate (plain accuracy is always reported)',
      int,
      2,
    )
    .option('--threads <n>', 'threads (libtorch and aura counting)', int)
    .option('--backend <name>', 'libtorch | cpu | auto', 'auto')
    .option(
      '--sparsity <kind>',
      'train with a sparsity penalty before pruning: bn-l1 (Network Slimming) | group-l2 (group lasso over channel groups)',
    )
    .option('--sparsity-lambda <l>', 'penalty weight (e.g. 1e-4 for bn-l1)', num)
    .option('--sparsity-schedule <s>', 'constant | growing (lambda rises linearly from 0 over training)', 'constant')
    .action(async (o) => {
      const p = PRESETS[o.preset];
      if (!p) throw new Error(`unknown preset ${o.preset}; choose one of ${Object.keys(PRESETS).join(', ')}`);
      const backend = await setupBackend(o);
      const cfg: TrainConfig = {
        epochs: o.epochs ?? p.epochs!,
        batch: o.batch ?? p.batch!,
        lr: o.lr ?? p.lr!,
        schedule: o.schedule ?? p.schedule!,
        warmupEpochs: o.warmup ?? p.warmupEpochs ?? 0,
        weightDecay: o.wd ?? p.weightDecay!,
        decay: o.decay ?? p.decay ?? 'l2',
        momentum: o.momentum ?? p.momentum ?? 0.9,
        nesterov: o.nesterov ?? p.nesterov!,
        labelSmoothing: o.labelSmoothing ?? p.labelSmoothing!,
        seed: o.seed,
        augment: o.augment === false ? { pad: 0, flip: false } : (p.augment ?? { pad: 4, flip: true }),
        paramGroups: p.paramGroups ?? 'standard',
        lookahead: p.lookahead,
        ...sparsityOption(o),
      };
      const model: string = o.model ?? p.model;
      // --model is a zoo name or a directory holding a user's model.json; checked before anything is written
      const userDir = existsSync(join(model, 'model.json')) || (model.endsWith('.json') && existsSync(model)) ? model : null;
      if (!userDir && !(MODEL_NAMES as readonly string[]).includes(model))
        throw new Error(`--model ${model}: neither a zoo model (${MODEL_NAMES.join(', ')}) nor a directory holding model.json`);
      // a model other than the preset's starts at its own full width, not the preset's
      const width = userDir ? null : (o.width ?? (model === p.model ? p.width : 1));
      const flags = dataFlags(o);
      if (!flags.data && !flags.dataset && p.dataset) flags.dataset = p.dataset;
      const data = await loadData(o.data, o.valSize ?? p.valSize ?? 5000, o.seed, o.trainLimit, flags);
      const userModel = userDir ? await loadImageModel(userDir, data.info) : null;
      const settings = {
        model: userDir ? { dir: resolve(userDir), sha256: modelFingerprint(userDir) } : model,
        width,
        valSize: data.val.n,
        trainLimit: o.trainLimit ?? null,
        // the data set is part of the settings: a rerun on other data never mixes with this run
        dataset: data.info.name,
        resize: flags.resize ?? null,
        labels: flags.labels ?? null,
        ...cfg,
      };
      claimRunDir(o.out, settings, {
        resume: o.resume,
        marker: 'checkpoint',
        record: {
          command: 'train',
          backend,
          dataDir: data.dir,
          dataInfo: data.info,
          testFrom: data.testFrom,
          trainSize: data.train.n,
          ...settings,
          dataset: flags.dataset ?? data.info.format,
        },
      });
      const t0 = performance.now();
      const net =
        userModel ??
        buildModel(model as (typeof MODEL_NAMES)[number], {
          width: width ?? 1,
          seed: o.seed,
          inputShape: data.info.shape,
          classes: data.info.classNames.length,
        });
      // the airbench network's first conv whitens 2x2 patches of the training images
      if (model === 'airbench') initWhitening(net, data.train);
      const r = await trainModel(net, cfg, data, o.out, { resume: o.resume, tta: o.tta, penalty: sparsityPenalty(cfg.sparsity) });
      const c = countComplexity(r.model);
      const summary = {
        out: o.out,
        finished: r.finished,
        bestEpoch: r.bestEpoch,
        bestValAcc: r.bestValAcc,
        testAcc: r.test?.accuracy,
        testAccTta: r.testTta?.accuracy,
        tta: o.tta,
        params: c.params,
        flops: c.flops,
        wallSeconds: (performance.now() - t0) / 1000,
      };
      console.log(JSON.stringify(summary));
    });

  dataOptions(
    program.command('eval').description('accuracy, loss, per-class accuracy, confusion matrix, params, FLOPs and img/s of a saved model'),
  )
    .requiredOption('--model <path>', 'model directory or model.json')
    .option('--split <s>', 'val | test', 'test')
    .option('--val-size <n>', "validation size used in training (default: the run's config.json, else 5000)", int)
    .option('--seed <s>', "seed used in training, which defines the validation split (default: the run's, else 1)", int)
    .option('--tta <level>', 'also report accuracy with test-time augmentation: 1 mirror, 2 mirror + translate', int, 0)
    .option('--threads <n>', 'threads (libtorch and aura counting)', int)
    .option('--backend <name>', 'libtorch | cpu | auto', 'auto')
    .action(async (o) => {
      if (![0, 1, 2].includes(o.tta)) throw new Error(`--tta must be 0, 1 or 2, got ${o.tta}`);
      await setupBackend(o);
      // --split val must be the images the model's own run held out, so its run's split is the default
      const run = trainingRunSettings(o.model);
      const data = await openRunData({ ...run, valSize: o.valSize ?? run.valSize, seed: o.seed ?? run.seed }, dataFlags(o), {
        valSize: 5000,
        seed: 1,
      });
      const model = await loadImageModel(o.model, data.info);
      const split = o.split === 'val' ? data.val : o.split === 'test' ? data.test : null;
      if (!split) throw new Error(`--split must be val or test, got ${o.split}`);
      const r = evaluate(model, split, { progress: `eval ${o.split}` });
      const t = o.tta ? evaluate(model, split, { tta: o.tta as TtaLevel, progress: `eval ${o.split} (TTA ${o.tta})` }) : undefined;
      const c = countComplexity(model);
      const summary: Partial<typeof r> = { ...r };
      delete summary.correct; // per-image results stay out of the printed summary
      console.log(
        JSON.stringify({
          split: o.split,
          ...summary,
          ...(t ? { ttaLevel: t.tta, ttaAccuracy: t.accuracy, ttaLoss: t.loss } : {}),
          params: c.params,
          flops: c.flops,
        }),
      );
    });
}
