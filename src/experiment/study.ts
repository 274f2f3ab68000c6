/**
 * `auraprune study`: does aura MI prune better, more cheaply and more robustly than the baselines?
 *
 * - Ranking at equal allocation: for each target and allocation ('uniform', or one 'sensitivity'
 *   allocation measured once with a reference criterion) the kept count of every layer is computed
 *   once and shared, so criteria differ only in which filters they keep.
 * - Budgets: test accuracy right after surgery (raw), after batch-norm re-estimation on calibration
 *   images (bn), after a one-epoch fine-tune (epoch) and after the recovery fine-tune (full).
 * - Seeds choose the calibration sample and the fine-tune order; every comparison pairs a criterion
 *   with the same seed's cell of the other criterion, on the same test images (eval/bootstrap.ts).
 * - Stability: Spearman / top-half overlap of rankings across disjoint calibration samples, across
 *   calibration sizes and under input noise; efficiency: scoring wall time on the same images.
 *
 * Cells are lines of results.jsonl keyed by (budget, allocation, variant, target, seed); finished
 * cells are never rerun or rewritten, fine-tunes resume from their checkpoints, and the directory
 * records the settings that shape its numbers (a rerun with other settings is refused).
 */
import { pruneAndRecover } from './recover.js';
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { type ImageSplit, inMemory } from '../data/dataset.js';
import { balancedSample, subset } from '../data/pipeline.js';
import { Interval, meanSd, packBits, pairedBootstrap, pairedTInterval, tMean, unpackBits, verdict } from '../eval/bootstrap.js';
import { countComplexity } from '../eval/complexity.js';
import { loadModel } from '../models/io.js';
import { evaluate } from '../eval/evaluate.js';
import { spearman, topKOverlap } from '../eval/ranking.js';
import { allocateSensitivity, allocateUniform } from '../prune/allocate/allocate.js';
import { measureSensitivity, SensitivityResult } from '../prune/allocate/sensitivity.js';
import type { AuraCriterionOptions } from '../prune/importance/aura.js';
import type { MintOptions } from '../prune/importance/mint.js';
import { scoreModel } from '../prune/importance/registry.js';
import { nativeAuraKernel } from '../prune/importance/aura_kernel.js';
import { threadBudget } from '../engine/threads.js';
import type { TapPoint } from '../prune/importance/types.js';
import { ScoresFile, toScoresFile } from '../prune/pipeline.js';
import { costModel } from '../prune/select/cost.js';
import { pruningUnits } from '../prune/graph/graph.js';
import { trainModel, TrainConfig } from '../train/loop.js';
import { writeFileAtomic } from '../util/atomic.js';
import { readJsonLines, repairJsonLines, readJsonFile } from '../util/jsonl.js';
import { Progress } from '../util/progress.js';
import { Rng } from '../util/rng.js';
import { machine } from '../util/machine.js';

/** A criterion with its options: the study's unit of comparison (criteria and aura's own ablations). */
export interface Variant {
  criterion: string;
  aura?: AuraCriterionOptions;
  mint?: MintOptions;
  /** quantisation levels of the label maps (aura criteria); default the study's */
  levels?: number;
  where?: TapPoint;
  /** calibration images per class; default the study's */
  perClass?: number;
  /** a baseline (not one of ours): compared against as "the best baseline" */
  baseline?: boolean;
  about: string;
}

