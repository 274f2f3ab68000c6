/**
 * `auraprune study --recheck N`: does a rerun of finished cells land where the study says it should?
 * Fine-tuning is not bit-reproducible, so a verdict is only worth what survives another run. Each chosen
 * cell runs again from scratch (same seed, same settings, scores recomputed) into OUT/recheck/, and
 * its accuracy is compared with the 95% prediction interval for one more seed of its row,
 * mean +- t(n-1) * sd * sqrt(1 + 1/n) over the row's seeds: the range a single cell of that row is
 * expected to fall in. A cell without fine-tuning should reproduce exactly on the same machine and thread
 * count (its pipeline is deterministic); whether it did is reported beside.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ImageSplit } from '../data/dataset.js';

import { meanSd, tQuantile } from '../eval/bootstrap.js';
import { writeFileAtomic } from '../util/atomic.js';
import { repairJsonLines } from '../util/jsonl.js';
import { Rng } from '../util/rng.js';
import { Data, Measure, readLines, runStudyCell, StudyLine, StudySettings } from './study.js';

export interface PredictionInterval {
  mean: number;
  sd: number;
  n: number;
  lo: number;
  hi: number;
}

/** The 95% prediction interval for one new draw from the population `xs` came from (Student t). */
export function predictionInterval(xs: number[], level = 0.95): PredictionInterval {
  const { mean, sd } = meanSd(xs);
  const n = xs.length;
  if (n < 2) return { mean, sd: 0, n, lo: NaN, hi: NaN };
  const h = tQuantile(1 - (1 - level) / 2, n - 1) * sd * Math.sqrt(1 + 1 / n);
  return { mean, sd, n, lo: mean - h, hi: mean + h };
}

export interface RecheckResult {
  key: string;
  measure: Measure;
  original: number;
  rerun: number;
  /** the row's seeds (this cell's original included) */
  row: PredictionInterval;
  /** null: a row of one seed has no spread to say where another run should land */
  inside: boolean | null;
  /** budget none: the pipeline is deterministic, so the rerun must equal the original */
  exact?: boolean;
}

/** Accuracies a line reports, by measure. */
function measures(l: StudyLine): Array<[Measure, number]> {
  if (l.budget === 'none')
    return [
      ['raw', l.testAccRaw!],
      ['bn', l.testAccBn!],
    ];
  return [[l.budget === 'epoch' ? 'epoch' : 'full', l.testAcc!]];
}

const rowOf = (l: StudyLine) => `${l.budget}|${l.allocation}|${l.variant}|${l.target}`;

/**
 * `n` finished cells, seeded: one from each budget in turn (recovery fine-tune, one epoch, none), so
 * the check covers the cells that vary most; only rows with at least 3 seeds can say where a cell
 * should land.
 */
export function pickCells(lines: StudyLine[], n: number, seed: number): StudyLine[] {
  const seedsOf = new Map<string, number>();
  for (const l of lines) seedsOf.set(rowOf(l), (seedsOf.get(rowOf(l)) ?? 0) + 1);
  const rng = new Rng(seed);
  const pools = (['full', 'epoch', 'none'] as const).map((b) => lines.filter((l) => l.budget === b && seedsOf.get(rowOf(l))! >= 3));
  const out: StudyLine[] = [];
  for (let i = 0; out.length < n && pools.some((p) => p.length); i++) {
    const p = pools[i % pools.length]!;
    if (!p.length) continue;
    out.push(p.splice(Math.floor(rng.next() * p.length), 1)[0]!);
  }
  return out;
}

/** Compare each rerun line with its original and its row. */
export function judge(original: StudyLine, rerun: StudyLine, all: StudyLine[]): RecheckResult[] {
  const row = all.filter((l) => rowOf(l) === rowOf(original));
  return measures(original).map(([m, acc], i) => {
    const got = measures(rerun)[i]![1];
    const pi = predictionInterval(row.map((l) => measures(l)[i]![1]));
    return {
      key: original.key,
      measure: m,
      original: acc,
      rerun: got,
      row: pi,
      inside: pi.n < 2 ? null : got >= pi.lo && got <= pi.hi,
      ...(original.budget === 'none' ? { exact: got === acc } : {}),
    };
  });
}

/**
 * Rerun the cells (`keys`, or `n` picked with `seed`) into OUT/recheck/ (resumable: finished reruns
 * are kept in OUT/recheck/results.jsonl) and write OUT/recheck.json.
 */
export async function recheckStudy(
  base: LayersModel,
  data: Data,
  out: string,
  settings: StudySettings,
  counts: Record<string, number[]>,
  noisyTest: () => ImageSplit,
  o: { n: number; keys?: string[]; seed: number; quiet?: boolean },
): Promise<RecheckResult[]> {
  const all = readLines<StudyLine>(join(out, 'results.jsonl'));
  const byKey = new Map(all.map((l) => [l.key, l]));
  const chosen = o.keys
    ? o.keys.map((k) => {
        const l = byKey.get(k);
        if (!l)
          throw new Error(`--recheck-cells: ${k} is not a finished cell of ${out}/results.jsonl (keys look like full|uniform|aura|0.5|1)`);
        return l;
      })
    : pickCells(all, o.n, o.seed);
  if (!chosen.length) throw new Error(`${out}: no finished cell in a row of 3 or more seeds to recheck; run more of the study first`);
  const dir = join(out, 'recheck');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'results.jsonl');
  const done = new Map(repairJsonLines<StudyLine>(path).map((l) => [l.key, l]));
  const results: RecheckResult[] = [];
  for (const [i, c] of chosen.entries()) {
    let again = done.get(c.key);
    if (!again) {
      if (!o.quiet) process.stderr.write(`recheck: ${c.key} (${i + 1} of ${chosen.length})\n`);
      again = await runStudyCell(base, data, dir, settings, c, counts, noisyTest, { quiet: o.quiet });
      appendFileSync(path, JSON.stringify(again) + '\n');
    }
    results.push(...judge(c, again, all));
  }
  writeFileAtomic(join(out, 'recheck.json'), JSON.stringify(results, null, 1));
  return results;
}
