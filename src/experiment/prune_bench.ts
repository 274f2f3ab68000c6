/**
 * `auraprune bench prune`: the pruning target table. For each cell (FLOPs target x criterion x
 * allocation x recovery recipe) it prunes the base physically, measures test accuracy right after
 * surgery (raw) and after batch-norm re-estimation, fine-tunes (optionally with distillation from the
 * base, optionally in K prune/fine-tune rounds), measures test accuracy (plain and TTA, never mixed)
 * and the inference speed-up against the base with batch norm folded, measured alternately in the
 * same process. One JSON line per cell in results.jsonl (finished cells are skipped on a rerun; a
 * cell's fine-tune resumes from its checkpoint).
 */
import { pruneAndRecover } from './recover.js';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ImageSplit } from '../data/dataset.js';
import { balancedSample, subset } from '../data/pipeline.js';
import { countComplexity } from '../eval/complexity.js';
import { evaluate, TtaLevel } from '../eval/evaluate.js';
import { compareSpeed } from '../eval/speed.js';
import { loadImageModel, saveModel } from '../models/io.js';
import { measureSensitivity } from '../prune/allocate/sensitivity.js';
import { scoreModel } from '../prune/importance/registry.js';
import { Allocation, ChannelGroups, ScoresFile, toScoresFile } from '../prune/pipeline.js';
import { foldBatchNorm } from '../prune/surgery/fold_bn.js';
import { pruningUnits } from '../prune/graph/graph.js';
import { bnScales } from '../models/layers.js';
import { SparsityOptions, trainModel, TrainConfig } from '../train/loop.js';
import { sparsityPenalty } from '../prune/sparsity.js';
import { writeFileAtomic } from '../util/atomic.js';
import { repairJsonLines, readJsonFile } from '../util/jsonl.js';
import { Rng } from '../util/rng.js';

export interface PruneCell {
  target: number;
  criterion: string;
  allocation: Allocation;
  /** fine-tune epochs in total (split evenly over the rounds) */
  epochs: number;
  /** fine-tune peak lr as a multiple of the recipe's */
  lrScale: number;
  distill: boolean;
  /** prune/fine-tune rounds (geometric schedule of the remaining fraction) */
  rounds: number;
  /** kept counts are multiples of this (channel blocks; allocate.ts); 1 or absent: any count */
  roundTo?: number;
  /** coupled groups (residual streams pruned too; the default) or internal-only */
  groups?: ChannelGroups;
  /** a sparsity fine-tune of the base before round 1 (slimming), at the cell's recipe and lr */
  slim?: SparsityOptions & { epochs: number };
}

/** The part of a cell's key (and cache names) that names its slimming phase; '' without one. */
const slimTag = (s: PruneCell['slim']) =>
  s && s.epochs > 0 ? `|slim-${s.kind}-${s.lambda}${s.schedule === 'growing' ? 'g' : ''}-e${s.epochs}` : '';

/** A cell's slimming phase by name (its slimmed base's directory and score caches); '' without one. */
const slimName = (c: PruneCell) => (slimTag(c.slim) ? `${slimTag(c.slim).slice(1)}-lr${c.lrScale}` : '');

/** A cell's key; it names the channel grouping, so cells from before coupled groups existed never match. */
export const pruneCellKey = (c: PruneCell, seed: number) =>
  `${c.criterion}|${c.allocation}|flops${c.target}|e${c.epochs}|lr${c.lrScale}|${c.distill ? 'kd' : 'ce'}|k${c.rounds}${(c.roundTo ?? 1) > 1 ? `|r${c.roundTo}` : ''}|${c.groups ?? 'coupled'}${slimTag(c.slim)}|s${seed}`;

export interface PruneBenchOptions {
  cells: PruneCell[];
  seed: number;
  /** the fine-tune recipe at lrScale 1 (epochs and seed are set per cell) */
  recipe: TrainConfig;
  perClass: number;
  recalBatches: number;
  tta: TtaLevel;
  distill: { temperature: number; alpha: number };
  /** validation images the sensitivity curves are measured on */
  sensitivityImages: number;
  quiet?: boolean;
}

