/**
 * `auraprune worker` stops when told to, whatever state its queue is in, and gives up on a password
 * Redis refuses instead of retrying forever (against a real redis-server).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { after, test } from 'node:test';

const MAIN = resolve(import.meta.dirname, '../src/cli/main.ts');
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
const port = 20000 + Math.floor(Math.random() * 20000);
const servers: Array<ReturnType<typeof spawn>> = [];
after(() => servers.forEach((s) => s.kill('SIGKILL')));

/** Runs the worker; resolves with its exit code, stderr and seconds, after `signalAfter` ms sends SIGTERM. */
function worker(
  url: string,
  env: Record<string, string>,
  signalAfter?: number,
): Promise<{ code: number | null; err: string; seconds: number }> {
  const t0 = performance.now();
  const p = spawn(process.execPath, ['--import', 'tsx', MAIN, 'worker', '--queue', url], { env: { ...process.env, ...env } });
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  const killer = setTimeout(() => p.kill('SIGKILL'), 60_000);
  if (signalAfter !== undefined) setTimeout(() => p.kill('SIGTERM'), signalAfter);
  return new Promise((ok) =>
    p.on('exit', (code) => {
      clearTimeout(killer);
      ok({ code, err, seconds: (performance.now() - t0) / 1000 });
    }),
  );
}

test('SIGTERM while Redis is unreachable: the worker exits within seconds', async () => {
  // nothing listens on this port: the connection is being retried when the signal comes
  const r = await worker(`redis://127.0.0.1:${port + 1}`, {}, 4000);
  assert.equal(r.code, 143, r.err);
  assert.ok(r.seconds < 4 + 8, `exited after ${r.seconds.toFixed(1)} s`);
  assert.match(r.err, /SIGTERM: stopping/);
});

test(
  'a password Redis refuses: one line naming the fix, exit code 2, no endless retries',
  { skip: !hasRedis && 'redis-server is not installed' },
  async () => {
    const s = spawn('redis-server', ['--port', String(port), '--save', '', '--requirepass', 'right'], { stdio: 'ignore' });
    servers.push(s);
    for (let i = 0; i < 50; i++) {
      if (
        spawnSync('redis-cli', ['-p', String(port), '-a', 'right', '--no-auth-warning', 'ping'])
          .stdout?.toString()
          .trim() === 'PONG'
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const r = await worker(`redis://127.0.0.1:${port}`, { REDIS_PASSWORD: 'wrong' });
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /queue connection refused: .*(WRONGPASS|invalid).*--queue-password-file or REDIS_PASSWORD/);
    assert.ok(r.seconds < 30, `gave up after ${r.seconds.toFixed(1)} s`);
  },
);
