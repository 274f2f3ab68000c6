/**
 * Experiment cells through BullMQ on a real redis-server: a worker's results equal a local run's,
 * resubmitting adds nothing twice, a cell that fails deterministically is reported after its attempts
 * instead of being retried forever, a malformed or path-escaping job fails at once, a worker killed
 * with SIGKILL mid-cell loses nothing, and a Redis restart mid-run only pauses the grid.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setFallbackLogger, useBestBackend } from '../src/engine/backend/index.js';
import { loadData } from '../src/data/splits.js';
import { cellKey, ExperimentOptions, readResults, runExperiment } from '../src/experiment/grid.js';
import { Queue } from 'bullmq';
import { connectionFrom, QUEUE_NAME, runExperimentOnQueue, runStudyOnQueue, startWorker } from '../src/experiment/queue.js';
import { readLines, runStudy, StudyLine, StudyOptions } from '../src/experiment/study.js';
import { saveModel } from '../src/models/io.js';
import { buildModel } from '../src/models/zoo.js';
import { trainModel } from '../src/train/loop.js';
import { CIFAR_DIR, NEEDS_CIFAR, SMALL_SGD, TINY_GRID, TINY_STUDY_SETTINGS } from './helpers/fixtures.js';

const MAIN = resolve(import.meta.dirname, '../src/cli/main.ts');
const tmp = mkdtempSync(join(tmpdir(), 'auraprune-queue-'));
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
let redis: ChildProcess | null = null;
const port = 20000 + Math.floor(Math.random() * 20000);
const url = `redis://127.0.0.1:${port}`;
const redisDir = join(tmp, 'redis');
const ping = () =>
  spawnSync('redis-cli', ['-p', String(port), 'ping'])
    .stdout?.toString()
    .trim() === 'PONG';
/** redis-server with an append-only file synced on every write, so a killed server restarts with its queue. */
async function startRedis() {
  redis = spawn(
    'redis-server',
    ['--port', String(port), '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', redisDir],
    {
      stdio: 'ignore',
    },
  );
  for (let i = 0; i < 100 && !ping(); i++) await new Promise((r) => setTimeout(r, 100));
}
before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
  if (!hasRedis || NEEDS_CIFAR.skip) return;
  mkdirSync(redisDir);
  await startRedis();
});
after(() => {
  redis?.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

const spec = { dataDir: CIFAR_DIR, valSize: 200, seed: 1, trainLimit: 1000 };
let shared: Promise<{ data: Awaited<ReturnType<typeof loadData>>; baseDir: string }> | null = null;
/** The split and a small trained base, made once for every test. */
function setup() {
  shared ??= (async () => {
    const data = await loadData(spec.dataDir, spec.valSize, spec.seed, spec.trainLimit);
    const trained = await trainModel(buildModel('fast', { width: 0.125, seed: 1 }), SMALL_SGD, data, join(tmp, 'run'), { quiet: true });
    const baseDir = join(tmp, 'base');
    await saveModel(trained.model, baseDir);
    return { data, baseDir };
  })();
  return shared;
}

const opts: ExperimentOptions = { ...TINY_GRID, criteria: ['l1', 'random'], targets: [0.4], seeds: [1], finetuneImages: 200 };
const strip = (r: ReturnType<typeof readResults>[number]) => ({ ...r, finetuneSeconds: 0, scoringSeconds: 0, activationSeconds: 0 });

describe(
  'experiment cells on a BullMQ queue',
  hasRedis ? NEEDS_CIFAR : { skip: 'redis-server is not installed (apt-get install redis-server)' },
  () => {
    test('two workers run experiment and study cells like a local run; resubmitting adds nothing; a failing cell is reported after its attempts', async () => {
      const { data, baseDir } = await setup();
      const { loadImageModel } = await import('../src/models/io.js');
      const base = await loadImageModel(baseDir);

      await runExperiment(base, data, join(tmp, 'local'), opts);
      // two workers share the grid
      const w = startWorker(url, { root: tmp, data: CIFAR_DIR });
      const w2 = startWorker(url, { root: tmp, data: CIFAR_DIR });
      try {
        const job = { out: join(tmp, 'queued'), baseDir, data: spec, options: opts };
        const r = await runExperimentOnQueue(url, job);
        assert.deepEqual(r.failed, []);
        assert.equal(r.newCells, 2);
        const local = readResults(join(tmp, 'local', 'results.jsonl')).map(strip);
        const queued = readResults(join(tmp, 'queued', 'results.jsonl')).map(strip);
        assert.deepEqual(
          queued.sort((a, b) => a.key.localeCompare(b.key)),
          local.sort((a, b) => a.key.localeCompare(b.key)),
        );
        const again = await runExperimentOnQueue(url, job);
        assert.equal(again.newCells, 0);
        assert.equal(readResults(join(tmp, 'queued', 'results.jsonl')).length, 2, 'nothing added twice');
        // a target no allocation can reach fails the same way every time
        const bad = await runExperimentOnQueue(
          url,
          { ...job, out: join(tmp, 'bad'), options: { ...opts, criteria: ['l1'], targets: [0.995] } },
          { attempts: 2, backoffMs: 50 },
        );
        assert.equal(bad.failed.length, 1);
        assert.match(bad.failed[0].error, /cannot remove 99\.5% of flops/);
        // a small study through the queue equals the same study run locally
        const studyOpts: StudyOptions = {
          settings: TINY_STUDY_SETTINGS,
          seeds: [1],
          stages: [{ budget: 'none', variants: ['aura', 'l1'], targets: [0.4], allocations: ['uniform'] }],
          quiet: true,
        };
        await runStudy(base, data, join(tmp, 'study-local'), studyOpts);
        const sq = await runStudyOnQueue(
          url,
          { out: join(tmp, 'study-queued'), baseDir, data: spec, options: studyOpts },
          { base, split: data },
        );
        assert.deepEqual(sq.failed, []);
        assert.equal(sq.newCells, 2);
        const stripS = (l: StudyLine) => ({ ...l, scoringSeconds: 0, activationSeconds: 0 });
        const byKey = (a: StudyLine, b: StudyLine) => a.key.localeCompare(b.key);
        assert.deepEqual(
          readLines<StudyLine>(join(tmp, 'study-queued', 'results.jsonl'))
            .map(stripS)
            .sort(byKey),
          readLines<StudyLine>(join(tmp, 'study-local', 'results.jsonl'))
            .map(stripS)
            .sort(byKey),
        );
      } finally {
        await Promise.all([w.close(), w2.close()]);
      }
    });

    test('a malformed job or one naming paths outside the worker root fails at once with a clear error, without retries', async () => {
      const { baseDir } = await setup();
      const q = new Queue(QUEUE_NAME, { connection: connectionFrom(url) });
      const w = startWorker(url, { root: join(tmp, 'base'), data: CIFAR_DIR });
      try {
        const cell = { criterion: 'l1', target: 0.4, seed: 1 };
        const good = { out: baseDir, baseDir, data: spec, options: opts, cell };
        const cases: Array<[string, unknown, RegExp]> = [
          ['not-an-object', 'hello', /malformed job bad-not-an-object: the payload is not an object/],
          ['escape', { ...good, out: '/etc' }, /malformed job bad-escape: out \/etc is outside the worker's root/],
          ['dotdot', { ...good, baseDir: join(baseDir, '..', 'run') }, /baseDir .* is outside the worker's root/],
          ['kind', { ...good, kind: 'shell' }, /unknown kind "shell"/],
          ['criterion', { ...good, cell: { ...cell, criterion: 'rm -rf' } }, /unknown criterion "rm -rf"/],
          ['target', { ...good, cell: { ...cell, target: 7 } }, /cell must hold a target in \(0, 1\)/],
          ['split', { ...good, data: { valSize: -1, seed: 1 } }, /data must be \{valSize, seed, trainLimit\?\}/],
          // numbers the CLI would refuse: a zero batch (grew a worker child past 4 GB), 100,000 epochs
          [
            'batch',
            { ...good, options: { ...opts, finetune: { ...opts.finetune, batch: 0 } } },
            /options\.finetune\.batch must be within \[1, 65536\], got 0/,
          ],
          [
            'epochs',
            { ...good, options: { ...opts, finetune: { ...opts.finetune, epochs: 100000 } } },
            /options\.finetune\.epochs must be within \[0, 10000\]/,
          ],
          ['per-class', { ...good, options: { ...opts, perClass: 'x' } }, /options\.perClass must be a number, got "x"/],
        ];
        const jobs = await Promise.all(cases.map(([id, data]) => q.add('cell', data, { jobId: `bad-${id}`, attempts: 3, backoff: 50 })));
        for (const [i, j] of jobs.entries()) {
          let state = '';
          for (let t = 0; t < 200 && state !== 'failed'; t++) {
            await new Promise((r) => setTimeout(r, 50));
            state = await j.getState();
          }
          const done = (await q.getJob(j.id!))!;
          assert.equal(state, 'failed', cases[i][0]);
          assert.match(done.failedReason, cases[i][2], cases[i][0]);
          assert.equal(done.attemptsMade, 1, `${cases[i][0]}: not retried`);
        }
      } finally {
        await w.close();
        await q.close();
      }
      // URLs: passwords, databases and TLS are understood; anything else is refused before connecting
      assert.deepEqual(connectionFrom('rediss://:p%40ss@h:6380/2'), {
        host: 'h',
        port: 6380,
        password: 'p@ss',
        db: 2,
        tls: {},
        maxRetriesPerRequest: null,
      });
      assert.throws(() => connectionFrom('http://h:1'), /expected redis:\/\//);
      assert.throws(
        () => connectionFrom('redis://:secret@h:1/x'),
        (e: Error) => !/secret/.test(e.message),
        'the password is not echoed',
      );
    });

    test('kill -9 of a worker mid-cell: the other worker completes the grid, no cell missing or duplicated', async () => {
      const { baseDir } = await setup();
      const grid: ExperimentOptions = { ...opts, criteria: ['l1', 'random'], targets: [0.3, 0.5], finetuneImages: 400 };
      const worker = () => {
        const p = spawn(
          process.execPath,
          [
            '--import',
            'tsx',
            MAIN,
            'worker',
            '--queue',
            url,
            '--root',
            tmp,
            '--data',
            CIFAR_DIR,
            '--lock-minutes',
            '0.1',
            '--threads',
            '1',
          ],
          {
            stdio: ['ignore', 'ignore', 'pipe'],
          },
        );
        let log = '';
        p.stderr!.on('data', (b) => (log += b));
        return { p, log: () => log };
      };
      const a = worker();
      const b = worker();
      try {
        const run = runExperimentOnQueue(url, { out: join(tmp, 'killed'), baseDir, data: spec, options: grid }, { pollMs: 200 });
        // wait until worker A has a cell in hand, then kill it without a chance to clean up
        for (let t = 0; t < 1200 && !/ cell /.test(a.log()); t++) await new Promise((r) => setTimeout(r, 100));
        assert.match(a.log(), / cell /, 'worker A started a cell');
        a.p.kill('SIGKILL');
        const r = await run;
        assert.deepEqual(r.failed, []);
        const keys = readResults(join(tmp, 'killed', 'results.jsonl')).map((l) => l.key);
        const want = grid.criteria.flatMap((c) => grid.targets.map((t) => cellKey(c, t, 1)));
        assert.deepEqual([...keys].sort(), want.sort(), 'every cell exactly once');
      } finally {
        a.p.kill('SIGKILL');
        b.p.kill('SIGKILL');
      }
    });

    test('Redis killed and restarted mid-run: the worker reconnects and the grid completes', async () => {
      const { baseDir } = await setup();
      const grid: ExperimentOptions = { ...opts, criteria: ['l1', 'random'], targets: [0.3], finetuneImages: 300 };
      const w = startWorker(url, { root: tmp, data: CIFAR_DIR });
      let restarted = false;
      try {
        const r = await runExperimentOnQueue(
          url,
          { out: join(tmp, 'restart'), baseDir, data: spec, options: grid },
          {
            pollMs: 200,
            onLine: () => {
              if (restarted) return;
              restarted = true;
              redis!.kill('SIGKILL');
              void new Promise((res) => setTimeout(res, 1500)).then(startRedis);
            },
          },
        );
        assert.ok(restarted);
        assert.deepEqual(r.failed, []);
        assert.equal(new Set(readResults(join(tmp, 'restart', 'results.jsonl')).map((l) => l.key)).size, 2);
      } finally {
        await w.close();
      }
    });
  },
);
