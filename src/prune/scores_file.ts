/**
 * Scores files (`auraprune score --out`, read by `prune --scores`): a cache of one criterion's filter
 * scores, keyed by the model it was computed on. A scores file is user input like a model directory:
 * its size is bounded before reading, its shape is checked, and one computed for another model (or
 * with other weights) is refused instead of pruning the wrong filters.
 */
import { readFileSync, statSync } from 'node:fs';
import type { ScoresFile } from './pipeline.js';

/** Far above any real file (VGG-16 at 4,224 filters is ~100 kB); a guard against reading a disk image. */
export const MAX_SCORES_BYTES = 64 * 2 ** 20;

/** A scores file as written by `auraprune score`: the scores plus the model they belong to. */
export interface StoredScores extends ScoresFile {
  /** The model directory or model.json the scores were computed on, as given. */
  model?: string;
  /** modelFingerprint() of that model: sha256 of its topology and weights. */
  modelSha256?: string;
}

const fail = (path: string, what: string): never => {
  throw new Error(`--scores ${path}: ${what}`);
};

/** Parses and checks a scores file; `fingerprint` is the model's it is about to prune. */
export function readScoresFile(path: string, fingerprint: string): StoredScores {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return fail(path, 'no such file; write one with `auraprune score --model M --out FILE`');
  }
  if (!statSync(path).isFile()) fail(path, 'not a regular file');
  if (size > MAX_SCORES_BYTES) fail(path, `${size} bytes, more than a scores file can hold (${MAX_SCORES_BYTES})`);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    return fail(path, `not valid JSON (${(e as Error).message}); score the model again`);
  }
  const d = doc as Partial<StoredScores>;
  if (!d || typeof d !== 'object' || typeof d.criterion !== 'string' || !Array.isArray(d.units))
    fail(path, 'not a scores file (expected {criterion, units: [...]}, as `auraprune score` writes)');
  d.units!.forEach((u, i) => {
    if (!u || typeof u.conv !== 'string' || !Number.isInteger(u.filters) || !Array.isArray(u.scores))
      fail(path, `units[${i}] is not {conv, filters, scores}`);
    if (u.scores.length !== u.filters) fail(path, `${u.conv}: ${u.scores.length} scores for ${u.filters} filters`);
    if (!u.scores.every((v) => typeof v === 'number' && Number.isFinite(v))) fail(path, `${u.conv}: a score is not a finite number`);
  });
  if (d.modelSha256 === undefined)
    process.stderr.write(`warning: --scores ${path} does not record the model it was computed on; using it as it is\n`);
  else if (d.modelSha256 !== fingerprint)
    fail(
      path,
      `computed for another model (${d.model ?? '?'}, sha256 ${d.modelSha256}; this model's is ${fingerprint}); score this model again`,
    );
  return d as StoredScores;
}