/** Every variant the study knows, in one table. */
export const VARIANTS: Record<string, Variant> = {
  aura: { criterion: 'aura', about: 'aura MI with the next layer, summed over its filters (the method)' },
  'aura-max': { criterion: 'aura', aura: { reduce: 'max' }, about: 'aura, max over child filters' },
  'aura-red': { criterion: 'aura-red', about: 'ours: aura relevance minus sibling redundancy (z-scored, lambda 0.5)' },
  'aura-descriptor': { criterion: 'aura-descriptor', about: 'binned MI between per-image aura entropies' },
  'aura-descriptor-ksg': { criterion: 'aura-descriptor', aura: { estimator: 'ksg' }, about: 'as above with the KSG estimator' },
  'aura-L4': { criterion: 'aura', levels: 4, about: 'aura, 4 grey levels' },
  'aura-L16': { criterion: 'aura', levels: 16, about: 'aura, 16 grey levels' },
  'aura-N8': { criterion: 'aura', aura: { neighbourhood: '8' }, about: 'aura, 8-neighbourhood' },
  'aura-bn': { criterion: 'aura', where: 'bn', about: 'aura on maps tapped after batch norm (before the activation)' },
  'aura-c10': { criterion: 'aura', perClass: 10, about: 'aura from 100 calibration images' },
  'aura-c100': { criterion: 'aura', perClass: 100, about: 'aura from 1000 calibration images' },
  mint: { criterion: 'mint', mint: { groups: 1 << 20 }, baseline: true, about: 'MINT, one group per filter (same granularity as aura)' },
  'mint-g8': { criterion: 'mint', mint: { groups: 8 }, baseline: true, about: 'MINT at its grouped setting (8 groups per layer)' },
  hrank: { criterion: 'hrank', baseline: true, about: 'HRank: mean rank of the feature maps' },
  l1: { criterion: 'l1', baseline: true, about: 'L1 norm of the filter weights' },
  'label-mi': { criterion: 'label-mi', baseline: true, about: 'binned MI of the mean activation with the class' },
  taylor: {
    criterion: 'taylor',
    baseline: true,
    about: 'first-order Taylor: |gradient x weight| over a channel, mean over calibration batches (Molchanov 2019)',
  },
  random: { criterion: 'random', baseline: true, about: 'random scores (seeded)' },
  // timing only (its scores equal aura's): aura in the implementation per-filter MINT has, so the two
  // costs compare methods rather than a native kernel with a TypeScript loop
  'aura-ts1': {
    criterion: 'aura',
    aura: { native: false, threads: 1 },
    about: 'aura counted by the TypeScript loop on one thread (timing only, like-for-like with per-filter MINT)',
  },
};

export const OURS = (v: string) => !VARIANTS[v]?.baseline;

/** Calibration images per class a variant scores on: its own, else the study's. */
const perClassOf = (variant: string, settings: Pick<StudySettings, 'perClass'>) => VARIANTS[variant]?.perClass ?? settings.perClass;

export type Budget = 'none' | 'epoch' | 'full';
export type StudyAllocation = 'uniform' | 'sensitivity';

export interface StudyStage {
  budget: Budget;
  variants: string[];
  targets: number[];
  allocations: StudyAllocation[];
  /** the seeds of this stage's cells (default: the study's); the costly recovery budget takes fewer */
  seeds?: number[];
}

export interface StudySettings {
  /** calibration images per class (default sample) */
  perClass: number;
  levels: number;
  where: TapPoint;
  by: 'flops' | 'params';
  maxRemove: number;
  recalBatches: number;
  epoch: Omit<TrainConfig, 'seed'>;
  full: Omit<TrainConfig, 'seed'>;
  /** criterion whose per-layer sensitivity curves give the shared 'sensitivity' allocation */
  sensitivityCriterion: string;
  /** sigma (pixel scale 0..1) of the Gaussian noise on the noisy test set of full cells */
  noisySigma: number;
}

export interface StabilityPlan {
  variants: string[];
  /** calibration images per class compared with the default-size ranking of a disjoint sample */
  sizes: number[];
  sigmas: number[];
}

export interface StudyOptions {
  settings: StudySettings;
  seeds: number[];
  stages: StudyStage[];
  stability?: StabilityPlan;
  /** variants scored only for their cost (no cells), on these seeds: like-for-like timing */
  costs?: { variants: string[]; seeds: number[] };
  stopAfterCells?: number;
  quiet?: boolean;
}

export interface StudyLine {
  key: string;
  budget: Budget;
  allocation: StudyAllocation;
  variant: string;
  target: number;
  seed: number;
  flopsRemoved: number;
  paramsRemoved: number;
  kept: number[];
  /** budget none: raw and batch-norm re-estimated accuracy (per-image results packed) */
  testAccRaw?: number;
  testAccBn?: number;
  correctRaw?: string;
  correctBn?: string;
  /** budgets epoch / full */
  testAcc?: number;
  valAcc?: number;
  correct?: string;
  testAccNoisy?: number;
  /** budget full: which noisy test images the fine-tuned model got right (cells from 2026-11-29 on) */
  correctNoisy?: string;
  finetuneSeconds?: number;
  scoringSeconds: number;
  activationSeconds: number;
  /** where the cell ran (cells from 2026-12-07 on): a report rebuilt elsewhere still names it */
  machine?: string;
}

export const studyKey = (b: Budget, a: StudyAllocation, v: string, t: number, s: number) => `${b}|${a}|${v}|${t}|${s}`;

export const readLines = readJsonLines;

/**
 * The study's noisy test set (one fixed noise draw, so every cell and every rerun sees the same images),
 * built on first use: only recovery fine-tunes are evaluated on it.
 */
