/** `auraprune experiment`, `auraprune robustness`, `auraprune report`, `auraprune demo`. */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { balancedSample, subset } from '../../data/pipeline.js';
import { readResults, runExperiment } from '../../experiment/grid.js';
import { connectionFrom, QueueProgress, runExperimentOnQueue, startWorker } from '../../experiment/queue.js';
import { robustness } from '../../experiment/robustness.js';
import { loadCifarModel } from '../../models/io.js';
import { buildModel } from '../../models/zoo.js';
import { CRITERIA } from '../../prune/importance/registry.js';
import { buildReport, buildTrainingReport, summarise } from '../../report/html.js';
import { exportChartPngs } from '../../report/png.js';
import { trainModel, TrainConfig } from '../../train/loop.js';
import { airbenchRecipe, finetuneRecipe } from '../../train/recipes.js';
import { initWhitening } from '../../models/airbench.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { claimRunDir } from '../../util/rundir.js';
import { readJsonLines } from '../../util/jsonl.js';
import { int, num, setupBackend } from '../options.js';
import { scoreOptions, ScoreCliOptions } from './prune.js';
import { loadData } from './train.js';

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const nums = (v: string) => list(v).map(Number);

export function machine(backend: string): string {
  return `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, backend ${backend}`;
}

/** The base model and the data split it was trained with (read from its run's config.json). */
export async function resolveBase(base: string) {
  const modelDir = existsSync(join(base, 'best', 'model.json')) ? join(base, 'best') : base;
  const cfgPath = existsSync(join(base, 'config.json')) ? join(base, 'config.json') : null;
  const cfg = cfgPath ? JSON.parse(readFileSync(cfgPath, 'utf8')) : {};
  return {
    model: await loadCifarModel(modelDir),
    modelDir,
    valSize: cfg.valSize as number | undefined,
    seed: cfg.seed as number | undefined,
    trainSize: cfg.trainSize as number | undefined,
    trainLimit: (cfg.trainLimit ?? undefined) as number | undefined,
    paramGroups: cfg.paramGroups as string | undefined,
    batch: cfg.batch as number | undefined,
    /** where the base run read CIFAR-10 (used when --data is not given) */
    dataDir: (typeof cfg.dataDir === 'string' && existsSync(cfg.dataDir) ? cfg.dataDir : undefined) as string | undefined,
  };
}

export async function writeReport(out: string, title: string, backend: string, pngs = false): Promise<string> {
  const read = (f: string) => (existsSync(join(out, f)) ? JSON.parse(readFileSync(join(out, f), 'utf8')) : undefined);
  const html = await buildReport({
    title,
    base: read('base.json'),
    results: readResults(join(out, 'results.jsonl')),
    robustness: read('robustness.json'),
    inspect: read('inspect.json'),
    config: read('config.json'),
    machine: machine(backend),
  });
  const path = resolve(join(out, 'report.html'));
  writeFileAtomic(path, html);
  if (pngs) {
    const r = await exportChartPngs(path, join(out, 'png'));
    if (r.skipped) process.stderr.write(`PNG export skipped: ${r.skipped}\n`);
  }
  return path;
}

export function table(out: string): string {
  const base = existsSync(join(out, 'base.json')) ? JSON.parse(readFileSync(join(out, 'base.json'), 'utf8')) : null;
  const rows = summarise(readResults(join(out, 'results.jsonl')));
  const lines = [
    '| criterion | target | seeds | FLOPs removed | params removed | val acc | test acc (min-max) | scoring s |',
    '|---|---|---|---|---|---|---|---|',
  ];
  if (base) lines.push(`| (base) | - | - | 0% | 0% | ${(100 * base.valAcc).toFixed(2)}% | ${(100 * base.testAcc).toFixed(2)}% | - |`);
  for (const c of rows)
    lines.push(
      `| ${c.criterion} | ${c.target} | ${c.seeds} | ${(100 * c.flopsRemoved).toFixed(1)}% | ${(100 * c.paramsRemoved).toFixed(1)}% | ${(100 * c.valAcc).toFixed(2)}% | ${(100 * c.testAcc).toFixed(2)}% (${(100 * c.testLo).toFixed(2)}-${(100 * c.testHi).toFixed(2)}) | ${c.scoringSeconds.toFixed(2)} |`,
    );
  return lines.join('\n');
}

