/** `auraprune experiment`, `auraprune robustness`, `auraprune report`, `auraprune worker`, `auraprune demo`. */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { balancedSample } from '../../data/pipeline.js';
import { runExperiment } from '../../experiment/grid.js';
import { resolveBase } from '../../experiment/base.js';
import { runDemo } from '../../experiment/demo.js';
import { table, writeReport } from '../../report/experiment.js';
import { connectionFrom, QueueProgress, runExperimentOnQueue, startWorker } from '../../experiment/queue.js';
import { robustness } from '../../experiment/robustness.js';
import { checkModelFitsData, loadImageModel, modelFingerprint } from '../../models/io.js';
import { CRITERIA } from '../../prune/importance/registry.js';
import { buildTrainingReport } from '../../report/html.js';
import { exportChartPngs } from '../../report/png.js';
import type { TrainConfig } from '../../train/loop.js';
import { airbenchRecipe, finetuneRecipe } from '../../train/recipes.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { claimRunDir } from '../../util/rundir.js';
import { readJsonLines, readJsonFile } from '../../util/jsonl.js';
import { dataFlags, int, num, openedAs, setupBackend } from '../options.js';
import { runDataOf, scoreOptions, ScoreCliOptions } from './prune.js';
import { openRunData } from '../../data/splits.js';

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const nums = (v: string) => list(v).map(Number);

function gridOptions(o: ScoreCliOptions & Record<string, unknown>) {
  return {
    perClass: o.perClass,
    where: o.where,
    maxRemove: o.maxRemove as number,
    normalize: o.normalize as 'max',
    scoring: {
      quantize: { levels: o.levels, zeroBin: o.zeroBin },
      aura: { neighbourhood: o.neighbourhood, reduce: o.reduce, estimator: o.estimator, edges: o.auraEdges },
      mint: { groups: o.groups, conditional: o.conditional },
    },
  };
}

/** One stderr line whenever the queued cells change state, with the rate and an ETA from the cells done so far. */
export function queueProgressPrinter(): (p: QueueProgress) => void {
  const t0 = performance.now();
  return (p) => {
    const min = (performance.now() - t0) / 60000;
    const eta = p.done > 0 ? ` ETA ${((min / p.done) * (p.total - p.done - p.failed)).toFixed(1)} min` : '';
    process.stderr.write(
      `queue: ${p.done}/${p.total} cells done, ${p.active} running, ${p.waiting} waiting, ${p.failed} failed (${min.toFixed(1)} min${eta})\n`,
    );
  };
}

