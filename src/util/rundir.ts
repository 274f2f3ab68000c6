/**
 * Run directories own their settings and are used by one process at a time.
 *
 * - A lock file (`.lock`, created exclusively, holding the pid) stops a second command writing into
 *   the same directory; a lock left by a dead process is taken over.
 * - The settings that shape a run's results are recorded in `config.json` with a hash; continuing
 *   (`--resume`) with different settings is refused with the keys that differ, and starting a new run
 *   over a finished or interrupted one needs --resume or another directory.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { readJsonFile } from './jsonl.js';

/** JSON with object keys sorted at every depth (a replacer array would drop nested keys). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => canonicalJson(x ?? null)).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v ?? null);
}

export function settingsHash(settings: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(settings)).digest('hex').slice(0, 16);
}

/** Whether process `pid` runs (EPERM: it runs under another user). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the directory's lock (created exclusively); released when the process exits. */
export function lockRunDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, '.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      const release = () => {
        try {
          if (readFileSync(path, 'utf8') === String(process.pid)) rmSync(path, { force: true });
        } catch {
          // already gone
        }
      };
      process.once('exit', release);
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(path, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))
        throw new Error(`${dir} is in use by process ${pid} (${path}); wait for it or use another --out`, { cause: e });
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  throw new Error(`could not lock ${dir}`);
}

/**
 * Claims `dir` for a run with `settings` (those that shape its results). With `resume`, an existing
 * config must record the same settings; without it, a directory that already holds a run
 * (`marker` exists) is refused. Writes config.json = { ...record, settings, settingsHash }.
 */
export function claimRunDir(
  dir: string,
  settings: Record<string, unknown>,
  o: { resume?: boolean; marker: string; record?: Record<string, unknown> },
): { release: () => void; resumed: boolean } {
  const release = lockRunDir(dir);
  try {
    const cfgPath = join(dir, 'config.json');
    const hash = settingsHash(settings);
    const held = existsSync(join(dir, o.marker));
    if (held && existsSync(cfgPath)) {
      const old = readJsonFile(cfgPath) as { settings?: Record<string, unknown>; settingsHash?: string };
      if (!o.resume) throw new Error(`${dir} already holds a run; pass --resume to continue it or choose another --out`);
      // compare the recorded settings themselves (hashes written by older versions were computed differently)
      const differs = old.settings
        ? canonicalJson(old.settings) !== canonicalJson(settings)
        : !!old.settingsHash && old.settingsHash !== hash;
      if (differs) {
        const keys = [...new Set([...Object.keys(old.settings ?? {}), ...Object.keys(settings)])].filter(
          (k) => JSON.stringify(old.settings?.[k]) !== JSON.stringify(settings[k]),
        );
        throw new Error(
          `${dir} was run with other settings (${keys.map((k) => `${k}: ${JSON.stringify(old.settings?.[k])} -> ${JSON.stringify(settings[k])}`).join(', ')}); it continues only with the same settings: use another --out for new ones`,
        );
      }
    }
    writeFileAtomic(cfgPath, JSON.stringify({ ...o.record, settings, settingsHash: hash }, null, 1));
    return { release, resumed: held && !!o.resume };
  } catch (e) {
    release();
    throw e;
  }
}

/** `p` relative to the working directory when it lies inside it (as records are committed), else absolute. */
export function recordedPath(p: string): string {
  const rel = relative(process.cwd(), resolve(p));
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : resolve(p);
}