/** Cumulative FLOPs fraction removed after round k of K: 1 - (1 - F)^(k/K) (geometric schedule). */
export function roundTarget(F: number, k: number, K: number): number {
  return 1 - (1 - F) ** (k / K);
}

/** The fine-tune config of a cell's phase: the recipe at the cell's lr scale (airbench decay follows lr). */
function phaseConfig(o: PruneBenchOptions, cell: PruneCell, epochs: number, seed: number): TrainConfig {
  return {
    ...o.recipe,
    epochs,
    lr: o.recipe.lr * cell.lrScale,
    // airbench's decay is a per-step fraction tied to its lr; SGD's L2 coefficient is not
    weightDecay: o.recipe.weightDecay * (o.recipe.paramGroups === 'airbench' ? cell.lrScale : 1),
    seed,
  };
}

/**
 * The base after the cell's slimming phase (the recipe with a sparsity penalty, BN scales trained),
 * shared by every cell with the same phase and seed and resumable: its final weights (the penalty's
 * full effect, not the best by validation) are what is scored and pruned.
 */
async function slimmedBase(
  baseDir: string,
  cell: PruneCell & { slim: NonNullable<PruneCell['slim']> },
  data: { train: ImageSplit; val: ImageSplit; test: ImageSplit },
  out: string,
  o: PruneBenchOptions,
): Promise<{ model: LayersModel; info: Record<string, unknown> }> {
  const { epochs, ...sparsity } = cell.slim;
  const dir = join(out, 'slim', `${slimName(cell)}-s${o.seed}`);
  const infoPath = join(dir, 'slim.json');
  // a finished phase is only loaded; a fresh one's final model is measured and handed on as is
  let model: LayersModel | undefined;
  if (!existsSync(infoPath)) {
    const cfg = { ...phaseConfig(o, cell, epochs, o.seed * 100), sparsity };
    const t0 = performance.now();
    const r = await trainModel(await loadImageModel(baseDir), cfg, { train: data.train, val: data.val }, dir, {
      resume: true,
      quiet: o.quiet,
      penalty: sparsityPenalty(sparsity),
    });
    r.model.dispose();
    model = await loadImageModel(join(dir, 'final'));
    const abs = bnScales(model)
      .flatMap((g) => Array.from(g, Math.abs))
      .sort((a, b) => a - b);
    const info = {
      ...cell.slim,
      lrScale: cell.lrScale,
      seconds: (performance.now() - t0) / 1000,
      testAcc: evaluate(model, data.test).accuracy,
      // how far the penalty went: the scales' median and the share below 0.1 (they start at 1 on airbench)
      gammaMedian: abs[Math.floor(abs.length / 2)],
      gammaBelow01: abs.filter((g) => g < 0.1).length / abs.length,
    };
    writeFileAtomic(infoPath, JSON.stringify(info));
  }
  return { model: model ?? (await loadImageModel(join(dir, 'final'))), info: readJsonFile(infoPath) };
}

async function scoresFor(
  model: LayersModel,
  sample: ImageSplit,
  criterion: string,
  seed: number,
  cache: string | null,
): Promise<ScoresFile> {
  if (cache && existsSync(cache)) return readJsonFile(cache);
  const [r] = await scoreModel(model, sample, [criterion], { seed, where: 'relu', quiet: true });
  const f = toScoresFile(r, { criterion, perClass: sample.n / 10, seed, where: 'relu' });
  if (cache) writeFileAtomic(cache, JSON.stringify(f));
  return f;
}