export function studyNoisyTest(data: Pick<Data, 'test'>, s: Pick<StudySettings, 'noisySigma'>): () => ImageSplit {
  let noisy: ImageSplit | null = null;
  return () => (noisy ??= noisyCopy(data.test, s.noisySigma, 7));
}

/** Seeded uint8 copy of a split with Gaussian pixel noise of `sigma` (0..1 scale), clipped. */
export function noisyCopy(split: ImageSplit, sigma: number, seed: number): ImageSplit {
  const rng = new Rng(seed);
  const images = Uint8Array.from(inMemory(split).images, (p) => Math.min(255, Math.max(0, Math.round(p + 255 * sigma * rng.normal()))));
  return { images, labels: split.labels, n: split.n, info: split.info };
}

/** `parts` class-balanced samples of `perClass` images per class with no image in common. */
export function disjointSamples(split: ImageSplit, perClass: number, parts: number, seed: number): ImageSplit[] {
  const big = balancedSample(split, perClass * parts, seed);
  const byClass: number[][] = Array.from({ length: split.info.classNames.length }, () => []);
  big.labels.forEach((l, i) => byClass[l].push(i));
  return Array.from({ length: parts }, (_, p) =>
    subset(
      big,
      byClass.flatMap((g) => g.slice(p * perClass, (p + 1) * perClass)).sort((a, b) => a - b),
    ),
  );
}

export type Data = { train: ImageSplit; val: ImageSplit; test: ImageSplit };

/** Kept counts per unit for every (allocation, target) the plan uses: computed once, shared by all variants. */
export async function studyAllocations(base: LayersModel, data: Data, out: string, o: StudyOptions): Promise<Record<string, number[]>> {
  const path = join(out, 'allocations.json');
  const have: Record<string, number[]> = existsSync(path) ? readJsonFile(path) : {};
  const units = pruningUnits(base);
  const cost = costModel(base, units);
  const s = o.settings;
  let sens: SensitivityResult | null = null;
  for (const st of o.stages)
    for (const a of st.allocations)
      for (const t of st.targets) {
        const key = `${a}|${t}`;
        if (have[key]) continue;
        const target = { by: s.by, fraction: t };
        if (a === 'uniform') have[key] = allocateUniform(cost, target, { maxRemove: s.maxRemove }).kept;
        else {
          sens ??= await sensitivityCurves(base, data, out, o);
          have[key] = allocateSensitivity(cost, sens.curves, target, sens.baseLoss, { maxRemove: s.maxRemove }).kept;
        }
        writeFileAtomic(path, JSON.stringify(have, null, 1));
      }
  return have;
}

async function sensitivityCurves(base: LayersModel, data: Data, out: string, o: StudyOptions): Promise<SensitivityResult> {
  const path = join(out, 'sensitivity.json');
  if (existsSync(path)) return readJsonFile(path);
  const s = o.settings;
  const units = pruningUnits(base);
  const [r] = await scoreModel(base, balancedSample(data.train, s.perClass, 0), [s.sensitivityCriterion], {
    quantize: { levels: s.levels, zeroBin: true },
    where: s.where,
    seed: 0,
    quiet: true,
  });
  const evalSet = subset(
    data.val,
    Array.from({ length: Math.min(1000, data.val.n) }, (_, i) => i),
  );
  const res = await measureSensitivity(
    base,
    units,
    r.scores.map((x) => x.scores),
    balancedSample(data.train, Math.min(100, s.perClass * 2), 0),
    evalSet,
    { recalBatches: s.recalBatches, quiet: o.quiet },
  );
  writeFileAtomic(path, JSON.stringify({ criterion: s.sensitivityCriterion, ...res }));
  return res;
}

/** Scores of one variant for one seed (and optionally another sample or input noise), cached in scores/. */
export async function variantScores(
  base: LayersModel,
  data: Data,
  out: string,
  settings: StudySettings,
  variant: string,
  seed: number,
  o: { tag?: string; sample?: ImageSplit; inputNoise?: number; quiet?: boolean } = {},
): Promise<ScoresFile> {
  const v = VARIANTS[variant];
  if (!v) throw new Error(`unknown study variant ${variant}; choose from ${Object.keys(VARIANTS).join(', ')}`);
  const path = join(out, 'scores', `${variant}-s${seed}${o.tag ? '-' + o.tag : ''}.json`);
  if (existsSync(path)) return readJsonFile(path);
  mkdirSync(join(out, 'scores'), { recursive: true });
  const sample = o.sample ?? balancedSample(data.train, perClassOf(variant, settings), seed);
  const [r] = await scoreModel(base, sample, [v.criterion], {
    quantize: { levels: v.levels ?? settings.levels, zeroBin: true },
    // the study's aura scores count every neighbour pair (its records predate sampling; a sampled
    // score must not mix with them under the same cached name)
    aura: { edges: 'all', ...v.aura },
    mint: v.mint,
    where: v.where ?? settings.where,
    seed,
    quiet: true,
    ...(o.inputNoise ? { inputNoise: { sigma: o.inputNoise, seed: seed + 1 } } : {}),
  });
  const file = toScoresFile(r, { variant, images: sample.n, seed, tag: o.tag ?? null, implementation: implementationOf(v) });
  writeFileAtomic(path, JSON.stringify(file));
  return file;
}

