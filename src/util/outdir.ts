/**
 * Output directories a command writes into: never a symbolic link, never the input it reads (or a
 * directory inside it, where that would shadow the input), never a directory that holds another
 * command's run (a training run's config.json and checkpoint would be replaced, and with them the
 * settings guard of `train --resume`), and locked for the command's duration (rundir.ts).
 */
import { existsSync, lstatSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { lockRunDir } from './rundir.js';
import { readJsonFile } from './jsonl.js';

/** The absolute path `p` would have once created: symlinks of its existing part resolved. */
export function realTarget(p: string): string {
  const abs = resolve(p);
  if (existsSync(abs)) return realpathSync(abs);
  const parent = dirname(abs);
  return parent === abs ? abs : join(realTarget(parent), basename(abs));
}

/** What kind of directory `dir` holds, from the files commands leave: 'train', 'prune', ... or null (empty or unknown). */
export function dirKind(dir: string): string | null {
  const cfg = join(dir, 'config.json');
  if (existsSync(cfg)) {
    try {
      const c = readJsonFile(cfg) as { command?: unknown };
      if (typeof c.command === 'string') return c.command;
    } catch {
      return 'unknown';
    }
  }
  if (existsSync(join(dir, 'checkpoint')) || existsSync(join(dir, 'metrics.jsonl'))) return 'train';
  if (existsSync(join(dir, 'results.jsonl'))) return 'experiment';
  return null;
}

/**
 * Checks `out` for `command` and takes its lock; returns the release. `inputs` are the paths the
 * command reads (model directories or files): `out` may not be one of them, nor lie inside one
 * (`insideOk` allows the latter, e.g. finetune's default `<model>/finetuned`). `kinds` are the
 * directory kinds this command may overwrite (its own, by default).
 */
export function claimOutDir(out: string, command: string, o: { inputs?: string[]; insideOk?: boolean; kinds?: string[] } = {}): () => void {
  if (existsSync(out) || isLink(out)) {
    const st = lstatSync(out);
    if (st.isSymbolicLink()) throw new Error(`--out ${out} is a symbolic link; give a real directory (nothing is written through links)`);
    if (!st.isDirectory()) throw new Error(`--out ${out} is a file, not a directory; choose another --out`);
  }
  const target = realTarget(out);
  for (const input of o.inputs ?? []) {
    const dir = input.endsWith('.json') ? dirname(input) : input;
    if (!existsSync(dir)) continue;
    const src = realpathSync(dir);
    if (target === src) throw new Error(`--out ${out} is the input ${input}: writing there would replace it; choose another --out`);
    if (!o.insideOk && target.startsWith(src + sep))
      throw new Error(`--out ${out} lies inside the input ${input}; choose a directory outside it`);
  }
  const kind = existsSync(out) ? dirKind(out) : null;
  const allowed = o.kinds ?? [command];
  if (kind && !allowed.includes(kind))
    throw new Error(`--out ${out} holds the output of \`${kind}\` (config.json); \`${command}\` would overwrite it: choose another --out`);
  return lockRunDir(out);
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
