/**
 * Line-oriented logs (results.jsonl, metrics.jsonl) are appended one JSON object per line; a kill in
 * the middle of a write can leave the last line torn. Readers skip such a line with a one-line
 * warning naming the file (its cell or epoch simply runs again) instead of failing on the rerun.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic.js';

/**
 * Reads one of our own JSON records (config.json, base.json, a cell's round.json...). A torn or
 * hand-edited file fails with one line naming it and the fix, instead of a bare SyntaxError.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- records are untyped JSON; callers cast to their shape
export function readJsonFile<T = any>(path: string, fix = 'restore it, or delete it and rerun the command that wrote it'): T {
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    // the position only: V8's message quotes the file's text, which is not ours to print
    const at = /position (\d+)/.exec((e as Error).message)?.[1];
    throw new Error(`${path} is not valid JSON${at ? ` (at byte ${at})` : ''}: the record is corrupt; ${fix}`, { cause: e });
  }
}

export function readJsonLines<T>(path: string, o: { warn?: (msg: string) => void } = {}): T[] {
  if (!existsSync(path)) return [];
  const out: T[] = [];
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.forEach((l, i) => {
    if (!l.trim()) return;
    try {
      out.push(JSON.parse(l));
    } catch {
      (o.warn ?? ((m: string) => process.stderr.write(m + '\n')))(
        `${path}: line ${i + 1} is not valid JSON (torn by an interrupted write?); ignoring it, its work will be redone`,
      );
    }
  });
  return out;
}

/**
 * Rewrites `path` (atomically) without its invalid lines, so the next append starts on a fresh line
 * instead of being glued to a torn one. Returns the valid entries.
 */
export function repairJsonLines<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const entries = readJsonLines<T>(path);
  const clean = entries.map((e) => JSON.stringify(e) + '\n').join('');
  const valid = text.split('\n').filter((l) => l.trim()).length === entries.length;
  if (!valid || (text.length > 0 && !text.endsWith('\n'))) writeFileAtomic(path, clean);
  return entries;
}
