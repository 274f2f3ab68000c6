/**
 * Training recipes: the named presets `train --preset` offers, and the per-parameter rules of the
 * airbench recipe. The CLI only picks a preset and applies explicit flags on top.
 */
import { AIRBENCH_LOGIT_SCALE } from '../models/airbench.js';
import type { TrainConfig } from './loop.js';
import type { ParamRule } from './sgd.js';

export interface Preset extends Partial<TrainConfig> {
  model: string;
  width: number;
  /** Validation images held out of the training set (stratified), when `--val-size` is not given. */
  valSize?: number;
  /** The data set the preset trains on when neither --data nor --dataset is given (default CIFAR-10). */
  dataset?: string;
}

/**
 * airbench (after Keller Jordan's airbench94, re-implemented from its public description): batch
 * 1024, Nesterov momentum 0.85, label smoothing 0.2, warm-up over 23% of the steps then linear decay
 * (lr x0.2 -> x1 -> x0.07), lookahead every 5 steps, alternating flip + 2-pixel reflect translation.
 * The reference sums the loss over the batch with lr 11.5 and weight decay 0.0153 "per 1024
 * examples", scaled by 1024 * (1 + 1/(1 - momentum)); with our mean loss that is lr 1.5 at batch
 * 1024 and a decay of 0.0153 * 1024 / 7850.7 = 0.0020 of each weight per step (times the schedule)
 * for every parameter group, whatever its learning rate.
 */
export function airbench(batch: number, momentum: number): Pick<TrainConfig, 'lr' | 'weightDecay'> {
  const kilostep = 1024 * (1 + 1 / (1 - momentum));
  return { lr: (11.5 * batch) / kilostep, weightDecay: (0.0153 * batch) / kilostep };
}

/** 300 epochs SGD Nesterov lr 0.1 cosine, wd 5e-4, batch 128 (MINT's and HRank's base training). */
const LITERATURE = {
  width: 1,
  epochs: 300,
  batch: 128,
  lr: 0.1,
  schedule: 'cosine',
  weightDecay: 5e-4,
  nesterov: true,
  labelSmoothing: 0,
} as const;

/** The airbench preset (below), which other data sets' presets start from. */
const AIRBENCH: Preset = {
  model: 'airbench',
  width: 1,
  epochs: 12,
  valSize: 1000,
  batch: 1024,
  ...airbench(1024, 0.85),
  momentum: 0.85,
  nesterov: true,
  schedule: 'linear',
  warmupEpochs: 0,
  decay: 'l2',
  labelSmoothing: 0.2,
  paramGroups: 'airbench',
  lookahead: { every: 5, base: 0.95 ** 5, power: 3 },
  augment: { pad: 2, padMode: 'reflect', flip: 'alternate' },
};

export const PRESETS: Record<string, Preset> = {
  // 12 epochs on 49,000 images: +0.31 pt plain test accuracy over 10 epochs on 45,000 (seed 1,
  // BENCHMARKS.md); the reference trains on all 50,000, we keep 1,000 for model selection.
  airbench: AIRBENCH,
  // fast: ResNet-9 at half width, one-cycle, label smoothing: the first 2-core CPU preset (13 epochs at
  // ~170 img/s, 87.9% test). lr 0.06: 0.1 and above diverged in the first epoch on a 12k subset.
  fast: {
    model: 'fast',
    width: 0.5,
    epochs: 13,
    batch: 256,
    lr: 0.06,
    schedule: 'onecycle',
    weightDecay: 5e-4,
    nesterov: true,
    labelSmoothing: 0.1,
  },
  // fashion-mnist: the airbench recipe and network at half width on Fashion-MNIST (28x28x1, Debian's
  // dataset-fashion-mnist unless --data says otherwise), 16 epochs on 59,000 images: full width ran
  // at ~190 img/s on 2 cores (80 min), over the hour a preset may take.
  'fashion-mnist': { ...AIRBENCH, width: 0.5, epochs: 16, dataset: 'fashion-mnist' },
  // resnet20: the CIFAR ResNet-20 in about an hour on 2 cores (~240 img/s at batch 128): one-cycle to
  // lr 0.2 over 15 epochs on 49,000 images, Nesterov, wd 5e-4, label smoothing 0.1; the second base of
  // the pruning target table (the literature's 160-300-epoch schedule reaches 91-92%).
  resnet20: {
    model: 'resnet20',
    width: 1,
    epochs: 15,
    valSize: 1000,
    batch: 128,
    lr: 0.2,
    schedule: 'onecycle',
    weightDecay: 5e-4,
    nesterov: true,
    labelSmoothing: 0.1,
  },
  // mobilenetv2: MobileNetV2 for CIFAR at width 0.5 (28 M FLOPs, 0.70 M params), the depthwise network
  // with residual adds in the pruning table; one-cycle SGD over 12 epochs: ~110 img/s on 2 cores, so
  // about 90 minutes (20 epochs took 2.3 h, too long to prune and fine-tune after in one session).
  mobilenetv2: {
    model: 'mobilenetv2',
    width: 0.5,
    epochs: 12,
    valSize: 1000,
    batch: 128,
    lr: 0.1,
    schedule: 'onecycle',
    weightDecay: 4e-5 * 10,
    nesterov: true,
    labelSmoothing: 0.1,
  },
  // the literature's recipes (MINT/HRank), for bigger machines
  vgg16: { model: 'vgg16', ...LITERATURE },
  resnet56: { model: 'resnet56', ...LITERATURE },
};

