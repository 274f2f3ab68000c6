/**
 * Experiment cells through BullMQ on a real redis-server: a worker's results equal a local run's,
 * resubmitting adds nothing twice, and a cell that fails deterministically is reported after its
 * attempts instead of being retried forever.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setFallbackLogger, useBestBackend } from '../src/engine/backend/index.js';
import { loadData } from '../src/data/splits.js';
import { ExperimentOptions, readResults, runExperiment } from '../src/experiment/grid.js';
import { runExperimentOnQueue, runStudyOnQueue, startWorker } from '../src/experiment/queue.js';
import { readLines, runStudy, StudyLine, StudyOptions } from '../src/experiment/study.js';
import { saveModel } from '../src/models/io.js';
import { buildModel } from '../src/models/zoo.js';
import { trainModel } from '../src/train/loop.js';
import { CIFAR_DIR, NEEDS_CIFAR, SMALL_SGD, TINY_GRID, TINY_STUDY_SETTINGS } from './helpers/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'auraprune-queue-'));
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
let redis: ChildProcess | null = null;
const port = 20000 + Math.floor(Math.random() * 20000);
before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
  if (!hasRedis || NEEDS_CIFAR.skip) return;
  redis = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (
    let i = 0;
    i < 50 &&
    spawnSync('redis-cli', ['-p', String(port), 'ping'])
      .stdout?.toString()
      .trim() !== 'PONG';
    i++
  )
    await new Promise((r) => setTimeout(r, 100));
});
after(() => {
  redis?.kill();
  rmSync(tmp, { recursive: true, force: true });
});

const opts: ExperimentOptions = { ...TINY_GRID, criteria: ['l1', 'random'], targets: [0.4], seeds: [1], finetuneImages: 200 };
const strip = (r: ReturnType<typeof readResults>[number]) => ({ ...r, finetuneSeconds: 0, scoringSeconds: 0, activationSeconds: 0 });

describe(
  'experiment cells on a BullMQ queue',
  hasRedis ? NEEDS_CIFAR : { skip: 'redis-server is not installed (apt-get install redis-server)' },
  () => {
    test('a worker runs experiment and study cells like a local run; resubmitting adds nothing; a failing cell is reported after its attempts', async () => {
      const spec = { dataDir: CIFAR_DIR, valSize: 200, seed: 1, trainLimit: 1000 };
      const data = await loadData(spec.dataDir, spec.valSize, spec.seed, spec.trainLimit);
      const trained = await trainModel(buildModel('fast', { width: 0.125, seed: 1 }), SMALL_SGD, data, join(tmp, 'run'), { quiet: true });
      const baseDir = join(tmp, 'base');
      await saveModel(trained.model, baseDir);
      const { loadCifarModel } = await import('../src/models/io.js');
      const base = await loadCifarModel(baseDir);

      await runExperiment(base, data, join(tmp, 'local'), opts);
      const url = `redis://127.0.0.1:${port}`;
      const w = startWorker(url);
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
        await w.close();
      }
    });
  },
);
