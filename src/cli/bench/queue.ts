/**
 * `auraprune bench queue`: the same experiment grid through the BullMQ queue with 1 and with 2 (or
 * more) worker processes, in one invocation, alternating the worker counts over rounds; prints the
 * wall time of each and the ratio to one worker. Runs the real commands (`experiment --queue`,
 * `worker`) against a redis-server it starts on a free loopback port (or `--queue URL`).
 */
import { median } from '../../eval/bootstrap.js';
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';

export interface QueueBenchOptions {
  base: string;
  workers: number[];
  rounds: number;
  criteria: string;
  targets: string;
  finetuneImages: number;
  threads: number;
  data?: string;
  queue?: string;
}

const main = () => process.argv[1];

async function redisUp(port: number): Promise<ChildProcess> {
  const r = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (
      spawnSync('redis-cli', ['-p', String(port), 'ping'])
        .stdout?.toString()
        .trim() === 'PONG'
    )
      return r;
    await new Promise((res) => setTimeout(res, 100));
  }
  r.kill();
  throw new Error('bench queue: redis-server did not start (apt-get install redis-server), or pass --queue URL');
}

/** One timed grid with `n` worker processes sharing the machine's threads. */
async function timedGrid(o: QueueBenchOptions, url: string, n: number, root: string): Promise<number> {
  const out = mkdtempSync(join(root, `grid-w${n}-`));
  const threads = String(Math.max(1, Math.floor(o.threads / n)));
  const data = o.data ? ['--data', o.data] : [];
  const workers = Array.from({ length: n }, () =>
    spawn(process.execPath, [main(), 'worker', '--queue', url, '--root', '/', '--threads', threads, ...data], { stdio: 'ignore' }),
  );
  try {
    const t0 = performance.now();
    const args = ['experiment', '--base', o.base, '--criteria', o.criteria, '--targets', o.targets, '--seeds', '1'];
    args.push('--finetune-epochs', '1', '--finetune-images', String(o.finetuneImages), '--out', out, '--queue', url, ...data);
    const r = spawnSync(process.execPath, [main(), ...args], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`bench queue: the grid with ${n} worker(s) failed: ${r.stderr.trim().split('\n').pop()}`);
    return (performance.now() - t0) / 1000;
  } finally {
    workers.forEach((w) => w.kill('SIGKILL'));
    rmSync(out, { recursive: true, force: true });
  }
}

export async function benchQueue(o: QueueBenchOptions) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const redis = o.queue ? null : await redisUp(port);
  const url = o.queue ?? `redis://127.0.0.1:${port}`;
  const root = mkdtempSync(join(resolve('.'), '.bench-queue-'));
  const seconds: Record<number, number[]> = Object.fromEntries(o.workers.map((n) => [n, []]));
  try {
    for (let r = 0; r < o.rounds; r++) {
      // alternate the order each round, so a drift in the machine's speed does not favour one side
      const order = r % 2 ? [...o.workers].reverse() : o.workers;
      for (const n of order) {
        const s = await timedGrid(o, url, n, root);
        seconds[n].push(+s.toFixed(1));
        process.stderr.write(`bench queue: round ${r + 1}, ${n} worker(s): ${s.toFixed(1)} s\n`);
      }
    }
  } finally {
    redis?.kill();
    rmSync(root, { recursive: true, force: true });
  }
  const one = median(seconds[o.workers[0]]);
  return {
    bench: 'queue',
    base: o.base,
    grid: { criteria: o.criteria, targets: o.targets, finetuneImages: o.finetuneImages },
    threads: o.threads,
    cores: cpus().length,
    seconds,
    median: Object.fromEntries(o.workers.map((n) => [n, median(seconds[n])])),
    speedupVsFirst: Object.fromEntries(o.workers.map((n) => [n, +(one / median(seconds[n])).toFixed(3)])),
  };
}