/** Epochs during which the whitening conv's bias trains (its filters never do). */
export const WHITEN_BIAS_EPOCHS = 3;
/** Learning-rate multiplier of batch-norm biases in the airbench recipe (their scales are frozen). */
export const BN_BIAS_LR_SCALE = 64;

/**
 * The airbench parameter groups. `lr` is the peak rate and `decayPerStep` the fraction of each weight
 * removed per step at that peak; each group's L2 coefficient is decayPerStep / (its lr), so the decay
 * is the same for all groups (as in the reference).
 * - whitening filters: frozen (they come from the data); whitening bias: trained for 3 epochs.
 * - batch-norm scales: frozen at 1, except under a sparsity penalty (`trainScales`: slimming must move
 *   the scales it penalises; they then train at the weights' rate); batch-norm biases: lr x64.
 * - head: stored as W/9 (the fixed logit scale), so lr x1/81 is exactly SGD on W (see airbench.ts).
 */
export function airbenchRule(
  lr: number,
  decayPerStep: number,
  o: { trainScales?: boolean } = {},
): (key: string, epoch: number) => ParamRule | null {
  const group = (lrScale: number): ParamRule => ({ lrScale, l2: decayPerStep / (lr * lrScale) });
  const headScale = AIRBENCH_LOGIT_SCALE ** 2;
  return (key, epoch) => {
    if (key === 'whiten/kernel') return null;
    if (key === 'whiten/bias') return epoch <= WHITEN_BIAS_EPOCHS ? group(1) : null;
    if (/\/gamma$/.test(key)) return o.trainScales ? group(1) : null;
    if (/\/beta$/.test(key)) return group(BN_BIAS_LR_SCALE);
    if (key === 'head/kernel') return group(headScale);
    return group(1);
  };
}

/** The airbench recipe at another batch size (lr and decay follow the reference's per-example scaling). */
export function airbenchRecipe(o: { epochs: number; batch?: number; seed: number }): TrainConfig {
  // the data split (valSize) is the caller's, not part of the optimiser's recipe
  const p = { ...PRESETS.airbench };
  delete p.valSize;
  const batch = o.batch ?? p.batch!;
  return { ...(p as TrainConfig), ...airbench(batch, p.momentum!), epochs: o.epochs, batch, seed: o.seed };
}

/**
 * `finetune`'s defaults per recipe, when `--epochs` / `--distill` are not given. Airbench: 5 epochs
 * with distillation from the unpruned model at half the base lr: over three base seeds 50% of FLOPs
 * costs 0.78 pt on average (70%: 1.78 pt), and nothing measured beats it beyond the spread between two
 * recoveries (10 epochs, a quarter of the lr, iterative rounds, Taylor, slimming; BENCHMARKS.md).
 * SGD bases: 8 epochs, no distillation (not measured; the literature fine-tunes far longer).
 */
export const FINETUNE_DEFAULTS: Record<'airbench' | 'sgd', { epochs: number; distill: boolean }> = {
  airbench: { epochs: 5, distill: true },
  sgd: { epochs: 8, distill: false },
};

/**
 * The recovery fine-tune for a pruned model, chosen by the recipe its base was trained with: the
 * airbench recipe at `lrScale` of its peak lr (and decay) for airbench bases, else SGD Nesterov with
 * a cosine schedule from lr 0.01 x lrScale (the literature's fine-tune rate).
 */
export function finetuneRecipe(
  base: { paramGroups?: string; batch?: number },
  o: { epochs: number; lrScale: number; seed: number; batch?: number },
): TrainConfig {
  if (base.paramGroups === 'airbench') {
    const r = airbenchRecipe({ epochs: o.epochs, batch: o.batch ?? base.batch, seed: o.seed });
    return { ...r, lr: r.lr * o.lrScale, weightDecay: r.weightDecay * o.lrScale };
  }
  return {
    epochs: o.epochs,
    batch: o.batch ?? 128,
    lr: 0.01 * o.lrScale,
    schedule: 'cosine',
    warmupEpochs: 0,
    weightDecay: 5e-4,
    decay: 'l2',
    momentum: 0.9,
    nesterov: true,
    labelSmoothing: 0,
    seed: o.seed,
    augment: { pad: 4, flip: true },
  };
}
