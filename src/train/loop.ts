/**
 * The training loop: seeded shuffling and augmentation, SGD with schedules, a checkpoint after
 * every epoch (resume continues exactly), metrics.jsonl, the best model chosen by validation
 * accuracy, and the test accuracy measured once, at the end, on that model.
 */
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { type ImageSplit, pixelsOf } from '../data/dataset.js';
import { alternatingFlipBase, AugmentOptions, epochBatches, fillBatch } from '../data/pipeline.js';
import { evaluate, EvalResult, TtaLevel } from '../eval/evaluate.js';
import { inputShape, loadModel, outputUnits, saveModel } from '../models/io.js';
import { readJsonLines } from '../util/jsonl.js';
import { logitsView, OutputHead, withHead } from '../models/logits.js';
import { bnScales } from '../models/layers.js';
import { writeFileAtomic } from '../util/atomic.js';
import { Progress } from '../util/progress.js';
import { Rng } from '../util/rng.js';
import { loadCheckpoint, saveCheckpoint, TrainState } from './checkpoint.js';
import { airbenchRule, WHITEN_BIAS_EPOCHS } from './recipes.js';
import { lrAt, ScheduleName } from './schedule.js';
import { Param, Sgd } from './sgd.js';
import { Lookahead } from './lookahead.js';
import { distillationLoss, DistillOptions } from './distill.js';

export interface TrainConfig {
  epochs: number;
  batch: number;
  lr: number;
  schedule: ScheduleName;
  warmupEpochs: number;
  weightDecay: number;
  decay: 'l2' | 'decoupled';
  momentum: number;
  nesterov: boolean;
  labelSmoothing: number;
  seed: number;
  augment: AugmentOptions;
  /**
   * 'standard': every parameter at the scheduled lr, kernels decayed by `weightDecay` (L2).
   * 'airbench': the airbench groups (recipes.ts), where `weightDecay` is the decay per step.
   */
  paramGroups?: 'standard' | 'airbench';
  /**
   * Lookahead (the airbench recipe's EMA): every `every` steps all weights (BN statistics included)
   * become ema = lerp(ema, w, 1 - d) with d = base * (step / total)^power, and w = ema; at the end
   * of training w = ema.
   */
  lookahead?: { every: number; base: number; power: number };
  /** Knowledge distillation from `opts.teacher` (required when set). */
  distill?: DistillOptions;
  /** A sparsity penalty trained before pruning (prune/sparsity.ts builds `opts.penalty` from it; required when set). */
  sparsity?: SparsityOptions;
  /** Stop after this many epochs in this process (tests of resume); the run stays resumable. */
  stopAfterEpochs?: number;
}

export const SPARSITY_KINDS = ['bn-l1', 'group-l2'] as const;
export interface SparsityOptions {
  kind: (typeof SPARSITY_KINDS)[number];
  lambda: number;
  /** growing: lambda rises linearly from 0 over training (growing regularisation) */
  schedule?: 'constant' | 'growing';
}

export interface EpochMetrics {
  epoch: number;
  lr: number;
  trainLoss: number;
  trainAcc: number;
  valLoss: number;
  valAcc: number;
  seconds: number;
  imagesPerSecond: number;
}

export interface TrainResult {
  bestEpoch: number;
  bestValAcc: number;
  test?: EvalResult;
  testTta?: EvalResult;
  epochsRun: number;
  finished: boolean;
  model: LayersModel;
}

export class NonFiniteLossError extends Error {}

function params(model: LayersModel): Param[] {
  return model.trainableWeights.map((w) => ({ key: w.originalName, variable: (w as unknown as { read(): tf.Variable }).read() }));
}

/** What one SGD step needs besides the batch. */
export interface StepContext {
  model: LayersModel;
  vars: tf.Variable[];
  ps: Param[];
  sgd: Sgd;
  cfg: TrainConfig;
  teacher?: LayersModel;
  /** Extra gradients (a sparsity penalty) added to the loss gradients of this step, by variable name. */
  penalty?: () => Record<string, tf.Tensor>;
  /** The batch's image shape when the model's input leaves height or width free. */
  shape?: [number, number, number];
}

/**
 * One SGD step on a batch of normalised NHWC images: forward in training mode, loss (cross-entropy
 * with label smoothing, or distillation from the teacher), gradients, the optimiser update. Returns
 * the loss and the number of correct predictions; a non-finite loss skips the update.
 */