/** What computed a variant's scores, so a cost names its implementation beside its seconds. */
export function implementationOf(v: Variant): string {
  if (v.criterion === 'aura' || v.criterion === 'aura-red') {
    const threads = v.aura?.threads ?? threadBudget();
    return v.aura?.native !== false && nativeAuraKernel(threads)
      ? `native kernel, ${threads} thread${threads > 1 ? 's' : ''}`
      : `TypeScript, ${threads} thread${threads > 1 ? 's' : ''}`;
  }
  if (v.criterion === 'mint' || v.criterion === 'label-mi' || v.criterion === 'aura-descriptor') return 'TypeScript, 1 thread';
  return 'tensor ops (libtorch or tfjs backend)';
}

const cellCost = (b: Budget, s: StudySettings) => (b === 'none' ? 1 : b === 'epoch' ? 6 * s.epoch.epochs : 6 * s.full.epochs);

export interface StudyCell {
  budget: Budget;
  allocation: StudyAllocation;
  variant: string;
  target: number;
  seed: number;
}

/** The plan's cells in priority order (stages in order, every seed within a stage), without repeats. */
export function studyCells(o: Pick<StudyOptions, 'stages' | 'seeds'>): Array<[string, StudyCell]> {
  const cells = o.stages.flatMap((st) =>
    (st.seeds ?? o.seeds).flatMap((seed) =>
      st.allocations.flatMap((a) =>
        st.variants.flatMap((v) => st.targets.map((t) => ({ budget: st.budget, allocation: a, variant: v, target: t, seed }))),
      ),
    ),
  );
  return [...new Map(cells.map((c) => [studyKey(c.budget, c.allocation, c.variant, c.target, c.seed), c as StudyCell])).entries()];
}

/** base.json (the unpruned reference, with its per-image results) and the shared allocations. */
export async function prepareStudy(base: LayersModel, data: Data, out: string, o: StudyOptions): Promise<Record<string, number[]>> {
  mkdirSync(out, { recursive: true });
  const basePath = join(out, 'base.json');
  if (!existsSync(basePath)) {
    const c = countComplexity(base);
    const t = evaluate(base, data.test);
    writeFileAtomic(
      basePath,
      JSON.stringify({
        valAcc: evaluate(base, data.val).accuracy,
        testAcc: t.accuracy,
        testN: t.n,
        correct: packBits(t.correct),
        testAccNoisy: evaluate(base, noisyCopy(data.test, o.settings.noisySigma, 7)).accuracy,
        params: c.params,
        flops: c.flops,
        dataset: data.test.info.name,
      }),
    );
  }
  return studyAllocations(base, data, out, o);
}

