/**
 * One validation table for every CLI option, applied before any command runs (a commander preAction
 * hook): integer and range checks, enums with their choices, mutually exclusive targets, thread
 * counts clamped to the cores. A bad value stops the command with one line naming the option, the
 * value and what is allowed, before anything is read or written.
 */
import { cpus } from 'node:os';
import { CRITERIA } from '../prune/importance/registry.js';
import { checkNumber, flag, LIST_ITEMS, NumRule, OPTION_RULES } from '../experiment/option_rules.js';

export { OPTION_RULES };

/**
 * Checks the parsed options of `command` against OPTION_RULES; returns the (possibly clamped)
 * options or throws a one-line error. `model` (a zoo name or a directory) is checked by the command itself.
 */
export function validateOptions(
  command: string,
  opts: Record<string, unknown>,
  warn: (s: string) => void = (s) => process.stderr.write(s + '\n'),
  /** the options the user gave (default: all of opts); defaults never trip a cross-option rule */
  typed: ReadonlySet<string> = new Set(Object.keys(opts)),
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
  // the validation split is capped at a tenth of the training images (data/splits.ts): say so now
  // rather than train on a smaller split than asked
  if (
    typed.has('valSize') &&
    typed.has('trainLimit') &&
    typeof opts.valSize === 'number' &&
    typeof opts.trainLimit === 'number' &&
    opts.valSize > Math.floor(opts.trainLimit / 10)
  )
    throw new Error(
      `--val-size ${opts.valSize} is more than a tenth of --train-limit ${opts.trainLimit} (at most ${Math.floor(opts.trainLimit / 10)} validation images are held out); lower --val-size or raise --train-limit`,
    );
  const cores = cpus().length;
  if (typeof opts.threads === 'number' && opts.threads > cores) {
    warn(`auraprune: --threads ${opts.threads} is more than the ${cores} cores here; using ${cores}`);
    out.threads = cores;
  }
  return out;
}
