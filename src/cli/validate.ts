/**
 * One validation table for every CLI option, applied before any command runs (a commander preAction
 * hook): integer and range checks, enums with their choices, mutually exclusive targets, thread
 * counts clamped to the cores. A bad value stops the command with one line naming the option, the
 * value and what is allowed, before anything is read or written.
 */
import { cpus } from 'node:os';
import { ALLOCATIONS, CHANNEL_GROUPS } from '../prune/pipeline.js';
import { CRITERIA } from '../prune/importance/registry.js';
import { PRESETS } from '../train/recipes.js';
import { SCHEDULES } from '../train/schedule.js';

interface NumRule {
  int?: boolean;
  min?: number;
  max?: number;
  /** min/max exclusive */
  open?: boolean;
}
/** A comma-separated list: each item a name from `of`, or a number under the rule. */
type ListRule = { list: readonly string[] | NumRule };
type Rule = NumRule | { choices: readonly string[] } | ListRule;

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
const LIST_ITEMS: Record<string, NumRule> = { epochs: { int: true, min: 0, max: 10000 } };

function checkNumber(k: string, v: number, rule: NumRule, text: string): void {
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

const flag = (k: string) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

/**
 * Checks the parsed options of `command` against OPTION_RULES; returns the (possibly clamped)
 * options or throws a one-line error. `model` (a zoo name or a directory) is checked by the command itself.
 */
export function validateOptions(
  command: string,
  opts: Record<string, unknown>,
  warn: (s: string) => void = (s) => process.stderr.write(s + '\n'),
): Record<string, unknown> {
  for (const [k, v] of Object.entries(opts)) {
    const rule = OPTION_RULES[k];
    if (!rule || v === undefined || typeof v === 'boolean') continue;
    if (k === 'criterion' && typeof v === 'string' && v.includes(',')) {
      for (const c of v.split(','))
        if (!CRITERIA.includes(c as never)) throw new Error(`${flag(k)}: unknown criterion ${c}; choose from ${CRITERIA.join(', ')}`);
      continue;
    }
    if ('list' in rule || (typeof v === 'string' && LIST_ITEMS[k])) {
      const of = 'list' in rule ? rule.list : LIST_ITEMS[k];
      const items = String(v)
        .split(',')
        .map((x) => x.trim());
      if (items.some((x) => x === ''))
        throw new Error(`${flag(k)} must be a comma-separated list with no empty item, got ${JSON.stringify(String(v))}`);
      for (const x of items) {
        if (Array.isArray(of)) {
          if (!of.includes(x)) throw new Error(`${flag(k)}: unknown ${x}; choose from ${of.join(', ')}`);
        } else checkNumber(k, Number(x), of as NumRule, x);
      }
      continue;
    }
    if ('choices' in rule) {
      if (!rule.choices.includes(String(v))) throw new Error(`${flag(k)} must be one of ${rule.choices.join(', ')}, got ${String(v)}`);
      continue;
    }
    if (typeof v !== 'number') continue;
    checkNumber(k, v, rule, String(v));
  }
  const out = { ...opts };
  const given = ['targetFlops', 'targetParams', 'targetSpeedup', 'ratio'].filter((k) => opts[k] !== undefined);
  if (given.length > 1)
    throw new Error(`give only one of --target-flops, --target-params, --target-speedup and --ratio (got ${given.map(flag).join(', ')})`);
  // global selection removes single filters; rounding to channel blocks needs a per-layer allocation
  const globalAlloc =
    opts.allocation === 'global' || (typeof opts.allocations === 'string' && opts.allocations.split(',').includes('global'));
  if (typeof opts.roundTo === 'number' && opts.roundTo > 1 && globalAlloc && opts.ratio === undefined)
    throw new Error('--round-to needs --allocation uniform or sensitivity (global selection removes single filters)');
  const cores = cpus().length;
  if (typeof opts.threads === 'number' && opts.threads > cores) {
    warn(`auraprune: --threads ${opts.threads} is more than the ${cores} cores here; using ${cores}`);
    out.threads = cores;
  }
  return out;
}