/** One study cell: the variant's scores, the shared counts, surgery, then the cell's budget. */
export async function runStudyCell(
  base: LayersModel,
  data: Data,
  out: string,
  s: StudySettings,
  c: StudyCell,
  counts: Record<string, number[]>,
  noisyTest: () => ImageSplit,
  o: { quiet?: boolean } = { quiet: true },
): Promise<StudyLine> {
  const key = studyKey(c.budget, c.allocation, c.variant, c.target, c.seed);
  const scores = await variantScores(base, data, out, s, c.variant, c.seed);
  // the accuracy right after surgery is only reported for the no-fine-tune budget
  const evalNow = c.budget === 'none';
  const r = await pruneAndRecover(
    base,
    scores,
    { by: s.by, fraction: c.target },
    {
      counts: counts[`${c.allocation}|${c.target}`],
      calib: balancedSample(data.train, s.perClass, c.seed),
      recalBatches: s.recalBatches,
      seed: c.seed,
      evalOn: evalNow ? { test: data.test } : {},
    },
  );
  const { model: pruned, report } = r;
  const line: StudyLine = {
    key,
    budget: c.budget,
    allocation: c.allocation,
    variant: c.variant,
    target: c.target,
    seed: c.seed,
    flopsRemoved: report.achieved.flops,
    paramsRemoved: report.achieved.params,
    kept: report.units.map((u) => u.kept.length),
    scoringSeconds: scores.scoringSeconds,
    activationSeconds: scores.activationSeconds,
    machine: machine(tf.getBackend()),
  };
  if (evalNow) {
    const raw = r.raw.test;
    const bn = r.recalibrated.test;
    Object.assign(line, {
      testAccRaw: raw.accuracy,
      testAccBn: bn.accuracy,
      correctRaw: packBits(raw.correct),
      correctBn: packBits(bn.correct),
    });
  } else {
    const t0 = performance.now();
    const cfg = c.budget === 'epoch' ? s.epoch : s.full;
    const cellDir = join(out, 'cells', key.replace(/\|/g, '_'));
    // the cell's fine-tune shows its own epochs (rate, ETA) unless the run is quiet
    const ft = await trainModel(pruned, { ...cfg, seed: c.seed }, data, cellDir, { resume: true, quiet: o.quiet ?? true });
    // the noisy test set sees the same weights as the clean one: the best-by-validation checkpoint
    const bestDir = join(cellDir, 'best');
    const chosen = c.budget === 'full' && existsSync(join(bestDir, 'model.json')) ? await loadModel(bestDir) : ft.model;
    const noisyEval = c.budget === 'full' ? evaluate(chosen, noisyTest()) : undefined;
    if (chosen !== ft.model) chosen.dispose();
    Object.assign(line, {
      testAcc: ft.test!.accuracy,
      valAcc: ft.bestValAcc,
      correct: packBits(ft.test!.correct),
      testAccNoisy: noisyEval?.accuracy,
      correctNoisy: noisyEval ? packBits(noisyEval.correct) : undefined,
      finetuneSeconds: (performance.now() - t0) / 1000,
    });
    if (ft.model !== pruned) ft.model.dispose();
  }
  pruned.dispose();
  return line;
}

export async function runStudy(
  base: LayersModel,
  data: Data,
  out: string,
  o: StudyOptions,
  hooks: { onCell?: (newCells: number) => void } = {},
): Promise<{ lines: StudyLine[]; newCells: number; complete: boolean }> {
  mkdirSync(out, { recursive: true });
  const s = o.settings;
  const resultsPath = join(out, 'results.jsonl');
  const done = new Set(repairJsonLines<StudyLine>(resultsPath).map((l) => l.key));
  const counts = await prepareStudy(base, data, out, o);
  const unique = studyCells(o);
  const total = unique.reduce((a, [, c]) => a + cellCost(c.budget, s), 0);
  let work = unique.filter(([k]) => done.has(k)).reduce((a, [, c]) => a + cellCost(c.budget, s), 0);
  const bar = o.quiet ? null : new Progress('study', total, 'unit');
  let newCells = 0;
  const noisyTest = studyNoisyTest(data, s);
  let stabilityDone = false;
  for (const [key, c] of unique) {
    if (done.has(key)) continue;
    // stability (scoring only) before the long recovery fine-tunes, so a session's worth of work covers every part
    if (c.budget === 'full' && o.stability && !stabilityDone) {
      await runStability(base, data, out, o);
      stabilityDone = true;
    }
    if (o.stopAfterCells !== undefined && newCells >= o.stopAfterCells) return { lines: readLines(resultsPath), newCells, complete: false };
    bar?.update(work, `${c.budget} ${c.allocation} ${c.variant} -${c.target} s${c.seed}`);
    const line = await runStudyCell(base, data, out, s, c, counts, noisyTest, { quiet: o.quiet });
    appendFileSync(resultsPath, JSON.stringify(line) + '\n');
    done.add(key);
    newCells++;
    hooks.onCell?.(newCells);
    work += cellCost(c.budget, s);
    bar?.update(work);
  }
  if (o.stability && !stabilityDone) await runStability(base, data, out, o);
  await runCosts(base, data, out, o);
  return { lines: readLines(resultsPath), newCells, complete: true };
}

/** The plan's timing-only scorings (cached like every score file; scoringCosts reads their seconds). */
export async function runCosts(base: LayersModel, data: Data, out: string, o: Pick<StudyOptions, 'costs' | 'settings' | 'quiet'>) {
  for (const v of o.costs?.variants ?? [])
    for (const seed of o.costs!.seeds) {
      if (!o.quiet) process.stderr.write(`study: timing ${v} s${seed}\n`);
      await variantScores(base, data, out, o.settings, v, seed, { quiet: true });
    }
}