export async function runPruneBench(
  baseDir: string,
  data: { train: ImageSplit; val: ImageSplit; test: ImageSplit },
  out: string,
  o: PruneBenchOptions,
  onLine: (line: Record<string, unknown>) => void = () => {},
): Promise<Array<Record<string, unknown>>> {
  mkdirSync(out, { recursive: true });
  const resultsPath = join(out, 'results.jsonl');
  const done = new Set(repairJsonLines<{ key: string }>(resultsPath).map((r) => r.key));
  const base = await loadImageModel(baseDir);
  const baseC = countComplexity(base);
  const basePath = join(out, 'base.json');
  let baseInfo: Record<string, unknown>;
  if (existsSync(basePath)) baseInfo = readJsonFile(basePath);
  else {
    const t = evaluate(base, data.test, { progress: o.quiet ? undefined : 'base test' });
    const tt = o.tta ? evaluate(base, data.test, { tta: o.tta, progress: o.quiet ? undefined : 'base test TTA' }) : null;
    baseInfo = { model: baseDir, testAcc: t.accuracy, testAccTta: tt?.accuracy, tta: o.tta, params: baseC.params, flops: baseC.flops };
    writeFileAtomic(basePath, JSON.stringify(baseInfo));
  }
  const calib = balancedSample(data.train, o.perClass, o.seed);
  const sensEval = subset(
    data.val,
    new Rng(o.seed ^ 0x5e45).shuffle(Array.from({ length: data.val.n }, (_, i) => i)).slice(0, Math.min(o.sensitivityImages, data.val.n)),
  );
  const baseFolded = (await foldBatchNorm(base)).model;
  const lines: Array<Record<string, unknown>> = [];
  for (const cell of o.cells) {
    const key = pruneCellKey(cell, o.seed);
    if (done.has(key)) continue;
    const cellDir = join(out, 'cells', key.replace(/[|]/g, '_'));
    mkdirSync(cellDir, { recursive: true });
    const t0 = performance.now();
    let model = base;
    const rounds: Array<Record<string, unknown>> = [];
    let ftSeconds = 0;
    let slim: Record<string, unknown> | undefined;
    if (cell.slim && cell.slim.epochs > 0) {
      const s = await slimmedBase(baseDir, { ...cell, slim: cell.slim }, data, out, o);
      model = s.model;
      slim = s.info;
      ftSeconds += s.info.seconds as number;
    }
    // the slimmed base depends on the phase and the cell's lr: both name its caches
    const name = slimName(cell);
    const tag = name && `_${name}`;
    for (let k = 1; k <= cell.rounds; k++) {
      // scores on the current model (round 1: the base or its slimmed copy, cached per criterion and seed)
      const cache = k === 1 ? join(out, `scores-${cell.criterion}${tag}-s${o.seed}.json`) : null;
      const scores = await scoresFor(model, calib, cell.criterion, o.seed, cache);
      const coupled = (cell.groups ?? 'coupled') === 'coupled';
      const units = pruningUnits(model, [], { coupled });
      // the target is relative to the base: this round removes what brings the total to roundTarget
      const curFlops = countComplexity(model).flops;
      const want = 1 - (1 - roundTarget(cell.target, k, cell.rounds)) * (baseC.flops / curFlops);
      let sensitivity;
      if (cell.allocation === 'sensitivity') {
        const sensPath = join(
          out,
          `sensitivity-${cell.criterion}-${cell.groups ?? 'coupled'}${tag}-s${o.seed}${k > 1 ? `-${key.replace(/[|]/g, '_')}-r${k}` : ''}.json`,
        );
        if (existsSync(sensPath)) sensitivity = readJsonFile(sensPath);
        else {
          const s = units.map((u) => Float64Array.from(scores.units.find((x) => x.conv === u.conv)!.scores));
          sensitivity = await measureSensitivity(model, units, s, calib, sensEval, {
            recalBatches: o.recalBatches,
            seed: o.seed,
            quiet: o.quiet,
          });
          writeFileAtomic(sensPath, JSON.stringify(sensitivity));
        }
      }
      const r = await pruneAndRecover(
        model,
        scores,
        { by: 'flops', fraction: want },
        {
          allocation: cell.allocation,
          sensitivity,
          roundTo: cell.roundTo,
          coupled,
          calib,
          recalBatches: o.recalBatches,
          seed: o.seed,
          evalOn: { test: data.test },
          progress: true,
        },
      );
      const { model: pruned, report } = r;
      const raw = r.raw.test;
      const recal = r.recalibrated.test;
      if (model !== base) model.dispose();
      model = pruned;
      const ftEpochs = Math.round(cell.epochs / cell.rounds);
      let after = recal.accuracy;
      if (ftEpochs > 0) {
        const cfg: TrainConfig = { ...phaseConfig(o, cell, ftEpochs, o.seed * 100 + k), distill: cell.distill ? o.distill : undefined };
        const f0 = performance.now();
        const r = await trainModel(model, cfg, { train: data.train, val: data.val }, join(cellDir, `round${k}`), {
          resume: true,
          quiet: o.quiet,
          teacher: cell.distill ? base : undefined,
        });
        ftSeconds += (performance.now() - f0) / 1000;
        // the fine-tune's best-by-validation model goes on (the test set is only measured)
        const best = await loadImageModel(join(cellDir, `round${k}`, 'best'));
        if (r.model !== best) r.model.dispose();
        model = best;
        after = evaluate(model, data.test).accuracy;
      }
      rounds.push({
        round: k,
        flopsRemoved: 1 - countComplexity(model).flops / baseC.flops,
        testAccRaw: raw.accuracy,
        testAccRecalBn: recal.accuracy,
        testAccFinetuned: after,
        allocation: report.allocation,
        keptPerLayer: Object.fromEntries(report.units.map((u) => [u.conv, `${u.kept.length}/${u.filters}`])),
        groups: report.units.filter((u) => u.members).map((u) => u.members),
      });
    }
    const c = countComplexity(model);
    const test = evaluate(model, data.test, { progress: 'test' });
    const tta = o.tta ? evaluate(model, data.test, { tta: o.tta, progress: `test (TTA ${o.tta})` }) : null;
    await saveModel(model, join(cellDir, 'model'));
    const folded = (await foldBatchNorm(model)).model;
    const speed = compareSpeed(baseFolded, folded, { batch: 128, rounds: 3 });
    folded.dispose();
    const line = {
      key,
      ...cell,
      seed: o.seed,
      baseTestAcc: baseInfo.testAcc,
      baseTestAccTta: baseInfo.testAccTta,
      params: c.params,
      flops: c.flops,
      paramsRemoved: 1 - c.params / baseC.params,
      flopsRemoved: 1 - c.flops / baseC.flops,
      testAccRaw: rounds[0].testAccRaw,
      testAccRecalBn: rounds[0].testAccRecalBn,
      testAcc: test.accuracy,
      testAccTta: tta?.accuracy,
      drop: (baseInfo.testAcc as number) - test.accuracy,
      dropTta: tta ? (baseInfo.testAccTta as number) - tta.accuracy : undefined,
      rounds,
      // the slimming phase (test accuracy of the slimmed base, its seconds, how sparse its scales got);
      // finetuneSeconds includes its seconds
      slim,
      finetuneSeconds: ftSeconds,
      cellSeconds: (performance.now() - t0) / 1000,
      speed,
    };
    appendFileSync(resultsPath, JSON.stringify(line) + '\n');
    lines.push(line);
    onLine(line);
    if (model !== base) model.dispose();
  }
  baseFolded.dispose();
  return lines;
}

/** Writes `settings` atomically unless the file exists; an existing file must hold the same settings. */
export function writeSettingsOnce(path: string, settings: Record<string, unknown>): void {
  if (existsSync(path)) {
    const old = readFileSync(path, 'utf8');
    if (old.trim() !== JSON.stringify(settings, null, 1).trim())
      throw new Error(`${path} records different settings; use a new --out directory or delete it to start over`);
    return;
  }
  writeFileAtomic(path, JSON.stringify(settings, null, 1));
}
