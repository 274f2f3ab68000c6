/**
 * `auraprune experiment`: the criterion x target x seed grid on one base model. Each cell prunes,
 * fine-tunes with the same budget and evaluates; finished cells are lines of results.jsonl and are
 * skipped on a rerun (a crash or Ctrl-C loses at most the cell in progress, whose fine-tune itself
 * resumes from its checkpoint). Scores are computed once per (criterion, seed) and cached.
 */
import { pruneAndRecover } from './recover.js';
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ImageSplit } from '../data/dataset.js';
import { balancedSample, subset } from '../data/pipeline.js';
import { Rng } from '../util/rng.js';
import { countComplexity } from '../eval/complexity.js';
import { evaluate } from '../eval/evaluate.js';
import { inspectAura } from '../prune/importance/inspect.js';
import { CriterionOptions, scoreModel } from '../prune/importance/registry.js';
import type { StoreOptions } from '../prune/importance/store.js';
import type { TapPoint } from '../prune/importance/types.js';
import { Allocation, ScoresFile, toScoresFile } from '../prune/pipeline.js';
import { trainModel, TrainConfig } from '../train/loop.js';
import { writeFileAtomic } from '../util/atomic.js';
import { readJsonLines, repairJsonLines, readJsonFile } from '../util/jsonl.js';
import { Progress } from '../util/progress.js';

export interface ExperimentOptions {
  criteria: string[];
  targets: number[];
  by: 'flops' | 'params';
  seeds: number[];
  finetune: Omit<TrainConfig, 'seed'>;
  perClass: number;
  where: TapPoint;
  scoring: CriterionOptions & Pick<StoreOptions, 'quantize'>;
  maxRemove: number;
  normalize: 'max' | 'rank' | 'mean' | 'lamp' | 'none';
  /** How many filters each layer keeps (default uniform: every criterion gets identical counts). */
  allocation?: Allocation;
  /** Batch-norm re-estimation batches (of 256 calibration images) after surgery; default 4, 0 off. */
  recalBatches?: number;
  /** Fine-tune each cell on this many training images (a seeded subset) instead of all; keeps a
   * large grid affordable on a small machine. Default: all. */
  finetuneImages?: number;
  /** Stop after this many new cells (tests of resume). */
  stopAfterCells?: number;
  quiet?: boolean;
}

export interface ResultLine {
  key: string;
  criterion: string;
  target: number;
  by: string;
  seed: number;
  params: number;
  flops: number;
  paramsRemoved: number;
  flopsRemoved: number;
  valAccPruned: number;
  /** test accuracy right after surgery, and after batch-norm re-estimation (no fine-tune) */
  testAccRaw?: number;
  testAccRecalBn?: number;
  allocation?: string;
  valAcc: number;
  testAcc: number;
  bestEpoch: number;
  scoringSeconds: number;
  activationSeconds: number;
  finetuneSeconds: number;
  keptPerLayer: Record<string, number>;
}

export function readResults(path: string): ResultLine[] {
  return readJsonLines<ResultLine>(path);
}

export const cellKey = (c: string, t: number, seed: number) => `${c}|${t}|${seed}`;

export interface CellSpec {
  criterion: string;
  target: number;
  seed: number;
}

type Data = { train: ImageSplit; val: ImageSplit; test: ImageSplit };

const scorePath = (out: string, criterion: string, seed: number) => join(out, 'scores', `${criterion}-s${seed}.json`);

/** Scores of `criteria` for `seed`, cached in out/scores (missing ones from one shared activation pass). */
export async function ensureScores(
  base: LayersModel,
  data: Data,
  out: string,
  o: ExperimentOptions,
  seed: number,
  criteria: string[],
): Promise<void> {
  mkdirSync(join(out, 'scores'), { recursive: true });
  const pending = criteria.filter((c) => !existsSync(scorePath(out, c, seed)));
  if (!pending.length) return;
  const res = await scoreModel(base, balancedSample(data.train, o.perClass, seed), pending, {
    ...o.scoring,
    where: o.where,
    seed,
    quiet: o.quiet,
  });
  for (const r of res)
    writeFileAtomic(scorePath(out, r.criterion, seed), JSON.stringify(toScoresFile(r, { perClass: o.perClass, where: o.where, seed })));
}