export interface StabilityRow {
  variant: string;
  kind: 'disjoint' | 'size' | 'noise';
  /** images per class (size), sigma (noise) or the default size (disjoint) */
  param: number;
  spearman: Interval;
  topHalf: Interval;
  /** the per-seed layer means the intervals are made from (rows from 2026-12-07 on) */
  perSeed?: { spearman: number[]; topHalf: number[] };
}

function agreement(a: ScoresFile, b: ScoresFile): { spearman: number[]; topHalf: number[] } {
  const sp: number[] = [],
    th: number[] = [];
  a.units.forEach((u, i) => {
    const v = b.units[i].scores;
    const r = spearman(u.scores, v);
    // a layer where either ranking is constant (e.g. HRank when every map has full rank) says nothing
    // about stability: it is left out rather than counted as perfectly stable
    if (Number.isNaN(r)) return;
    sp.push(r);
    th.push(topKOverlap(u.scores, v, Math.max(1, Math.floor(u.scores.length / 2))));
  });
  return { spearman: sp, topHalf: th };
}

type StabilityJob = Pick<StabilityRow, 'kind' | 'param'>;

/**
 * The score tags one stability job compares: the reference ranking (sample A, `per` images a class)
 * and the other one (sample B at `per` or the job's size, or sample A with input noise).
 */
function stabilityTags(per: number, job: StabilityJob): [string, string] {
  return [`stabA${per}`, job.kind === 'disjoint' ? `stabB${per}` : job.kind === 'size' ? `stabB${job.param}` : `stabA${per}n${job.param}`];
}

/** The two cached score files of a stability job for one seed (variantScores' names). */
function stabilityFiles(out: string, variant: string, seed: number, per: number, job: StabilityJob): [string, string] {
  return stabilityTags(per, job).map((tag) => join(out, 'scores', `${variant}-s${seed}-${tag}.json`)) as [string, string];
}

/**
 * One stability row from the cached score files: each statistic is averaged over the layers within a
 * seed (the layers of one seed share its calibration samples, so they are not independent), and the
 * interval is a t interval over those per-seed means (bootstrap.ts tMean, coverage checked by
 * simulation). Null when a seed's files are missing.
 */
export function stabilityFromScores(out: string, variant: string, per: number, job: StabilityJob, seeds: number[]): StabilityRow | null {
  const sp: number[] = [],
    th: number[] = [];
  for (const seed of seeds) {
    const [a, b] = stabilityFiles(out, variant, seed, per, job);
    if (!existsSync(a) || !existsSync(b)) return null;
    const g = agreement(readJsonFile(a), readJsonFile(b));
    if (!g.spearman.length) continue; // every layer's ranking constant: nothing to say for this seed
    sp.push(meanSd(g.spearman).mean);
    th.push(meanSd(g.topHalf).mean);
  }
  // a t interval knows nothing of the statistic's range: cut it at what Spearman / overlap can be
  const within = (iv: Interval, lo: number, hi: number): Interval => ({ ...iv, lo: Math.max(lo, iv.lo), hi: Math.min(hi, iv.hi) });
  return {
    variant,
    ...job,
    spearman: within(tMean(sp), -1, 1),
    topHalf: within(tMean(th), 0, 1),
    perSeed: { spearman: sp, topHalf: th },
  };
}

/**
 * Recomputes every row of OUT/stability.json from the cached score files (rows analysed before the
 * per-seed intervals, or with other seeds, are brought up to date; a row whose files are gone stays).
 */
export function restabilise(out: string, settings: Pick<StudySettings, 'perClass'>, seeds: number[]): StabilityRow[] {
  const path = join(out, 'stability.json');
  if (!existsSync(path)) return [];
  const rows = (readJsonFile(path) as StabilityRow[]).map(
    (r) => stabilityFromScores(out, r.variant, perClassOf(r.variant, settings), { kind: r.kind, param: r.param }, seeds) ?? r,
  );
  writeFileAtomic(path, JSON.stringify(rows, null, 1));
  return rows;
}

