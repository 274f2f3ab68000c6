/**
 * Experiment and study cells as jobs on BullMQ over Redis, so one grid can use several machines
 * (`auraprune experiment|study ... --queue redis://HOST:PORT` and `auraprune worker --queue ...`).
 *
 * - The submitting side enqueues the cells results.jsonl does not hold yet. A job's id is the
 *   directory's settings hash plus the cell key, so a rerun (or a second submitter) adds nothing twice.
 * - A worker runs a cell exactly as a local run does (grid.ts `runCell`) and returns its result line;
 *   the submitter writes results.jsonl (and the report) as results arrive. Workers read the base model
 *   and write scores and fine-tune checkpoints under the experiment directory, so they need the same
 *   paths (a shared filesystem); a cell restarted on another worker resumes from its checkpoint there.
 * - Failures use the engine's own mechanisms: a worker that dies leaves a stalled job that another
 *   worker takes over; errors are retried with exponential backoff; a cell failing `attempts` times is
 *   reported with its error instead of being retried forever.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Job, Queue, QueueEvents, Worker } from 'bullmq';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { loadData } from '../data/splits.js';
import { loadCifarModel } from '../models/io.js';
import { repairJsonLines } from '../util/jsonl.js';
import { settingsHash } from '../util/rundir.js';
import { cellKey, CellSpec, ExperimentOptions, ResultLine, runCell } from './grid.js';
import {
  noisyCopy,
  prepareStudy,
  runStability,
  runStudyCell,
  StudyCell,
  studyCells,
  studyKey,
  StudyLine,
  StudyOptions,
  StudySettings,
} from './study.js';

export const QUEUE_NAME = 'auraprune-cells';

/** Where a worker finds the submitter's data split (the base run's settings). */
export interface DataSpec {
  dataDir?: string;
  valSize: number;
  seed: number;
  trainLimit?: number;
}

export interface CellJob {
  kind?: 'experiment';
  out: string;
  baseDir: string;
  data: DataSpec;
  options: ExperimentOptions;
  cell: CellSpec;
}

/** A study cell (study.ts): the directory's allocations.json holds the shared counts. */
export interface StudyCellJob {
  kind: 'study';
  out: string;
  baseDir: string;
  data: DataSpec;
  settings: StudySettings;
  cell: StudyCell;
}

/** ioredis connection options from redis://[:password@]host:port[/db]. */
export function connectionFrom(url: string): { host: string; port: number; password?: string; db?: number; maxRetriesPerRequest: null } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--queue ${url}: expected redis://HOST:PORT`);
  }
  if (u.protocol !== 'redis:') throw new Error(`--queue ${url}: expected redis://HOST:PORT`);
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 6379),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
    maxRetriesPerRequest: null,
  };
}

/**
 * Enqueues the grid's missing cells and waits for them; result lines are appended to results.jsonl
 * as they arrive. Returns the cells that failed for good, with their errors.
 */
export async function runExperimentOnQueue(
  url: string,
  job: Omit<CellJob, 'cell'>,
  o: { attempts?: number; backoffMs?: number; onLine?: (l: ResultLine) => void; onFailed?: (key: string, error: string) => void } = {},
): Promise<{ newCells: number; failed: Array<{ key: string; error: string }> }> {
  const connection = connectionFrom(url);
  const out = resolve(job.out);
  const resultsPath = resolve(out, 'results.jsonl');
  const done = new Set(repairJsonLines<ResultLine>(resultsPath).map((r) => r.key));
  const opts = job.options;
  const cells = opts.seeds.flatMap((seed) =>
    opts.criteria.flatMap((criterion) => opts.targets.map((target) => ({ criterion, target, seed }))),
  );
  const missing = cells.filter((c) => !done.has(cellKey(c.criterion, c.target, c.seed)));
  const queue = new Queue(QUEUE_NAME, { connection });
  const events = new QueueEvents(QUEUE_NAME, { connection });
  // cells of one directory with one set of settings share an id prefix: resubmitting adds nothing
  const prefix = settingsHash({
    out,
    baseDir: resolve(job.baseDir),
    data: job.data,
    options: { ...opts, criteria: [], targets: [], seeds: [] },
  });
  try {
    await events.waitUntilReady();
    const jobs = await Promise.all(
      missing.map((cell) =>
        queue.add('cell', { ...job, out, baseDir: resolve(job.baseDir), cell } satisfies CellJob, {
          jobId: `${prefix}-${cellKey(cell.criterion, cell.target, cell.seed).replace(/[|:]/g, '_')}`,
          attempts: o.attempts ?? 3,
          backoff: { type: 'exponential', delay: o.backoffMs ?? 10_000 },
          removeOnComplete: { age: 7 * 86400 },
          removeOnFail: { age: 7 * 86400 },
        }),
      ),
    );
    return await collect(
      jobs,
      missing.map((c) => cellKey(c.criterion, c.target, c.seed)),
      events,
      done,
      resultsPath,
      o,
    );
  } finally {
    await events.close();
    await queue.close();
  }
}

/**
 * Waits for every job and appends each finished cell's line to results.jsonl (the submitter, holding
 * the directory's lock, is its only writer; a key already there is not repeated).
 */