export function sgdStep(
  c: StepContext,
  images: Float32Array,
  labelValues: Int32Array,
  lr: number,
  epoch: number,
  step = 0,
): readonly [number, number] {
  const b = labelValues.length;
  // dropout and noise layers draw unseeded randomness from Math.random: seeded per step, so a run is repeatable
  return withSeededRandom((c.cfg.seed >>> 0) ^ Math.imul(step + 1, 0x9e3779b1), () => stepOnce(c, images, labelValues, lr, epoch, b));
}

/**
 * Runs `f` with Math.random replaced by a generator seeded with `seed`. tfjs layers that take no
 * seed (Dropout, GaussianNoise, GaussianDropout, AlphaDropout) seed their masks from Math.random, so
 * this makes a training step's randomness a function of the run's seed and the step.
 */
export function withSeededRandom<T>(seed: number, f: () => T): T {
  const saved = Math.random;
  const rng = new Rng(seed);
  Math.random = () => rng.next();
  try {
    return f();
  } finally {
    Math.random = saved;
  }
}

function stepOnce(
  c: StepContext,
  images: Float32Array,
  labelValues: Int32Array,
  lr: number,
  epoch: number,
  b: number,
): readonly [number, number] {
  return tf.tidy(() => {
    const x = tf.tensor4d(images, [b, ...(c.shape ?? inputShape(c.model))]);
    const labels = tf.tensor1d(labelValues, 'int32');
    let logits: tf.Tensor | null = null;
    // the teacher sees the same augmented batch, in inference mode, outside the gradient tape
    const teacherLogits = c.cfg.distill ? (c.teacher!.apply(x, { training: false }) as tf.Tensor2D) : null;
    const { value, grads } = tf.variableGrads(() => {
      // kept: variableGrads disposes everything made inside f except the loss
      logits = tf.keep(c.model.apply(x, { training: true }) as tf.Tensor);
      const onehot = tf.oneHot(labels, outputUnits(c.model)) as tf.Tensor2D;
      if (c.cfg.distill) return distillationLoss(logits as tf.Tensor2D, teacherLogits!, onehot, c.cfg.distill, c.cfg.labelSmoothing);
      return tf.losses.softmaxCrossEntropy(onehot, logits, undefined, c.cfg.labelSmoothing) as tf.Scalar;
    }, c.vars);
    const l = value.dataSync()[0];
    const out = logits as unknown as tf.Tensor;
    const h = tf.sum(tf.cast(tf.equal(tf.argMax(out, 1), labels), 'int32')).dataSync()[0];
    out.dispose();
    if (!Number.isFinite(l)) return [l, 0] as const;
    if (c.penalty) for (const [name, g] of Object.entries(c.penalty())) grads[name] = grads[name] ? tf.add(grads[name], g) : g;
    c.sgd.apply(c.ps, grads, lr, epoch);
    return [l, h] as const;
  });
}

/** Saves the trained logits model with the user's output softmax put back (models/logits.ts). */
async function saveWithHead(
  model: LayersModel,
  head: OutputHead | null | undefined,
  dir: string,
  meta?: Record<string, unknown>,
): Promise<void> {
  const full = await withHead(model, head);
  await saveModel(full, dir, meta);
  if (full !== model) full.dispose();
}

function makeSgd(cfg: TrainConfig, model: LayersModel): Sgd {
  // the airbench recipe freezes BN scales at 1; a sparsity penalty (slimming) must move them, and a
  // model whose scales already moved (pruned after slimming) must be free to grow them back
  const rule =
    cfg.paramGroups === 'airbench'
      ? airbenchRule(cfg.lr, cfg.weightDecay, { trainScales: !!cfg.sparsity || bnScales(model).some((g) => g.some((x) => x !== 1)) })
      : undefined;
  return new Sgd({ momentum: cfg.momentum, nesterov: cfg.nesterov, weightDecay: cfg.weightDecay, decay: cfg.decay, rule });
}

/** The SGD state of a run: parameters by key, optimiser, lookahead. */
export function optimiserFor(model: LayersModel, cfg: TrainConfig): { ps: Param[]; vars: tf.Variable[]; sgd: Sgd } {
  const sgd = makeSgd(cfg, model);
  const ps = params(model);
  return { ps, vars: ps.map((p) => p.variable), sgd };
}

/**
 * Trains `model` (or the model in `out/checkpoint` when resuming) and writes the run directory.
 * @returns the best-by-validation model and its test result when `test` is given and training finished.
 */
