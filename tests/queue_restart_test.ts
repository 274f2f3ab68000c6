/**
 * A Redis without persistence restarts while a worker runs a cell: the job is gone, so the worker
 * stops the orphaned cell (its lock cannot be renewed) and takes the next job instead of finishing
 * work nobody will collect. Against a real redis-server and a worker started as a user would.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { Queue } from 'bullmq';
import { setFallbackLogger, useBestBackend } from '../src/engine/backend/index.js';
import { connectionFrom, QUEUE_NAME } from '../src/experiment/queue.js';
import { saveModel } from '../src/models/io.js';
import { buildModel } from '../src/models/zoo.js';
import { CIFAR_DIR, NEEDS_CIFAR, TINY_GRID } from './helpers/fixtures.js';

const MAIN = resolve(import.meta.dirname, '../src/cli/main.ts');
const tmp = mkdtempSync(join(tmpdir(), 'auraprune-qrestart-'));
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
const port = 20000 + Math.floor(Math.random() * 20000);
const url = `redis://127.0.0.1:${port}`;
const procs: ChildProcess[] = [];
after(() => {
  procs.forEach((p) => p.kill('SIGKILL'));
  rmSync(tmp, { recursive: true, force: true });
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ping = () =>
  spawnSync('redis-cli', ['-p', String(port), 'ping'])
    .stdout?.toString()
    .trim() === 'PONG';
async function redis(): Promise<ChildProcess> {
  // no RDB, no AOF: a restart starts empty
  const r = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  procs.push(r);
  for (let i = 0; i < 100 && !ping(); i++) await sleep(100);
  return r;
}

const NEEDS_REDIS = hasRedis ? NEEDS_CIFAR : { skip: 'redis-server is not installed (apt-get install redis-server)' };

/** A small untrained base model saved under tmp/name (the cells only need something to prune). */
async function tinyBase(name: string): Promise<string> {
  setFallbackLogger(() => {});
  await useBestBackend();
  const dir = join(tmp, name);
  await saveModel(buildModel('fast', { width: 0.125, seed: 1 }), dir);
  return dir;
}

/** A queue job whose cell would run for many minutes (200 fine-tune epochs). */
const longCell = (out: string, baseDir: string) => ({
  out,
  baseDir,
  data: { valSize: 100, seed: 1, trainLimit: 1000 },
  options: {
    ...TINY_GRID,
    criteria: ['random'],
    targets: [0.3],
    seeds: [1],
    finetuneImages: 400,
    finetune: { ...TINY_GRID.finetune, epochs: 200 },
  },
  cell: { criterion: 'random', target: 0.3, seed: 1 },
});

test('Redis restarts empty mid-cell: the worker stops the orphaned cell and takes the next job', NEEDS_REDIS, async () => {
  const baseDir = await tinyBase('base');
  let server = await redis();
  const worker = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, 'worker', '--queue', url, '--root', tmp, '--data', CIFAR_DIR, '--lock-minutes', '0.1', '--threads', '1'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  procs.push(worker);
  let log = '';
  worker.stderr!.on('data', (b) => (log += b));
  const long = longCell(join(tmp, 'exp'), baseDir);
  mkdirSync(long.out);
  let q = new Queue(QUEUE_NAME, { connection: connectionFrom(url) });
  await q.add('cell', long, { jobId: 'long' });
  for (let t = 0; t < 600 && !/ cell /.test(log); t++) await sleep(100);
  assert.match(log, / cell /, `the worker started the cell: ${log}`);
  await sleep(3000); // into the fine-tune
  await q.close();
  server.kill('SIGKILL');
  await new Promise((r) => server.once('exit', r));
  server = await redis();
  for (let t = 0; t < 600 && !/its lock is gone/.test(log); t++) await sleep(100);
  assert.match(log, /job long: its lock is gone .*stopping its cell/, log);
  // the worker is free again: a job it can refuse at once (malformed) is handled within seconds
  q = new Queue(QUEUE_NAME, { connection: connectionFrom(url) });
  const j = await q.add('cell', 'not a job', { jobId: 'next', attempts: 1 });
  let state = '';
  for (let t = 0; t < 300 && state !== 'failed'; t++) {
    await sleep(100);
    state = await j.getState();
  }
  await q.close();
  assert.equal(state, 'failed', `the next job was taken (state ${state}); worker log:\n${log}`);
  worker.kill('SIGTERM');
});

test('a worker killed with SIGKILL mid-cell: its cell child notices and exits within seconds', NEEDS_REDIS, async () => {
  const baseDir = await tinyBase('base-kill');
  await redis();
  const worker = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, 'worker', '--queue', url, '--root', tmp, '--data', CIFAR_DIR, '--threads', '1'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  procs.push(worker);
  let log = '';
  worker.stderr!.on('data', (b) => (log += b));
  const out = join(tmp, 'exp-kill');
  mkdirSync(out);
  const q = new Queue(QUEUE_NAME, { connection: connectionFrom(url) });
  await q.add('cell', longCell(out, baseDir), { jobId: 'killed' });
  await q.close();
  for (let t = 0; t < 600 && !/ cell /.test(log); t++) await sleep(100);
  assert.match(log, / cell /, `the worker started the cell: ${log}`);
  await sleep(3000); // into the fine-tune
  const children = (spawnSync('pgrep', ['-P', String(worker.pid)]).stdout?.toString() ?? '').trim().split('\n').filter(Boolean).map(Number);
  assert.equal(children.length, 1, `one cell child: ${children.join(' ')}`);
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  assert.ok(alive(children[0]), 'the child runs before the kill');
  worker.kill('SIGKILL');
  let t = 0;
  for (; t < 150 && alive(children[0]); t++) await sleep(100);
  const gone = !alive(children[0]);
  if (!gone) process.kill(children[0], 'SIGKILL'); // never leave it running (one orphan held a core for 50 min)
  assert.ok(gone, `the orphaned child was still running 15 s after its worker died`);
});
