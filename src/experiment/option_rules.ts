/**
 * The limits of every numeric and enumerated setting, shared by the CLI (src/cli/validate.ts, before
 * any command runs) and the queue (experiment/queue.ts, before a worker runs a job's cell): a value a
 * user could not type on the command line cannot arrive in a job payload either.
 */
import { ALLOCATIONS, CHANNEL_GROUPS } from '../prune/pipeline.js';
import { CRITERIA } from '../prune/importance/registry.js';
import { PRESETS } from '../train/recipes.js';
import { SCHEDULES } from '../train/schedule.js';

export interface NumRule {
  int?: boolean;
  min?: number;
  max?: number;
  /** min/max exclusive */
  open?: boolean;
}
/** A comma-separated list: each item a name from `of`, or a number under the rule. */
export type ListRule = { list: readonly string[] | NumRule };
export type Rule = NumRule | { choices: readonly string[] } | ListRule;

/** Keyed by commander's attribute name (camelCase of the long flag). */
export const OPTION_RULES: Record<string, Rule> = {
  epochs: { int: true, min: 1, max: 10000 },
  batch: { int: true, min: 1, max: 65536 },
  lr: { min: 0, max: 100, open: true },
  warmup: { min: 0, max: 10000 },
  wd: { min: 0, max: 1 },
  momentum: { min: 0, max: 0.999 },
  labelSmoothing: { min: 0, max: 0.99 },
  width: { min: 0, max: 16, open: true },
  valSize: { int: true, min: 1, max: 49999 },
  trainLimit: { int: true, min: 2, max: 50000 },
  seed: { int: true, min: 0, max: 2 ** 32 - 1 },
  threads: { int: true, min: 1, max: 4096 },
  perClass: { int: true, min: 1, max: 5000 },
  levels: { int: true, min: 2, max: 32 },
  groups: { int: true, min: 1, max: 4096 },
  maxRemove: { min: 0, max: 1, open: true },
  minKeep: { int: true, min: 1, max: 100000 },
  roundTo: { int: true, min: 1, max: 4096 },
  targetFlops: { min: 0, max: 1, open: true },
  targetParams: { min: 0, max: 1, open: true },
  targetSpeedup: { min: 1, max: 100, open: true },
  latencyBatch: { int: true, min: 1, max: 4096 },
  ratio: { min: 0, max: 1 },
  recalibrateBn: { int: true, min: 0, max: 10000 },
  recalBatches: { int: true, min: 0, max: 10000 },
  sensitivityImages: { int: true, min: 10, max: 50000 },
  tta: { int: true, min: 0, max: 2 },
  lrScale: { min: 0, max: 100, open: true },
  temperature: { min: 0, max: 100, open: true },
  alpha: { min: 0, max: 1 },
  rounds: { int: true, min: 1, max: 100 },
  slimEpochs: { int: true, min: 0, max: 10000 },
  passes: { int: true, min: 1, max: 1000 },
  steps: { int: true, min: 1, max: 100000 },
  images: { int: true, min: 2, max: 1000000 },
  trainImages: { int: true, min: 20, max: 50000 },
  finetuneEpochs: { int: true, min: 0, max: 10000 },
  finetuneImages: { int: true, min: 1, max: 50000 },
  cpuSteps: { int: true, min: 0, max: 1000 },
  cpuBatch: { int: true, min: 1, max: 4096 },
  mintPairs: { int: true, min: 1, max: 1000000 },
  where: { choices: ['conv', 'bn', 'relu'] },
  neighbourhood: { choices: ['4', '8'] },
  reduce: { choices: ['sum', 'max'] },
  estimator: { choices: ['binned', 'ksg'] },
  normalize: { choices: ['max', 'rank', 'mean', 'lamp', 'none'] },
  decay: { choices: ['l2', 'decoupled'] },
  backend: { choices: ['libtorch', 'cpu', 'auto'] },
  schedule: { choices: SCHEDULES },
  allocation: { choices: ALLOCATIONS },
  recipe: { choices: ['auto', 'airbench', 'sgd'] },
  split: { choices: ['val', 'test'] },
  by: { choices: ['flops', 'params'] },
  noiseOn: { choices: ['input', 'activations'] },
  activation: { choices: ['gelu', 'relu'] },
  preset: { choices: Object.keys(PRESETS) },
  criterion: { choices: CRITERIA },
  groupReduce: { choices: ['mean', 'sum', 'max'] },
  finetuneLr: { min: 0, max: 100, open: true },
  concurrency: { int: true, min: 1, max: 64 },
  port: { int: true, min: 0, max: 65535 },
  // list options (experiment, study, robustness, bench prune)
  targets: { list: { min: 0, max: 1, open: true } },
  seeds: { list: { int: true, min: 0, max: 2 ** 32 - 1 } },
  sigmas: { list: { min: 0, max: 100 } },
  criteria: { list: CRITERIA },
  allocations: { list: ALLOCATIONS },
  channelGroups: { list: CHANNEL_GROUPS },
};

/** Lists whose numeric items follow another rule than the option of the same name elsewhere. */
export const LIST_ITEMS: Record<string, NumRule> = { epochs: { int: true, min: 0, max: 10000 } };

export function checkNumber(k: string, v: number, rule: NumRule, text: string): void {
  if (!Number.isFinite(v)) throw new Error(`${flag(k)} must be a number, got ${JSON.stringify(text)}`);
  if (rule.int && !Number.isInteger(v)) throw new Error(`${flag(k)} must be an integer, got ${text}`);
  const lo = rule.min ?? -Infinity,
    hi = rule.max ?? Infinity;
  const ok = rule.open ? v > lo && v < hi : v >= lo && v <= hi;
  if (!ok)
    throw new Error(
      `${flag(k)} must be ${rule.open ? 'in' : 'within'} ${rule.open ? '(' : '['}${lo}, ${hi}${rule.open ? ')' : ']'}, got ${text}`,
    );
}

/** The error for `name` = `v` under OPTION_RULES[rule] (a job field named after its option), or null. */
export function ruleError(name: string, v: unknown, rule: string): string | null {
  const r = OPTION_RULES[rule];
  if (!r || 'list' in r) return null;
  if ('choices' in r)
    return r.choices.includes(String(v)) ? null : `${name} must be one of ${r.choices.join(', ')}, got ${JSON.stringify(v)}`;
  if (typeof v !== 'number') return `${name} must be a number, got ${JSON.stringify(v)}`;
  try {
    checkNumber(rule, v, r, String(v));
    return null;
  } catch (e) {
    return (e as Error).message.replace(flag(rule), name);
  }
}

export const flag = (k: string) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