/** Ranking stability per variant (stabilityFromScores); scores are cached under OUT/scores, rows in stability.json. */
export async function runStability(base: LayersModel, data: Data, out: string, o: StudyOptions): Promise<StabilityRow[]> {
  const p = o.stability!;
  const s = o.settings;
  const path = join(out, 'stability.json');
  const rows: StabilityRow[] = existsSync(path) ? readJsonFile(path) : [];
  const bar = o.quiet ? null : new Progress('stability', p.variants.length * (1 + p.sizes.length + p.sigmas.length), 'row');
  let n = 0;
  for (const variant of p.variants) {
    const per = perClassOf(variant, s);
    const jobs: StabilityJob[] = [
      { kind: 'disjoint', param: per },
      ...p.sizes.map((x) => ({ kind: 'size' as const, param: x })),
      ...p.sigmas.map((x) => ({ kind: 'noise' as const, param: x })),
    ];
    for (const job of jobs) {
      bar?.update(n++, `${variant} ${job.kind} ${job.param}`);
      for (const seed of o.seeds) {
        if (stabilityFiles(out, variant, seed, per, job).every((f) => existsSync(f))) continue;
        const maxPer = Math.max(per, ...p.sizes);
        // two disjoint pools: the reference ranking always comes from A, the compared one from B
        const [A, B] = disjointSamples(data.train, maxPer, 2, 1000 + seed);
        const first = (x: ImageSplit, k: number) => {
          const byClass: number[][] = Array.from({ length: x.info.classNames.length }, () => []);
          x.labels.forEach((l, i) => byClass[l].push(i));
          return subset(
            x,
            byClass.flatMap((g) => g.slice(0, k)).sort((a, b) => a - b),
          );
        };
        const [refTag, otherTag] = stabilityTags(per, job);
        await variantScores(base, data, out, s, variant, seed, { tag: refTag, sample: first(A, per) });
        await variantScores(
          base,
          data,
          out,
          s,
          variant,
          seed,
          job.kind === 'noise'
            ? { tag: otherTag, sample: first(A, per), inputNoise: job.param }
            : { tag: otherTag, sample: first(B, job.kind === 'size' ? job.param : per) },
        );
      }
      const row = stabilityFromScores(out, variant, per, job, o.seeds)!;
      const i = rows.findIndex((r) => r.variant === variant && r.kind === job.kind && r.param === job.param);
      if (i < 0) rows.push(row);
      else rows[i] = row;
      writeFileAtomic(path, JSON.stringify(rows, null, 1));
    }
  }
  bar?.update(n);
  return rows;
}

// ---------------------------------------------------------------------------------------------
// analysis

export type Measure = 'raw' | 'bn' | 'epoch' | 'full';
export const MEASURES: Measure[] = ['raw', 'bn', 'epoch', 'full'];

export interface StudyRow {
  measure: Measure;
  allocation: StudyAllocation;
  target: number;
  variant: string;
  seeds: number[];
  flopsRemoved: number;
  mean: number;
  sd: number;
  noisy?: { mean: number; sd: number };
  /** noisy test accuracy paired against random, when every cell of both kept its per-image results */
  noisyVsRandom?: Comparison;
  vsRandom?: Comparison;
  vsBestBaseline?: Comparison & { baseline: string };
  /** aura's own variants (ablations, aura-red) against the default aura, paired like the others */
  vsDefault?: Comparison;
}

/** A paired difference with its 95% interval; `method` is absent in records analysed before t intervals. */
export type Comparison = Interval & { verdict: string; method?: IntervalMethod };

/**
 * How a comparison's interval was made: `t` = Student t over the per-seed paired differences plus the
 * test images' sampling (eval/bootstrap.ts pairedTInterval); `images` = one seed, a bootstrap over
 * test images only (blind to how much another calibration sample or fine-tune order would move it).
 */
export type IntervalMethod = 't' | 'images';

function measureOf(l: StudyLine, m: Measure): { acc: number; bits: string } | null {
  if (m === 'raw') return l.testAccRaw !== undefined ? { acc: l.testAccRaw, bits: l.correctRaw! } : null;
  if (m === 'bn') return l.testAccBn !== undefined ? { acc: l.testAccBn, bits: l.correctBn! } : null;
  return l.budget === m && l.testAcc !== undefined ? { acc: l.testAcc, bits: l.correct! } : null;
}

/**
 * Per (measure, allocation, target, variant): mean and sd over seeds, and paired bootstrap
 * intervals against random and against the best baseline of the same group (the baseline with the
 * highest mean, chosen on the same test numbers, which favours the baseline).
 */
