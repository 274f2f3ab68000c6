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
 * - The submitter follows its jobs by polling their state (not by queue events, which are lost while
 *   Redis restarts), so a Redis restart only pauses a run; run Redis with `--appendonly yes` so the
 *   queue itself survives one.
 * - A job is data from the network: it is checked field by field before use; its paths must lie inside
 *   the worker's root directory (its working directory unless `--root`), and the CIFAR-10 folder is the
 *   worker's own (`--data`), never the job's. A malformed job fails at once, without retries.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { loadData } from '../data/splits.js';
import { loadImageModel } from '../models/io.js';
import { repairJsonLines, readJsonFile } from '../util/jsonl.js';
import { settingsHash } from '../util/rundir.js';
import { ruleError } from './option_rules.js';
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
  VARIANTS,
} from './study.js';
import { CRITERIA } from '../prune/importance/registry.js';
import { DATASET_NAMES } from '../data/open.js';

export const QUEUE_NAME = 'auraprune-cells';

/** Where a worker finds the submitter's data split (the base run's settings). */
export interface DataSpec {
  dataDir?: string;
  valSize: number;
  seed: number;
  trainLimit?: number;
  /** the data set's format or name (data/open.ts DATASET_NAMES); the worker's --data says where it is */
  dataset?: string;
  resize?: [number, number];
  labels?: 'fine' | 'coarse';
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

function passwordFromEnv(): { password?: string } {
  if (process.env.REDIS_PASSWORD) return { password: process.env.REDIS_PASSWORD };
  const file = process.env.REDIS_PASSWORD_FILE;
  if (!file) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(
      `--queue-password-file ${file}: cannot read it (${(e as NodeJS.ErrnoException).code}); give a readable file holding the password`,
      {
        cause: e,
      },
    );
  }
  const password = text.replace(/\r?\n$/, '');
  if (!password) throw new Error(`--queue-password-file ${file} is empty; it should hold the Redis password`);
  return { password };
}

/**
 * ioredis connection options from redis://[user:password@]host:port[/db], or rediss:// for TLS. A
 * password not in the URL comes from REDIS_PASSWORD, or from the file REDIS_PASSWORD_FILE names
 * (`--queue-password-file`): a URL's password shows in `ps` to every local user, these do not.
 */
export function connectionFrom(url: string): {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: Record<string, never>;
  maxRetriesPerRequest: null;
} {
  let u: URL;
  const expected = `--queue ${url.replace(/\/\/[^@/]*@/, '//***@')}: expected redis://[:PASSWORD@]HOST:PORT[/DB] or rediss:// (TLS)`;
  try {
    u = new URL(url);
  } catch {
    throw new Error(expected);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(expected);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  if (db !== undefined && !(Number.isInteger(db) && db >= 0)) throw new Error(expected);
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : passwordFromEnv()),
    ...(db !== undefined ? { db } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
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
  o: { attempts?: number; backoffMs?: number } & CollectOptions<ResultLine> = {},
): Promise<{ newCells: number; failed: Array<{ key: string; error: string }> }> {
  const connection = connectionFrom(url);
  const out = resolve(job.out);
  const resultsPath = resolve(out, 'results.jsonl');
  mkdirSync(out, { recursive: true }); // workers check that the directory exists where they run
  const done = new Set(repairJsonLines<ResultLine>(resultsPath).map((r) => r.key));
  const opts = job.options;
  const cells = opts.seeds.flatMap((seed) =>
    opts.criteria.flatMap((criterion) => opts.targets.map((target) => ({ criterion, target, seed }))),
  );
  const missing = cells.filter((c) => !done.has(cellKey(c.criterion, c.target, c.seed)));
  const queue = new Queue(QUEUE_NAME, { connection });
  queue.on('error', () => {}); // unreachable Redis: collect() polls again
  // cells of one directory with one set of settings share an id prefix: resubmitting adds nothing
  const prefix = settingsHash({
    out,
    baseDir: resolve(job.baseDir),
    data: job.data,
    options: { ...opts, criteria: [], targets: [], seeds: [] },
  });
  try {
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
      queue,
      jobs,
      missing.map((c) => cellKey(c.criterion, c.target, c.seed)),
      done,
      resultsPath,
      o,
    );
  } finally {
    await queue.close();
  }
}