export async function trainModel(
  initial: LayersModel,
  cfg: TrainConfig,
  data: { train: ImageSplit; val: ImageSplit; test?: ImageSplit },
  out: string,
  opts: {
    resume?: boolean;
    quiet?: boolean;
    tta?: TtaLevel;
    teacher?: LayersModel;
    /** A sparsity penalty's gradients for the model at training progress p in [0, 1] (prune/sparsity.ts). */
    penalty?: (model: LayersModel, progress: number) => Record<string, tf.Tensor>;
  } = {},
): Promise<TrainResult> {
  if (cfg.distill && !opts.teacher) throw new Error('distillation needs a teacher model (the unpruned model)');
  if (cfg.sparsity && !opts.penalty) throw new Error('a sparsity penalty needs its gradients (sparsityPenalty in prune/sparsity.ts)');
  mkdirSync(out, { recursive: true });
  const ckptDir = join(out, 'checkpoint');
  const metricsPath = join(out, 'metrics.jsonl');
  let model = initial;
  const airbench = cfg.paramGroups === 'airbench';
  const sgd = makeSgd(cfg, initial);
  let state: TrainState = { epoch: 0, rngState: cfg.seed >>> 0, step: 0, bestValAcc: -1, bestEpoch: -1 };
  const ck = opts.resume ? await loadCheckpoint(ckptDir) : null;
  // a model ending in softmax trains through its logits (models/logits.ts)
  const view = ck ? null : await logitsView(initial);
  if (view?.removed) {
    model = view.model;
    state.head = view.head;
    if (!opts.quiet)
      process.stderr.write(
        `note: the model ends in softmax (${view.removed}); training its logits with softmax cross-entropy; saved models keep the softmax.\n`,
      );
  }
  if (opts.teacher) opts = { ...opts, teacher: (await logitsView(opts.teacher)).model };
  if (ck) {
    model = ck.model;
    sgd.restore(ck.opt.filter((o) => !o.name.startsWith(Lookahead.PREFIX)));
    state = ck.state;
    // keep metrics of completed epochs only
    const kept = readJsonLines<{ epoch: number }>(metricsPath).filter((m) => m.epoch <= state.epoch);
    writeFileAtomic(metricsPath, kept.map((m) => JSON.stringify(m) + '\n').join(''));
    if (!opts.quiet) process.stderr.write(`resuming ${out} after epoch ${state.epoch}\n`);
  } else {
    writeFileAtomic(metricsPath, '');
  }
  const rng = new Rng(state.rngState);
  const batchesPerEpoch = Math.floor(data.train.n / cfg.batch) || 1;
  const totalSteps = batchesPerEpoch * cfg.epochs;
  const sched = { lr: cfg.lr, schedule: cfg.schedule, warmupSteps: cfg.warmupEpochs * batchesPerEpoch };
  const pix = pixelsOf(data.train.info);
  const buf = new Float32Array(cfg.batch * pix);
  const flipBase = cfg.augment.flip === 'alternate' ? alternatingFlipBase(data.train.n, cfg.seed) : null;
  const lookahead = cfg.lookahead ? new Lookahead(model, ck?.opt) : null;
  const ps = params(model);
  const vars = ps.map((p) => p.variable);
  let epochsRun = 0;
  for (let epoch = state.epoch + 1; epoch <= cfg.epochs; epoch++) {
    if (cfg.stopAfterEpochs !== undefined && epochsRun >= cfg.stopAfterEpochs) break;
    const t0 = performance.now();
    const batches = epochBatches(data.train.n, cfg.batch, rng, data.train.n > cfg.batch);
    const bar = opts.quiet ? null : new Progress(`epoch ${epoch}/${cfg.epochs}`, batches.length * cfg.batch, 'img');
    let lossSum = 0,
      correct = 0,
      seen = 0,
      lr = 0;
    for (let bi = 0; bi < batches.length; bi++) {
      // a macrotask turn every 8 batches: signals, IPC (a queue worker's cancel, a dead parent) and timers
      // are handled during long epochs, not only after them
      if (bi % 8 === 7) await new Promise((r) => setImmediate(r));
      const idx = batches[bi];
      const b = idx.length;
      fillBatch(data.train, idx, buf, rng, cfg.augment, flipBase ? { flipBase, epoch: epoch - 1 } : undefined);
      lr = lrAt(state.step, totalSteps, sched);
      const [loss, hits] = sgdStep(
        {
          model,
          vars,
          ps,
          sgd,
          cfg,
          teacher: opts.teacher,
          shape: data.train.info.shape,
          penalty: opts.penalty && (() => opts.penalty!(model, state.step / totalSteps)),
        },
        buf.subarray(0, b * pix),
        Int32Array.from(idx, (i) => data.train.labels[i]),
        lr,
        epoch,
        state.step,
      );
      if (!Number.isFinite(loss)) {
        throw new NonFiniteLossError(
          `training loss became ${loss} at epoch ${epoch}, batch ${bi + 1} (lr ${lr.toPrecision(3)}): lower --lr or add --warmup; ${
            existsSync(join(ckptDir, 'state.json'))
              ? `the last good checkpoint is kept in ${ckptDir}`
              : 'no epoch finished, so there is no checkpoint to resume from'
          }`,
        );
      }
      state.step++;
      if (lookahead && state.step % cfg.lookahead!.every === 0)
        lookahead.update(cfg.lookahead!.base * (state.step / totalSteps) ** cfg.lookahead!.power);
      lossSum += loss * b;
      correct += hits;
      seen += b;
      bar?.update(seen, `loss ${(lossSum / seen).toFixed(3)} acc ${(correct / seen).toFixed(3)}`);
    }
    if (lookahead && epoch === cfg.epochs) lookahead.update(1);
    // the whitening filters are data, not parameters: frozen layers are kept out of fine-tunes and pruning
    if (airbench && (epoch >= WHITEN_BIAS_EPOCHS || epoch === cfg.epochs) && model.layers.some((l) => l.name === 'whiten'))
      model.getLayer('whiten').trainable = false;
    const val = evaluate(model, data.val);
    const seconds = (performance.now() - t0) / 1000;
    const m: EpochMetrics = {
      epoch,
      lr,
      trainLoss: lossSum / seen,
      trainAcc: correct / seen,
      valLoss: val.loss,
      valAcc: val.accuracy,
      seconds,
      imagesPerSecond: seen / seconds,
    };
    appendFileSync(metricsPath, JSON.stringify(m) + '\n');
    if (!opts.quiet)
      process.stderr.write(
        `epoch ${epoch}: train loss ${m.trainLoss.toFixed(3)} acc ${m.trainAcc.toFixed(3)} | val loss ${m.valLoss.toFixed(3)} acc ${m.valAcc.toFixed(4)} | ${m.imagesPerSecond.toFixed(0)} img/s\n`,
      );
    if (val.accuracy > state.bestValAcc) {
      state.bestValAcc = val.accuracy;
      state.bestEpoch = epoch;
      await saveWithHead(model, state.head, join(out, 'best'), { epoch, valAcc: val.accuracy });
    }
    state.epoch = epoch;
    state.rngState = rng.state;
    await saveCheckpoint(ckptDir, model, [...sgd.state(), ...(lookahead?.state() ?? [])], state);
    epochsRun++;
  }
  const finished = state.epoch >= cfg.epochs;
  let test: EvalResult | undefined, testTta: EvalResult | undefined;
  if (finished) {
    await saveWithHead(model, state.head, join(out, 'final'));
    if (data.test) {
      const best = existsSync(join(out, 'best', 'model.json')) ? await loadModel(join(out, 'best')) : model;
      test = evaluate(best, data.test, { progress: opts.quiet ? undefined : 'test' });
      if (opts.tta) testTta = evaluate(best, data.test, { tta: opts.tta, progress: opts.quiet ? undefined : `test (TTA ${opts.tta})` });
      writeFileAtomic(
        join(out, 'result.json'),
        JSON.stringify(
          {
            bestEpoch: state.bestEpoch,
            bestValAcc: state.bestValAcc,
            testAccuracy: test.accuracy,
            testLoss: test.loss,
            ...(testTta ? { ttaLevel: opts.tta, testAccuracyTta: testTta.accuracy, testLossTta: testTta.loss } : {}),
            perClassAccuracy: test.perClassAccuracy,
            confusion: test.confusion,
          },
          null,
          1,
        ),
      );
      if (best !== model) best.dispose();
    }
  }
  sgd.dispose();
  lookahead?.dispose();
  return { bestEpoch: state.bestEpoch, bestValAcc: state.bestValAcc, test, testTta, epochsRun, finished, model };
}
