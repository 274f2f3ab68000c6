/** `auraprune study`: the criterion study (src/experiment/study.ts) and its report. */
import { beginInvocation } from '../../experiment/invocations.js';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { prepareStudy, restabilise, runStudy, studyNoisyTest, StudyOptions, VARIANTS } from '../../experiment/study.js';
import { recheckStudy } from '../../experiment/recheck.js';
import { studyPlan } from '../../experiment/study_plan.js';
import { recheckText, writeStudyReport } from '../../report/study.js';
import { runStudyOnQueue } from '../../experiment/queue.js';
import type { TrainConfig } from '../../train/loop.js';
import { finetuneRecipe } from '../../train/recipes.js';
import { claimRunDir, recordedPath } from '../../util/rundir.js';
import { checkModelFitsData, modelFingerprint } from '../../models/io.js';
import { dataFlags, dataOptions, int, num, openedAs, setupBackend } from '../options.js';
import { resolveBase } from '../../experiment/base.js';
import { machine } from '../../util/machine.js';
import { queueProgressPrinter } from './experiment.js';
import { openRunData } from '../../data/splits.js';
import { readJsonFile } from '../../util/jsonl.js';

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function registerStudy(program: Command): void {
  dataOptions(
    program
      .command('study')
      .description(
        'does aura MI prune better, faster, more robustly? criteria at equal allocation, four budgets, seeds, intervals (resumable)',
      ),
  )
    .option('--base <dir>', 'training run directory (runs/X) of the base model (not needed with --report-only)')
    .option('--out <dir>', 'study directory', 'exp/study')
    .option('--quick', 'one target (50% FLOPs), one seed, budgets raw / BN / one epoch, main criteria only')
    .option('--seeds <list>', 'seeds of every stage (default: 1-10, the recovery fine-tune 1-5; --quick: 1)')
    .option('--variants <list>', `restrict every stage to these variants (${Object.keys(VARIANTS).join(', ')})`)
    .option('--full-epochs <n>', 'epochs of the recovery fine-tune (budget "full")', int, 4)
    .option('--lr-scale <f>', "fine-tune peak lr as a fraction of the base recipe's", num, 0.5)
    .option('--per-class <n>', 'calibration images per class', int, 50)
    .option('--levels <g>', 'aura quantisation levels', int, 8)
    .option('--recalibrate-bn <n>', 'batch-norm re-estimation batches after surgery', int, 4)
    .option('--no-stability', 'skip the ranking-stability measurements')
    .option(
      '--recheck <n>',
      "rerun n finished cells (seeded pick: recovery, one epoch, none in turn) and say whether each lands in its row's 95% prediction interval",
      int,
    )
    .option('--recheck-cells <keys>', 'rerun these finished cells instead (keys as in results.jsonl, e.g. full|uniform|aura|0.5|1)')
    .option('--recheck-seed <s>', 'seed of the --recheck pick', int, 1)
    .option('--report-only', 'rebuild study.json, study.md and report.html from the results so far')
    .option('--queue <url>', 'run the cells on BullMQ workers (`auraprune worker --queue URL`) via redis://HOST:PORT; paths must be shared')
    .option('--queue-password-file <file>', 'Redis password from this file (or REDIS_PASSWORD), kept out of the URL and `ps`')
    .option('--threads <n>', 'threads (libtorch and aura counting)', int)
    .option('--backend <name>', 'libtorch | cpu | auto', 'auto')
    .action(async (o) => {
      if (o.queuePasswordFile) process.env.REDIS_PASSWORD_FILE = o.queuePasswordFile; // children inherit it
      const t0 = performance.now();
      const backend = await setupBackend(o);
      if (o.reportOnly) {
        // read-only, from the records alone (the base model need not be on this machine); works while a
        // study is running in the directory (every file it reads is written atomically)
        const cfgPath = join(o.out, 'config.json');
        if (!existsSync(cfgPath) || !existsSync(join(o.out, 'base.json')))
          throw new Error(`${o.out} holds no study yet (no config.json/base.json); run the study first`);
        const cfg = readJsonFile(cfgPath);
        // stability intervals from the cached score files, with today's interval (per-seed means, t)
        restabilise(o.out, cfg.settings, cfg.seeds);
        const path = await writeStudyReport(o.out, 10000, {
          settings: { ...cfg.settings, seeds: cfg.seeds, stages: cfg.stages },
          machine: machine(backend),
          command: `auraprune study --base ${o.base ?? cfg.settings?.base} --out ${o.out}`,
        });
        console.log(readFileSync(join(o.out, 'study.md'), 'utf8'));
        console.log(`report: ${path}`);
        return;
      }
      if (!o.base) throw new Error('--base <dir> is required (the training run of the model to study), except with --report-only');
      const b = await resolveBase(o.base);
      if (!b.paramGroups && !b.batch) process.stderr.write(`note: ${o.base} has no training config.json; fine-tunes use the SGD recipe\n`);
      const plan = studyPlan(!!o.quick);
      const seeds = o.seeds ? list(o.seeds).map(Number) : plan.seeds;
      const only = o.variants ? new Set(list(o.variants)) : null;
      for (const v of only ?? [])
        if (!VARIANTS[v]) throw new Error(`--variants: unknown variant ${v}; choose from ${Object.keys(VARIANTS).join(', ')}`);
      // --seeds names the seeds of every stage (the plan's fewer recovery seeds give way to it)
      const stages = plan.stages
        .map((s) => ({ ...s, variants: s.variants.filter((v) => !only || only.has(v)), ...(o.seeds ? { seeds: undefined } : {}) }))
        .filter((s) => s.variants.length);
      const ft = (epochs: number) => {
        const cfg: Partial<TrainConfig> = finetuneRecipe(b, {
          epochs,
          lrScale: o.lrScale,
          seed: 1,
          batch: b.paramGroups === 'airbench' ? undefined : 128,
        });
        delete cfg.seed; // each cell supplies its own
        return cfg as Omit<TrainConfig, 'seed'>;
      };
      const settings = {
        perClass: o.perClass,
        levels: o.levels,
        where: 'relu' as const,
        by: 'flops' as const,
        maxRemove: 0.9,
        recalBatches: o.recalibrateBn,
        epoch: ft(1),
        full: ft(o.fullEpochs),
        sensitivityCriterion: 'l1',
        noisySigma: 0.02,
      };
      const opts: StudyOptions = {
        settings,
        seeds,
        stages,
        stability:
          o.stability && plan.stability
            ? { ...plan.stability, variants: plan.stability.variants.filter((v) => !only || only.has(v)) }
            : undefined,
        costs: plan.costs ? { ...plan.costs, variants: plan.costs.variants.filter((v) => !only || only.has(v)) } : undefined,
      };
      const baseDir = resolve(o.base);
      // the settings that shape every cell's numbers; the plan (which cells) may grow between runs
      const { release } = claimRunDir(
        o.out,
        {
          // repository-relative when inside the working directory: records committed elsewhere stay valid
          base: recordedPath(baseDir),
          // content, not path: new weights under the same path must not meet cached scores and old rows
          baseSha256: modelFingerprint(b.modelDir),
          valSize: b.valSize ?? null,
          splitSeed: b.seed ?? null,
          trainLimit: b.trainLimit ?? null,
          ...settings,
        },
        { resume: true, marker: 'results.jsonl', record: { command: 'study', seeds, stages, stability: opts.stability ?? null } },
      );
      // the command as typed (every option that shaped this invocation), shell-quoted where needed
      const command = ['auraprune', ...process.argv.slice(2)]
        .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
        .join(' ');
      // every invocation's wall time, so a study run over several sessions adds up from records
      // (a recheck adds no cells to the study, so its time is not the study's: recheck.json has it)
      const recheck = o.recheck !== undefined || !!o.recheckCells;
      const inv = recheck ? null : beginInvocation(o.out, { command, machine: machine(backend) });
      try {
        const data = await openRunData(b.run, dataFlags(o), { valSize: 5000, seed: 1 });
        checkModelFitsData(b.model, data.info, b.modelDir);
        if (recheck) {
          const counts = await prepareStudy(b.model, data, o.out, opts);
          const r = await recheckStudy(b.model, data, o.out, settings, counts, studyNoisyTest(data, settings), {
            n: o.recheck ?? 0,
            keys: o.recheckCells ? list(o.recheckCells) : undefined,
            seed: o.recheckSeed,
          });
          console.log(recheckText(r));
          console.log(`records: ${join(o.out, 'recheck.json')}, ${join(o.out, 'recheck', 'results.jsonl')}`);
          if (r.some((x) => x.inside === false)) process.exitCode = 1;
          return;
        }
        if (o.queue) {
          let queued = 0;
          // cells run on `auraprune worker` processes; this one writes the results and the report
          const r = await runStudyOnQueue(
            o.queue,
            {
              out: o.out,
              baseDir: b.modelDir,
              data: { dataDir: data.dir, valSize: data.val.n, seed: b.seed ?? 1, trainLimit: b.trainLimit, ...openedAs(b.run, o) },
              options: opts,
            },
            { base: b.model, split: data },
            {
              onLine: (l) => {
                process.stderr.write(`cell ${l.key} done\n`);
                inv?.tick(++queued);
              },
              onFailed: (k, e) => process.stderr.write(`cell ${k} failed after its retries: ${e}\n`),
              onProgress: queueProgressPrinter(),
            },
          );
          if (r.failed.length) process.exitCode = 1;
          inv?.end({ complete: !r.failed.length });
        } else {
          const r = await runStudy(b.model, data, o.out, opts, { onCell: (n) => inv?.tick(n) });
          inv?.end({ newCells: r.newCells, complete: r.complete });
        }
        const path = await writeStudyReport(o.out, data.test.n, {
          settings: { ...settings, seeds, stages },
          machine: machine(backend),
          command,
          wallMinutes: (performance.now() - t0) / 60000,
        });
        console.log(readFileSync(join(o.out, 'study.md'), 'utf8'));
        console.log(`report: ${path}`);
      } catch (e) {
        inv?.end({ error: (e as Error).message });
        throw e;
      } finally {
        release();
      }
    });
}