/** What the submitter reports while it waits (cells by state). */
export interface QueueProgress {
  done: number;
  active: number;
  waiting: number;
  failed: number;
  total: number;
}

export interface CollectOptions<L> {
  onLine?: (l: L) => void;
  onFailed?: (key: string, error: string) => void;
  onProgress?: (p: QueueProgress) => void;
  /** Milliseconds between polls of the jobs' states (default 1000). */
  pollMs?: number;
}

/**
 * Waits for every job by polling its state and appends each finished cell's line to results.jsonl
 * (the submitter, holding the directory's lock, is its only writer; a key already there is not
 * repeated). Polling survives a Redis restart, where event subscriptions would miss what happened
 * while it was down; an unreachable Redis only delays the next poll.
 */
async function collect<L extends { key: string }>(
  queue: Queue,
  jobs: Job[],
  keys: string[],
  done: Set<string>,
  resultsPath: string,
  o: CollectOptions<L>,
): Promise<{ newCells: number; failed: Array<{ key: string; error: string }> }> {
  const failed: Array<{ key: string; error: string }> = [];
  let newCells = 0;
  const pending = new Map(jobs.map((j, i) => [j, keys[i]]));
  let last = '';
  while (pending.size) {
    let active = 0;
    try {
      for (const [j, key] of [...pending]) {
        const state = await j.getState();
        if (state === 'active') active++;
        if (state !== 'completed' && state !== 'failed') continue;
        const fresh = await Job.fromId(queue, j.id!);
        if (!fresh) continue;
        pending.delete(j);
        if (state === 'completed') {
          const line = fresh.returnvalue as L;
          if (!done.has(line.key)) {
            appendFileSync(resultsPath, JSON.stringify(line) + '\n');
            done.add(line.key);
            newCells++;
          }
          o.onLine?.(line);
        } else {
          failed.push({ key, error: fresh.failedReason });
          o.onFailed?.(key, fresh.failedReason);
        }
      }
    } catch {
      // Redis unreachable (restarting): try again at the next poll
    }
    const p = {
      done: jobs.length - pending.size - failed.length,
      active,
      waiting: pending.size - active,
      failed: failed.length,
      total: jobs.length,
    };
    const now = JSON.stringify(p);
    if (now !== last) o.onProgress?.(p);
    last = now;
    if (pending.size) await new Promise((r) => setTimeout(r, o.pollMs ?? 1000));
  }
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
  o: { attempts?: number; backoffMs?: number } & CollectOptions<StudyLine> = {},
): Promise<{ newCells: number; failed: Array<{ key: string; error: string }> }> {
  const connection = connectionFrom(url);
  const out = resolve(job.out);
  const resultsPath = resolve(out, 'results.jsonl');
  const done = new Set(repairJsonLines<StudyLine>(resultsPath).map((r) => r.key));
  await prepareStudy(local.base, local.split, out, job.options);
  const missing = studyCells(job.options).filter(([k]) => !done.has(k));
  const queue = new Queue(QUEUE_NAME, { connection });
  queue.on('error', () => {}); // unreachable Redis: collect() polls again
  const prefix = settingsHash({ out, baseDir: resolve(job.baseDir), data: job.data, settings: job.options.settings });
  try {
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
      queue,
      jobs,
      missing.map(([k]) => k),
      done,
      resultsPath,
      o,
    );
    if (job.options.stability) await runStability(local.base, local.split, out, job.options);
    return r;
  } finally {
    await queue.close();
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const isInt = (v: unknown, min: number) => Number.isInteger(v) && (v as number) >= min;
const isFraction = (v: unknown) => typeof v === 'number' && v > 0 && v < 1;

/**
 * Checks a job's payload before anything is read or written for it: its shape and values, and that
 * its directories lie inside `root` (symlinks resolved). Returns the job with those directories as
 * checked; throws UnrecoverableError (no retries) naming the job and the first problem.
 */
export function checkJob(id: string | undefined, data: unknown, root: string): CellJob | StudyCellJob {
  const bad = (what: string): never => {
    throw new UnrecoverableError(`malformed job ${id ?? '?'}: ${what}`);
  };
  if (!isObj(data)) bad('the payload is not an object');
  const d = data as Record<string, unknown>;
  if (d.kind !== undefined && d.kind !== 'experiment' && d.kind !== 'study') bad(`unknown kind ${JSON.stringify(d.kind)}`);
  const realRoot = realpathSync(root);
  const inside = (field: 'out' | 'baseDir'): string => {
    const v = d[field];
    if (typeof v !== 'string' || !v) bad(`${field} is not a path`);
    const p = resolve(realRoot, v as string);
    // resolve symlinks of what exists, so a link inside the root cannot point outside it
    const real = existsSync(p) ? realpathSync(p) : p;
    const rel = relative(realRoot, real);
    if (rel.startsWith('..') || isAbsolute(rel))
      bad(`${field} ${v} is outside the worker's root ${realRoot} (start the worker with --root)`);
    if (!existsSync(real)) bad(`${field} ${v} does not exist on this worker (the paths must be shared)`);
    return real;
  };
  const out = inside('out');
  const baseDir = inside('baseDir');
  const spec = d.data;
  if (!isObj(spec) || !isInt(spec.valSize, 1) || !isInt(spec.seed, 0) || !(spec.trainLimit == null || isInt(spec.trainLimit, 1)))
    bad('data must be {valSize, seed, trainLimit?} with positive integers');
  const ds = spec as Record<string, unknown>;
  if (ds.dataset != null && !(DATASET_NAMES as readonly unknown[]).includes(ds.dataset))
    bad(`data.dataset must be one of ${DATASET_NAMES.join(', ')}`);
  if (
    ds.resize != null &&
    !(Array.isArray(ds.resize) && ds.resize.length === 2 && ds.resize.every((v: unknown) => isInt(v, 1) && (v as number) <= 4096))
  )
    bad('data.resize must be [height, width] with integers in [1, 4096]');
  if (ds.labels != null && ds.labels !== 'fine' && ds.labels !== 'coarse') bad('data.labels must be fine or coarse');
  const cell = d.cell;
  if (!isObj(cell) || !isFraction(cell.target) || !isInt(cell.seed, 0)) bad('cell must hold a target in (0, 1) and an integer seed');
  const c = cell as Record<string, unknown>;
  if (d.kind === 'study') {
    if (!isObj(d.settings)) bad('settings is not an object');
    if (typeof c.variant !== 'string' || !Object.hasOwn(VARIANTS, c.variant)) bad(`unknown variant ${JSON.stringify(c.variant)}`);
    if (!['none', 'epoch', 'full'].includes(c.budget as string)) bad(`unknown budget ${JSON.stringify(c.budget)}`);
    if (!['uniform', 'sensitivity'].includes(c.allocation as string)) bad(`unknown allocation ${JSON.stringify(c.allocation)}`);
  } else {
    const opts = d.options;
    if (!isObj(opts) || !isObj(opts.finetune) || !isObj(opts.scoring)) bad('options must hold finetune and scoring settings');
    if (typeof c.criterion !== 'string' || !(CRITERIA as readonly string[]).includes(c.criterion))
      bad(`unknown criterion ${JSON.stringify(c.criterion)}`);
  }
  // every number and enum the CLI would have refused is refused here too (option_rules.ts)
  const check = (obj: unknown, path: string, fields: Record<string, string>, optional: string[] = []) => {
    const o = (obj ?? {}) as Record<string, unknown>;
    for (const [field, rule] of Object.entries(fields)) {
      if (o[field] === undefined && optional.includes(field)) continue;
      const err = ruleError(`${path}.${field}`, o[field], rule);
      if (err) bad(err);
    }
  };
  const train = {
    epochs: 'finetuneEpochs',
    batch: 'batch',
    lr: 'lr',
    weightDecay: 'wd',
    momentum: 'momentum',
    labelSmoothing: 'labelSmoothing',
  };
  const trainOptional = ['momentum', 'labelSmoothing'];
  if (d.kind === 'study') {
    const st = d.settings as Record<string, unknown>;
    check(st, 'settings', {
      perClass: 'perClass',
      levels: 'levels',
      where: 'where',
      by: 'by',
      maxRemove: 'maxRemove',
      recalBatches: 'recalBatches',
    });
    check(st.epoch, 'settings.epoch', train, trainOptional);
    check(st.full, 'settings.full', train, trainOptional);
  } else {
    const opts = d.options as Record<string, unknown>;
    check(
      opts,
      'options',
      {
        perClass: 'perClass',
        maxRemove: 'maxRemove',
        recalBatches: 'recalBatches',
        finetuneImages: 'finetuneImages',
        by: 'by',
        where: 'where',
        allocation: 'allocation',
      },
      ['recalBatches', 'finetuneImages', 'allocation'],
    );
    check(opts.finetune, 'options.finetune', train, trainOptional);
  }
  // the checked locations (symlinks resolved), so the cell uses exactly what was checked
  return { ...d, out, baseDir } as unknown as CellJob | StudyCellJob;
}

export interface WorkerOptions {
  concurrency?: number;
  /** Called once on an error retrying cannot fix (authentication); the caller stops the worker. */
  onFatal?: (message: string) => void;
  /** libtorch threads and backend of the child processes that run the cells. */
  threads?: number;
  backend?: string;
  /** How long a cell's lock lasts without renewal (default 0.5); a dead worker's cell is taken over after it. */
  lockMinutes?: number;
  /** Jobs' directories must lie inside this one (default: the working directory). */
  root?: string;
  /** This worker's CIFAR-10 folder (else CIFAR10_DIR or the cache); a job never names one. */
  data?: string;
  log?: (s: string) => void;
}

const models = new Map<string, Promise<LayersModel>>();
const splits = new Map<string, ReturnType<typeof loadData>>();
const noisy = new Map<string, ReturnType<typeof noisyCopy>>();

/**
 * Runs one job's cell (in a worker's child process, queue_processor.ts). Models and data splits are
 * cached per process, so a child that runs many cells loads them once.
 */
export async function processJob(
  job: Pick<Job<unknown>, 'id' | 'data'>,
  o: Pick<WorkerOptions, 'root' | 'data'>,
): Promise<ResultLine | StudyLine> {
  const j = checkJob(job.id, job.data, resolve(o.root ?? process.cwd()));
  const { out, baseDir } = j;
  const data = { valSize: j.data.valSize, seed: j.data.seed, trainLimit: j.data.trainLimit ?? undefined };
  const open = {
    dataset: j.data.dataset ?? undefined,
    resize: j.data.resize ?? undefined,
    labels: j.data.labels ?? undefined,
    quiet: true,
  };
  const dk = JSON.stringify([data, open]);
  if (!splits.has(dk)) splits.set(dk, loadData(o.data, data.valSize, data.seed, data.trainLimit, open));
  const split = await splits.get(dk)!;
  if (!models.has(baseDir)) models.set(baseDir, loadImageModel(baseDir, split.info));
  const base = await models.get(baseDir)!;
  if (j.kind === 'study') {
    const { settings, cell } = j;
    const counts = readJsonFile(join(out, 'allocations.json')) as Record<string, number[]>;
    const nk = `${dk}|${settings.noisySigma}`;
    const noisyTest = () => {
      if (!noisy.has(nk)) noisy.set(nk, noisyCopy(split.test, settings.noisySigma, 7));
      return noisy.get(nk)!;
    };
    return runStudyCell(base, split, out, settings, cell, counts, noisyTest);
  }
  return runCell(base, split, out, { ...j.options, quiet: true }, j.cell);
}

/** The cell a job holds, for log lines (the payload unchecked: this only prints). */
function jobLabel(job: Job<unknown>): string {
  const d = (job.data ?? {}) as { kind?: string; out?: string; cell?: Partial<StudyCell & CellSpec> };
  const c = d.cell ?? {};
  return d.kind === 'study'
    ? `study cell ${studyKey(c.budget!, c.allocation!, c.variant!, c.target!, c.seed!)} of ${d.out}`
    : `cell ${cellKey(c.criterion!, c.target!, c.seed!)} of ${d.out}`;
}

/**
 * A worker: runs cells from the queue until closed. Each cell runs in a child process (BullMQ's
 * sandboxed processor), so this process's event loop stays free to renew the job's lock while the
 * child's tensor work blocks its own: a short lock is safe, and a dead worker's cell is taken over
 * within `lockMinutes`.
 */
/** A Redis error that retrying cannot fix (a wrong or missing password): the worker gives up on it. */
export function isAuthError(message: string): boolean {
  return /WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test(message);
}

export function startWorker(url: string, o: WorkerOptions = {}): { close: () => Promise<void>; worker: Worker } {
  const connection = connectionFrom(url);
  const here = import.meta.url;
  const processor = new URL(`./queue_processor.${here.endsWith('.ts') ? 'ts' : 'js'}`, here);
  const worker = new Worker(QUEUE_NAME, processor, {
    connection,
    concurrency: o.concurrency ?? 1,
    lockDuration: (o.lockMinutes ?? 0.5) * 60_000,
    stalledInterval: (o.lockMinutes ?? 0.5) * 60_000,
    // a cell survives two dead workers before it is failed as "stalled"
    maxStalledCount: 2,
    workerForkOptions: {
      env: {
        ...process.env,
        AURAPRUNE_WORKER_ROOT: resolve(o.root ?? process.cwd()),
        ...(o.data ? { AURAPRUNE_WORKER_DATA: resolve(o.data) } : {}),
        ...(o.threads ? { AURAPRUNE_WORKER_THREADS: String(o.threads) } : {}),
        ...(o.backend ? { AURAPRUNE_WORKER_BACKEND: o.backend } : {}),
      },
    },
  });
  worker.on('active', (job) => o.log?.(`${jobLabel(job)} (attempt ${job.attemptsMade + 1})`));
  // a job whose lock cannot be renewed is no longer this worker's (Redis lost it, or another worker took
  // it over): its cell is stopped so the worker takes new jobs instead of finishing an orphan
  const cancelled = new Set<string>();
  worker.on('lockRenewalFailed', (ids: string[]) => {
    for (const id of ids) {
      if (!cancelled.has(id)) o.log?.(`job ${id}: its lock is gone (Redis restarted or the job was taken over); stopping its cell`);
      cancelled.add(id);
      worker.cancelJob(id, 'lock lost');
    }
  });
  worker.on('failed', (job, e) => o.log?.(`job ${job?.id ?? '?'} failed: ${e.message}`));
  // connection errors (Redis restarting) are retried by ioredis; report each kind once, never throw
  let lastError = '';
  worker.on('error', (e) => {
    if (isAuthError(e.message)) {
      o.onFatal?.(`queue connection refused: ${e.message}; give the password with --queue-password-file or REDIS_PASSWORD`);
      return;
    }
    if (e.message !== lastError) o.log?.(`queue connection: ${e.message} (retrying)`);
    lastError = e.message;
  });
  // force: a cell in progress is not waited for (its child is stopped; another worker takes it over)
  return { worker, close: () => worker.close(true) };
}