export function analyseStudy(lines: StudyLine[], testN: number, o: { resamples?: number } = {}): StudyRow[] {
  const groups = new Map<string, Map<string, Map<number, { acc: number; bits: string; line: StudyLine }>>>();
  for (const l of lines)
    for (const m of MEASURES) {
      const x = measureOf(l, m);
      if (!x) continue;
      const g = `${m}|${l.allocation}|${l.target}`;
      if (!groups.has(g)) groups.set(g, new Map());
      const byVariant = groups.get(g)!;
      if (!byVariant.has(l.variant)) byVariant.set(l.variant, new Map());
      byVariant.get(l.variant)!.set(l.seed, { ...x, line: l });
    }
  const rows: StudyRow[] = [];
  for (const [g, byVariant] of groups) {
    const [m, allocation, target] = g.split('|');
    const stats = new Map([...byVariant].map(([v, seeds]) => [v, meanSd([...seeds.values()].map((x) => x.acc))]));
    const baselines = [...byVariant.keys()].filter((v) => VARIANTS[v]?.baseline && v !== 'random');
    const best = baselines.sort((a, b) => stats.get(b)!.mean - stats.get(a)!.mean)[0];
    // paired by seed on the images both kept results for (clean bits always; noisy bits only in full
    // cells run since they were recorded)
    type Entry = { bits: string; line: StudyLine };
    const paired = (v: string, ref: string, bitsOf: (x: Entry) => string | undefined = (x) => x.bits) => {
      const a = byVariant.get(v)!,
        b = byVariant.get(ref);
      if (!b || v === ref) return undefined;
      const common = [...a.keys()].filter((s) => b.has(s) && bitsOf(a.get(s)!) && bitsOf(b.get(s)!)).sort((x, y) => x - y);
      if (!common.length) return undefined;
      const as = common.map((s) => unpackBits(bitsOf(a.get(s)!)!, testN)),
        bs = common.map((s) => unpackBits(bitsOf(b.get(s)!)!, testN));
      // a t interval over the seeds' paired differences keeps its coverage from 2 seeds up (the
      // percentile bootstrap over 3 seeds covered ~76%: bootstrap_test.ts); one seed has no
      // between-seed variance to estimate, so only the test images' sampling is left
      const iv = common.length >= 2 ? pairedTInterval(as, bs) : pairedBootstrap(as, bs, { resamples: o.resamples });
      return { ...iv, verdict: verdict(iv), method: (common.length >= 2 ? 't' : 'images') as IntervalMethod };
    };
    for (const [v, seeds] of byVariant) {
      const ls = [...seeds.values()].map((x) => x.line);
      const noisy = ls.filter((l) => l.testAccNoisy !== undefined).map((l) => l.testAccNoisy!);
      const vb = best && v !== best ? paired(v, best) : undefined;
      rows.push({
        measure: m as Measure,
        allocation: allocation as StudyAllocation,
        target: Number(target),
        variant: v,
        seeds: [...seeds.keys()].sort((a, b) => a - b),
        flopsRemoved: meanSd(ls.map((l) => l.flopsRemoved)).mean,
        ...stats.get(v)!,
        noisy: m === 'full' && noisy.length ? meanSd(noisy) : undefined,
        noisyVsRandom: m === 'full' ? paired(v, 'random', (x) => x.line.correctNoisy) : undefined,
        vsRandom: paired(v, 'random'),
        vsBestBaseline: vb ? { ...vb, baseline: best } : undefined,
        // a variant of ours becomes the default only if it beats aura with an interval excluding zero
        vsDefault: v !== 'aura' && !VARIANTS[v]?.baseline ? paired(v, 'aura') : undefined,
      });
    }
  }
  const mi = (m: Measure) => MEASURES.indexOf(m);
  return rows.sort(
    (a, b) => mi(a.measure) - mi(b.measure) || a.allocation.localeCompare(b.allocation) || a.target - b.target || b.mean - a.mean,
  );
}

/** Scoring cost per variant (mean over the seeds' main scores): the efficiency table. */
export function scoringCosts(out: string, variants: string[], seeds: number[]) {
  return variants
    .map((v) => {
      const files = seeds.map((s) => join(out, 'scores', `${v}-s${s}.json`)).filter(existsSync);
      if (!files.length) return null;
      const f = files.map((p) => readJsonFile(p) as ScoresFile);
      return {
        variant: v,
        images: (f[0].config?.images as number) ?? 0,
        scoringSeconds: meanSd(f.map((x) => x.scoringSeconds)),
        activationSeconds: meanSd(f.map((x) => x.activationSeconds)),
        ...(f[0].config?.implementation ? { implementation: f[0].config.implementation as string } : {}),
        // distinct scores per layer (first seed): records from before the tie-break hold raw scores
        distinct: f[0].units.map((u) => ({ conv: u.conv, filters: u.filters, distinct: u.distinct ?? new Set(u.scores).size })),
        tieBreak: f[0].units.some((u) => u.distinct !== undefined) ? ('seeded' as const) : ('index' as const),
      };
    })
    .filter((x): x is NonNullable<typeof x> => !!x);
}