/** One cell: prune with the cached scores, evaluate raw and after BN re-estimation, fine-tune, evaluate. */
export async function runCell(base: LayersModel, data: Data, out: string, o: ExperimentOptions, cell: CellSpec): Promise<ResultLine> {
  const { criterion, target, seed } = cell;
  await ensureScores(base, data, out, o, seed, [criterion]);
  const scores: ScoresFile = readJsonFile(scorePath(out, criterion, seed));
  const r = await pruneAndRecover(
    base,
    scores,
    { by: o.by, fraction: target },
    {
      maxRemove: o.maxRemove,
      normalize: o.normalize,
      allocation: o.allocation ?? 'uniform',
      calib: balancedSample(data.train, o.perClass, seed),
      recalBatches: o.recalBatches ?? 4,
      seed,
      evalOn: { test: data.test },
    },
  );
  const { model: pruned, report } = r;
  const testAccRaw = r.raw.test.accuracy;
  const testAccRecalBn = r.recalibrated.test.accuracy;
  const valAccPruned = evaluate(pruned, data.val).accuracy;
  const t0 = performance.now();
  const cellDir = join(out, 'cells', `${criterion}-${target}-s${seed}`);
  const ftData =
    o.finetuneImages && o.finetuneImages < data.train.n
      ? {
          ...data,
          train: subset(
            data.train,
            new Rng(seed).shuffle(Int32Array.from({ length: data.train.n }, (_, i) => i)).subarray(0, o.finetuneImages),
          ),
        }
      : data;
  // the cell's fine-tune shows its own epochs (rate, ETA) unless the run is quiet (tests, queue workers)
  const ft = await trainModel(pruned, { ...o.finetune, seed }, ftData, cellDir, { resume: true, quiet: o.quiet ?? false });
  return {
    key: cellKey(criterion, target, seed),
    criterion,
    target,
    by: o.by,
    seed,
    params: report.pruned.params,
    flops: report.pruned.flops,
    paramsRemoved: report.achieved.params,
    flopsRemoved: report.achieved.flops,
    valAccPruned,
    testAccRaw,
    testAccRecalBn,
    allocation: report.allocation,
    valAcc: ft.bestValAcc,
    testAcc: ft.test!.accuracy,
    bestEpoch: ft.bestEpoch,
    scoringSeconds: scores.scoringSeconds,
    activationSeconds: scores.activationSeconds,
    finetuneSeconds: (performance.now() - t0) / 1000,
    keptPerLayer: Object.fromEntries(report.units.map((u) => [u.conv, u.kept.length])),
  };
}

export async function runExperiment(
  base: LayersModel,
  data: { train: ImageSplit; val: ImageSplit; test: ImageSplit },
  out: string,
  o: ExperimentOptions,
): Promise<{ results: ResultLine[]; newCells: number; complete: boolean }> {
  mkdirSync(join(out, 'scores'), { recursive: true });
  const resultsPath = join(out, 'results.jsonl');
  const done = new Set(repairJsonLines<ResultLine>(resultsPath).map((r) => r.key));
  const basePath = join(out, 'base.json');
  if (!existsSync(basePath)) {
    const c = countComplexity(base);
    writeFileAtomic(
      basePath,
      JSON.stringify({
        valAcc: evaluate(base, data.val).accuracy,
        testAcc: evaluate(base, data.test).accuracy,
        params: c.params,
        flops: c.flops,
        testImages: data.test.n,
        dataset: data.test.info.name,
      }),
    );
  }
  if (!existsSync(join(out, 'inspect.json'))) {
    const ins = inspectAura(base, balancedSample(data.train, Math.min(o.perClass, 20), o.seeds[0]), { levels: o.scoring.quantize?.levels });
    if (ins) writeFileAtomic(join(out, 'inspect.json'), JSON.stringify(ins));
  }
  const cells = o.seeds.flatMap((seed) => o.criteria.flatMap((criterion) => o.targets.map((target) => ({ seed, criterion, target }))));
  const bar = o.quiet ? null : new Progress('experiment', cells.length, 'cell');
  let finished = cells.filter((c) => done.has(cellKey(c.criterion, c.target, c.seed))).length;
  let newCells = 0;
  for (const seed of o.seeds) {
    await ensureScores(
      base,
      data,
      out,
      o,
      seed,
      o.criteria.filter((c) => o.targets.some((t) => !done.has(cellKey(c, t, seed)))),
    );
    for (const criterion of o.criteria) {
      for (const target of o.targets) {
        const key = cellKey(criterion, target, seed);
        if (done.has(key)) continue;
        if (o.stopAfterCells !== undefined && newCells >= o.stopAfterCells)
          return { results: readResults(resultsPath), newCells, complete: false };
        bar?.update(finished, `${criterion} ${o.by} -${target} seed ${seed}`);
        const line = await runCell(base, data, out, o, { criterion, target, seed });
        appendFileSync(resultsPath, JSON.stringify(line) + '\n');
        done.add(key);
        newCells++;
        finished++;
        bar?.update(finished);
      }
    }
  }
  return { results: readResults(resultsPath), newCells, complete: true };
}