async function collect<L extends { key: string }>(
  jobs: Job[],
  keys: string[],
  events: QueueEvents,
  done: Set<string>,
  resultsPath: string,
  o: { onLine?: (l: L) => void; onFailed?: (key: string, error: string) => void },
): Promise<{ newCells: number; failed: Array<{ key: string; error: string }> }> {
  const failed: Array<{ key: string; error: string }> = [];
  let newCells = 0;
  await Promise.all(
    jobs.map(async (j, i) => {
      try {
        const line = (await j.waitUntilFinished(events)) as L;
        if (!done.has(line.key)) {
          appendFileSync(resultsPath, JSON.stringify(line) + '\n');
          done.add(line.key);
          newCells++;
        }
        o.onLine?.(line);
      } catch (e) {
        failed.push({ key: keys[i], error: (e as Error).message });
        o.onFailed?.(keys[i], (e as Error).message);
      }
    }),
  );
  return { newCells, failed };
}

/**
 * The study's missing cells on the queue (the submitter prepares base.json and the shared allocations
 * first, and runs the stability part itself afterwards); lines are appended as they arrive.
 */
export async function runStudyOnQueue(
  url: string,
  job: { out: string; baseDir: string; data: DataSpec; options: StudyOptions },
  local: { base: LayersModel; split: Awaited<ReturnType<typeof loadData>> },
  o: { attempts?: number; backoffMs?: number; onLine?: (l: StudyLine) => void; onFailed?: (key: string, error: string) => void } = {},
): Promise<{ newCells: number; failed: Array<{ key: string; error: string }> }> {
  const connection = connectionFrom(url);
  const out = resolve(job.out);
  const resultsPath = resolve(out, 'results.jsonl');
  const done = new Set(repairJsonLines<StudyLine>(resultsPath).map((r) => r.key));
  await prepareStudy(local.base, local.split, out, job.options);
  const missing = studyCells(job.options).filter(([k]) => !done.has(k));
  const queue = new Queue(QUEUE_NAME, { connection });
  const events = new QueueEvents(QUEUE_NAME, { connection });
  const prefix = settingsHash({ out, baseDir: resolve(job.baseDir), data: job.data, settings: job.options.settings });
  try {
    await events.waitUntilReady();
    const jobs = await Promise.all(
      missing.map(([key, cell], i) =>
        queue.add(
          'study-cell',
          {
            kind: 'study',
            out,
            baseDir: resolve(job.baseDir),
            data: job.data,
            settings: job.options.settings,
            cell,
          } satisfies StudyCellJob,
          // the plan's order is its priority
          {
            jobId: `${prefix}-${key.replace(/[|:]/g, '_')}`,
            priority: Math.min(2_000_000, i + 1),
            attempts: o.attempts ?? 3,
            backoff: { type: 'exponential', delay: o.backoffMs ?? 10_000 },
          },
        ),
      ),
    );
    const r = await collect(
      jobs,
      missing.map(([k]) => k),
      events,
      done,
      resultsPath,
      o,
    );
    if (job.options.stability) await runStability(local.base, local.split, out, job.options);
    return r;
  } finally {
    await events.close();
    await queue.close();
  }
}

/** A worker: runs cells from the queue until closed. Models and data are cached per base and split. */
export function startWorker(
  url: string,
  o: { concurrency?: number; lockMinutes?: number; log?: (s: string) => void } = {},
): { close: () => Promise<void>; worker: Worker } {
  const connection = connectionFrom(url);
  const models = new Map<string, Promise<LayersModel>>();
  const splits = new Map<string, ReturnType<typeof loadData>>();
  const noisy = new Map<string, ReturnType<typeof noisyCopy>>();
  const worker = new Worker(
    QUEUE_NAME,
    async (job: Job<CellJob | StudyCellJob>) => {
      const { baseDir, data, out } = job.data;
      if (!models.has(baseDir)) models.set(baseDir, loadCifarModel(baseDir));
      const dk = JSON.stringify(data);
      if (!splits.has(dk)) splits.set(dk, loadData(data.dataDir, data.valSize, data.seed, data.trainLimit));
      const [base, split] = await Promise.all([models.get(baseDir)!, splits.get(dk)!]);
      if (job.data.kind === 'study') {
        const { settings, cell } = job.data;
        o.log?.(
          `study cell ${studyKey(cell.budget, cell.allocation, cell.variant, cell.target, cell.seed)} of ${out} (attempt ${job.attemptsMade + 1})`,
        );
        const counts = JSON.parse(readFileSync(join(out, 'allocations.json'), 'utf8')) as Record<string, number[]>;
        const nk = `${dk}|${settings.noisySigma}`;
        const noisyTest = () => {
          if (!noisy.has(nk)) noisy.set(nk, noisyCopy(split.test, settings.noisySigma, 7));
          return noisy.get(nk)!;
        };
        return runStudyCell(base, split, out, settings, cell, counts, noisyTest);
      }
      const { options, cell } = job.data;
      o.log?.(`cell ${cellKey(cell.criterion, cell.target, cell.seed)} of ${out} (attempt ${job.attemptsMade + 1})`);
      return runCell(base, split, out, { ...options, quiet: true }, cell);
    },
    {
      connection,
      concurrency: o.concurrency ?? 1,
      // a cell's tensor work blocks the event loop for long stretches, so the lock cannot be renewed on
      // BullMQ's default 30 s clock: hold it long enough (a dead worker's cell is taken over after this)
      lockDuration: (o.lockMinutes ?? 30) * 60_000,
      stalledInterval: (o.lockMinutes ?? 30) * 60_000,
    },
  );
  return { worker, close: () => worker.close() };
}
