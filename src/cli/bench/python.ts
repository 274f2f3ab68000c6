/**
 * Runs one of the PyTorch reference scripts in bench/ with `--flag value` arguments and returns the
 * JSON of its last stdout line, or the last line of its error. The scripts live in the repository, so
 * benchmarks that compare with PyTorch run from its root.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export function runPythonBench<T>(python: string, script: string, flags: Record<string, string | number>): T | { error: string } {
  const path = join(process.cwd(), 'bench', script);
  if (!existsSync(path)) return { error: `missing ${path} (run from the repository root)` };
  const args = [path, ...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, String(v)])];
  // our allocator tuning is for the addon; PyTorch keeps glibc's defaults
  const r = spawnSync(python, args, { encoding: 'utf8', env: { ...process.env, AURAPRUNE_DEFAULT_MALLOC: '1' } });
  if (r.status !== 0) return { error: (r.stderr || r.error?.message || 'pytorch failed').trim().split('\n').pop() ?? 'pytorch failed' };
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}