export function registerExperiment(program: Command): void {
  scoreOptions(program.command('experiment').description('criterion x target x seed grid: prune, fine-tune, evaluate, report (resumable)'))
    .requiredOption('--base <dir>', 'training run directory (runs/X) or a model directory')
    .option('--criteria <list>', `comma-separated: ${CRITERIA.join(',')}`, 'aura,aura-descriptor,mint,hrank,l1,random')
    .option('--targets <list>', 'fractions to remove', '0.3,0.5,0.7')
    .option('--by <what>', 'flops | params', 'flops')
    .option('--seeds <list>', 'seeds', '1,2')
    .option('--finetune-epochs <n>', 'fine-tuning epochs per cell', int, 3)
    .option('--finetune-lr <lr>', "fine-tuning peak lr (default: 0.01, or half the airbench recipe's for airbench bases)", num)
    .option('--finetune-images <n>', 'fine-tune each cell on a seeded subset of this many training images (default: all)', int)
    .option('--batch <n>', 'fine-tuning batch (non-airbench bases)', int, 128)
    .option('--max-remove <f>', 'largest fraction removed from one layer', num, 0.9)
    .option('--normalize <how>', 'cross-layer normalisation (global allocation only): max | rank | mean | lamp | none', 'max')
    .option('--allocation <how>', 'filters kept per layer: uniform (identical for every criterion) | global | sensitivity', 'uniform')
    .option('--recalibrate-bn <n>', 'batch-norm re-estimation batches after surgery (0: off)', int, 4)
    .option('--png', 'also export the charts as PNG (needs chromium + playwright-core)')
    .option('--out <dir>', 'experiment directory', 'exp/run')
    .option('--queue <url>', 'run the cells on BullMQ workers (`auraprune worker --queue URL`) via redis://HOST:PORT; paths must be shared')
    .option('--queue-password-file <file>', 'Redis password from this file (or REDIS_PASSWORD), kept out of the URL and `ps`')
    .action(async (o) => {
      if (o.queuePasswordFile) process.env.REDIS_PASSWORD_FILE = o.queuePasswordFile; // children inherit it
      const backend = await setupBackend(o);
      if (o.allocation === 'sensitivity')
        throw new Error('--allocation sensitivity is available in `prune` and `bench prune`; experiment takes uniform or global');
      const b = await resolveBase(o.base);
      const data = await openRunData(b.run, dataFlags(o), { valSize: o.valSize, seed: o.seed });
      checkModelFitsData(b.model, data.info, b.modelDir);
      mkdirSync(o.out, { recursive: true });
      // airbench bases are fine-tuned with their own recipe (at half its lr unless --finetune-lr is given)
      const finetune: Omit<TrainConfig, 'seed'> =
        b.paramGroups === 'airbench'
          ? finetuneRecipe(b, {
              epochs: o.finetuneEpochs,
              lrScale: o.finetuneLr !== undefined ? o.finetuneLr / airbenchRecipe({ epochs: 1, batch: b.batch, seed: 1 }).lr : 0.5,
              seed: 1,
            })
          : finetuneRecipe(b, { epochs: o.finetuneEpochs, lrScale: (o.finetuneLr ?? 0.01) / 0.01, seed: 1, batch: o.batch });
      const opts = {
        ...gridOptions(o),
        criteria: list(o.criteria),
        targets: nums(o.targets),
        by: o.by,
        seeds: nums(o.seeds).map(Math.round),
        finetune,
        finetuneImages: o.finetuneImages,
        allocation: o.allocation,
        recalBatches: o.recalibrateBn,
      };
      // the directory owns the settings that shape its cells; the grid (criteria, targets, seeds) may grow
      const { criteria, targets, seeds, ...shaping } = opts;
      const { release } = claimRunDir(
        o.out,
        {
          base: resolve(o.base),
          // content, not path: new weights under the same path must not meet cached scores and old rows
          baseSha256: modelFingerprint(b.modelDir),
          valSize: b.valSize ?? o.valSize,
          splitSeed: b.seed ?? o.seed,
          trainLimit: b.trainLimit ?? null,
          ...shaping,
        },
        {
          resume: true,
          marker: 'results.jsonl',
          record: { command: 'experiment', base: o.base, backend, criteria, targets, seeds, ...shaping },
        },
      );
      const t0 = performance.now();
      if (o.queue) {
        // cells run on workers; this process writes results.jsonl and the report as they arrive
        const r = await runExperimentOnQueue(
          o.queue,
          {
            out: o.out,
            baseDir: b.modelDir,
            data: { dataDir: data.dir, valSize: data.val.n, seed: b.seed ?? o.seed, trainLimit: b.trainLimit, ...openedAs(b.run, o) },
            options: { ...opts, quiet: true },
          },
          {
            onLine: (l) => process.stderr.write(`cell ${l.key}: test ${(100 * l.testAcc).toFixed(2)}%\n`),
            onFailed: (k, e) => process.stderr.write(`cell ${k} failed after its retries: ${e}\n`),
            onProgress: queueProgressPrinter(),
          },
        ).finally(release);
        if (r.failed.length) process.exitCode = 1;
      } else await runExperiment(b.model, data, o.out, opts).finally(release);
      const path = await writeReport(o.out, `auraprune experiment: ${o.base}`, backend, o.png);
      console.log(table(o.out));
      console.log(`report: ${path} (${((performance.now() - t0) / 60000).toFixed(1)} min)`);
    });

  scoreOptions(program.command('robustness').description("stability of each criterion's filter ranking under Gaussian noise"))
    .requiredOption('--model <path>', 'model directory')
    .option('--criteria <list>', 'comma-separated criteria', 'aura,aura-descriptor,mint,hrank,l1')
    .option('--sigmas <list>', 'noise levels', '0,0.05,0.1,0.2')
    .option('--noise-on <where>', 'input | activations', 'input')
    .option('--out <dir>', 'directory for robustness.json (an experiment directory adds it to its report)', 'exp/robustness')
    .action(async (o) => {
      const backend = await setupBackend(o);
      const data = await runDataOf(o.model, o);
      const model = await loadImageModel(o.model, data.info);
      const rows = await robustness(model, balancedSample(data.train, o.perClass, o.seed), list(o.criteria), nums(o.sigmas), {
        ...gridOptions(o).scoring,
        where: o.noiseOn,
        tap: o.where,
        seed: o.seed,
      });
      mkdirSync(o.out, { recursive: true });
      writeFileAtomic(join(o.out, 'robustness.json'), JSON.stringify(rows));
      await writeReport(o.out, `auraprune robustness: ${o.model}`, backend);
      for (const r of rows)
        console.log(
          JSON.stringify({
            criterion: r.criterion,
            sigma: r.sigma,
            where: r.where,
            spearman: +r.spearman.toFixed(4),
            topK: +r.topK.toFixed(4),
          }),
        );
    });

  program
    .command('report')
    .description('(re)build report.html from an experiment directory, or training curves from a run directory')
    .requiredOption('--dir <dir>', 'experiment directory (results.jsonl) or training run directory (metrics.jsonl)')
    .option('--png', 'also export the charts as PNG')
    .action(async (o) => {
      if (existsSync(join(o.dir, 'results.jsonl')))
        return console.log(await writeReport(o.dir, `auraprune experiment: ${o.dir}`, 'n/a', o.png));
      if (!existsSync(join(o.dir, 'metrics.jsonl')))
        throw new Error(`${o.dir} has neither results.jsonl (experiment) nor metrics.jsonl (training run)`);
      const read = (f: string) => (existsSync(join(o.dir, f)) ? readJsonFile(join(o.dir, f)) : undefined);
      const metrics = readJsonLines<Parameters<typeof buildTrainingReport>[1][number]>(join(o.dir, 'metrics.jsonl'));
      const path = resolve(join(o.dir, 'report.html'));
      const compare = read('compare.json');
      writeFileAtomic(
        path,
        await buildTrainingReport(
          `auraprune ${compare ? 'fine-tune' : 'training run'}: ${o.dir}`,
          metrics,
          read('result.json'),
          read('config.json'),
          existsSync(join(o.dir, 'web', 'index.html')) ? 'web/index.html' : undefined,
          compare,
        ),
      );
      if (o.png) await exportChartPngs(path, join(o.dir, 'png'));
      console.log(path);
    });

  program
    .command('worker')
    .description('run experiment cells from a BullMQ queue (any number of workers, on any machine sharing the paths)')
    .requiredOption(
      '--queue <url>',
      'redis://HOST:PORT[/DB] (rediss:// for TLS); the password from --queue-password-file or REDIS_PASSWORD',
    )
    .option('--queue-password-file <file>', 'Redis password from this file (or REDIS_PASSWORD), kept out of the URL and `ps`')
    .option('--concurrency <n>', 'cells at once in this process', int, 1)
    .option('--lock-minutes <m>', "how long a cell's lock lasts without renewal (a dead worker's cell is taken over after it)", num, 0.5)
    .option('--root <dir>', "jobs' directories must lie inside this one (default: the working directory)")
    .option(
      '--data <path>',
      "this worker's copy of the jobs' data set (a job names its format, never a path; default CIFAR-10 from CIFAR10_DIR or the cache)",
    )
    .option('--threads <n>', 'threads (libtorch and aura counting)', int)
    .option('--backend <name>', 'libtorch | cpu | auto', 'auto')
    .action(async (o) => {
      if (o.queuePasswordFile) process.env.REDIS_PASSWORD_FILE = o.queuePasswordFile; // children inherit it
      if (!(o.lockMinutes > 0)) throw new Error(`--lock-minutes must be positive, got ${o.lockMinutes}`);
      if (o.root && !existsSync(o.root)) throw new Error(`--root ${o.root}: no such directory`);
      connectionFrom(o.queue); // a bad URL stops here, not in the reconnect loop
      // this process only holds the queue connection and the locks; cells run in child processes
      const w = startWorker(o.queue, {
        concurrency: o.concurrency,
        lockMinutes: o.lockMinutes,
        root: o.root,
        data: o.data,
        threads: o.threads,
        backend: o.backend,
        log: (s) => process.stderr.write(`${new Date().toISOString()} ${s}\n`),
        onFatal: (m) => stop(m, 2),
      });
      process.stderr.write(
        `worker on ${o.queue.replace(/\/\/[^@/]*@/, '//***@')}; Ctrl-C stops it (a cell in progress is taken over by another worker)\n`,
      );
      // stops within seconds whatever state the queue is in (Redis down, a cell running): the cell's
      // child is stopped with the worker, and the close gets a deadline in case Redis never answers
      let stopping = false;
      function stop(why: string, code: number) {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`${new Date().toISOString()} ${why}: stopping\n`);
        setTimeout(() => process.exit(code), 3000).unref();
        void w.close().finally(() => process.exit(code));
      }
      process.once('SIGINT', () => stop('SIGINT', 130));
      process.once('SIGTERM', () => stop('SIGTERM', 143));
      await new Promise(() => {});
    });

  program
    .command('demo')
    .description(
      'the whole path on the airbench preset (half width, CIFAR-10 subset) in a few minutes: train, score, prune, fine-tune, report',
    )
    .option('--data <dir>', 'CIFAR-10 binary folder (else CIFAR10_DIR, the cache, or download)')
    .option('--out <dir>', 'output directory', 'runs/demo')
    .option('--train-images <n>', 'training images used (a prefix of the training set)', int, 12000)
    .option('--epochs <n>', 'base training epochs', int, 4)
    .option('--threads <n>', 'threads (libtorch and aura counting)', int)
    .option('--backend <name>', 'libtorch | cpu | auto', 'auto')
    .action(async (o) => {
      const t0 = performance.now();
      const backend = await setupBackend(o);
      const say = (m: string) => process.stderr.write(`\n== ${m} (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
      say(`backend ${backend}; loading CIFAR-10`);
      const r = await runDemo({ data: o.data, out: o.out, trainImages: o.trainImages, epochs: o.epochs }, say);
      say('3/3 report');
      const path = await writeReport(r.expDir, 'auraprune demo (airbench preset at half width, CIFAR-10 subset)', backend);
      console.log(
        `Each row: the base model with 50% of its FLOPs removed (the same fraction from every layer; the criterion picks which filters), ` +
          `then fine-tuned for ${r.finetuneEpochs} epochs. val acc: on ${r.valImages} held-out training images; test acc: on the first ${r.testImages} CIFAR-10 test images; ` +
          `scoring s: time to score every filter.\n`,
      );
      console.log(table(r.expDir));
      console.log(`\nreport: ${path}\ndemo wall time: ${((performance.now() - t0) / 60000).toFixed(1)} min`);
    });
}