function gridOptions(o: ScoreCliOptions & Record<string, unknown>) {
  return {
    perClass: o.perClass,
    where: o.where,
    maxRemove: o.maxRemove as number,
    normalize: o.normalize as 'max',
    scoring: {
      quantize: { levels: o.levels, zeroBin: o.zeroBin },
      aura: { neighbourhood: o.neighbourhood, reduce: o.reduce, estimator: o.estimator },
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
    .action(async (o) => {
      const backend = await setupBackend(o);
      if (o.allocation === 'sensitivity')
        throw new Error('--allocation sensitivity is available in `prune` and `bench prune`; experiment takes uniform or global');
      const b = await resolveBase(o.base);
      const data = await loadData(o.data ?? b.dataDir, b.valSize ?? o.valSize, b.seed ?? o.seed, b.trainLimit);
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
            data: { dataDir: data.dir, valSize: data.val.n, seed: b.seed ?? o.seed, trainLimit: b.trainLimit },
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
      const model = await loadCifarModel(o.model);
      const data = await loadData(o.data, o.valSize, o.seed);
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
      const read = (f: string) => (existsSync(join(o.dir, f)) ? JSON.parse(readFileSync(join(o.dir, f), 'utf8')) : undefined);
      const metrics = readJsonLines<Parameters<typeof buildTrainingReport>[1][number]>(join(o.dir, 'metrics.jsonl'));
      const path = resolve(join(o.dir, 'report.html'));
      writeFileAtomic(
        path,
        await buildTrainingReport(
          `auraprune training run: ${o.dir}`,
          metrics,
          read('result.json'),
          read('config.json'),
          existsSync(join(o.dir, 'web', 'index.html')) ? 'web/index.html' : undefined,
        ),
      );
      if (o.png) await exportChartPngs(path, join(o.dir, 'png'));
      console.log(path);
    });

  program
    .command('worker')
    .description('run experiment cells from a BullMQ queue (any number of workers, on any machine sharing the paths)')
    .requiredOption('--queue <url>', 'redis://[:PASSWORD@]HOST:PORT[/DB] (rediss:// for TLS)')
    .option('--concurrency <n>', 'cells at once in this process', int, 1)
    .option('--lock-minutes <m>', "how long a cell's lock lasts without renewal (a dead worker's cell is taken over after it)", num, 0.5)
    .option('--root <dir>', "jobs' directories must lie inside this one (default: the working directory)")
    .option('--data <dir>', "this worker's CIFAR-10 binary folder (else CIFAR10_DIR or the cache)")
    .option('--threads <n>', 'libtorch threads', int)
    .option('--backend <name>', 'libtorch | cpu | auto', 'auto')
    .action(async (o) => {
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
      });
      process.stderr.write(
        `worker on ${o.queue.replace(/\/\/[^@/]*@/, '//***@')}; Ctrl-C stops it (a cell in progress is taken over by another worker)\n`,
      );
      const stop = () => void w.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
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
    .option('--threads <n>', 'libtorch threads', int)
    .option('--backend <name>', 'libtorch | cpu | auto', 'auto')
    .action(async (o) => {
      const t0 = performance.now();
      const backend = await setupBackend(o);
      const say = (s: string) => process.stderr.write(`\n== ${s} (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
      say(`backend ${backend}; loading CIFAR-10`);
      const full = await loadData(o.data, 1000, 1, o.trainImages);
      const data = {
        train: full.train,
        val: full.val,
        test: subset(
          full.test,
          Array.from({ length: 2000 }, (_, i) => i),
        ),
      };
      // a rerun into the same --out continues only the same settings (never mixes old and new numbers)
      const { release } = claimRunDir(
        o.out,
        { trainImages: o.trainImages, epochs: o.epochs, data: 'cifar10' },
        { resume: true, marker: 'base', record: { command: 'demo' } },
      );
      process.once('exit', release);
      const runDir = join(o.out, 'base');
      // the airbench preset's network at half width and recipe at batch 256 (12k images give ~45 steps per epoch)
      const cfg = airbenchRecipe({ epochs: o.epochs, batch: 256, seed: 1 });
      say(`1/3 training the airbench preset (width 0.5) on ${data.train.n} images for ${o.epochs} epochs`);
      writeFileAtomic(
        join(mkdirp(runDir), 'config.json'),
        JSON.stringify({ command: 'demo', model: 'airbench', width: 0.5, valSize: data.val.n, ...cfg }, null, 1),
      );
      const net = buildModel('airbench', { width: 0.5, seed: 1 });
      initWhitening(net, data.train);
      await trainModel(net, cfg, data, runDir, { resume: true });
      const base = await loadCifarModel(join(runDir, 'best'));
      say('2/3 scoring with aura, l1 and random; pruning 50% of FLOPs (the same fraction from every layer); fine-tuning each for 2 epochs');
      const expDir = join(o.out, 'experiment');
      const finetune = finetuneRecipe(cfg, { epochs: 2, lrScale: 0.5, seed: 1 });
      const opts = {
        criteria: ['aura', 'l1', 'random'],
        targets: [0.5],
        by: 'flops' as const,
        seeds: [1],
        finetune,
        perClass: 20,
        where: 'relu' as const,
        maxRemove: 0.9,
        normalize: 'max' as const,
        scoring: { quantize: { levels: 8, zeroBin: true } },
      };
      writeFileAtomic(join(mkdirp(expDir), 'config.json'), JSON.stringify({ command: 'demo', ...opts }, null, 1));
      await runExperiment(base, data, expDir, opts);
      say('3/3 report');
      const path = await writeReport(expDir, 'auraprune demo (airbench preset at half width, CIFAR-10 subset)', backend);
      console.log(
        `Each row: the base model with 50% of its FLOPs removed (the same fraction from every layer; the criterion picks which filters), ` +
          `then fine-tuned for 2 epochs. val acc: on ${data.val.n} held-out training images; test acc: on the first ${data.test.n} CIFAR-10 test images; ` +
          `scoring s: time to score every filter.\n`,
      );
      console.log(table(expDir));
      console.log(`\nreport: ${path}\ndemo wall time: ${((performance.now() - t0) / 60000).toFixed(1)} min`);
    });
}

function mkdirp(d: string): string {
  mkdirSync(d, { recursive: true });
  return d;
}
