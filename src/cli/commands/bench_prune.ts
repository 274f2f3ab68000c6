/** Wiring of `auraprune bench prune` (parsing and printing only; the work is in experiment/prune_bench.ts). */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TtaLevel } from '../../eval/evaluate.js';
import { ALLOCATIONS, Allocation, CHANNEL_GROUPS, ChannelGroups } from '../../prune/pipeline.js';
import { PruneCell, runPruneBench, writeSettingsOnce } from '../../experiment/prune_bench.js';
import { finetuneRecipe } from '../../train/recipes.js';
import { modelFingerprint } from '../../models/io.js';
import { openRunData, trainingRunSettings } from '../../data/splits.js';
import { dataFlags, sparsityOption } from '../options.js';
import { readJsonFile } from '../../util/jsonl.js';

const list = (s: string) =>
  String(s)
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

export async function prepareBench(o: Record<string, string | number | boolean | undefined>): Promise<void> {
  const baseRun = resolve(String(o.base));
  const cfgPath = join(baseRun, 'config.json');
  if (!existsSync(cfgPath)) throw new Error(`--base ${o.base}: no config.json; give a directory written by \`auraprune train\``);
  const baseCfg = readJsonFile(cfgPath) as Record<string, unknown>;
  const modelDir = join(baseRun, 'best');
  if (!existsSync(join(modelDir, 'model.json'))) throw new Error(`--base ${o.base}: no best/model.json; has the run finished an epoch?`);
  const allocations = list(String(o.allocations)) as Allocation[];
  for (const a of allocations)
    if (!ALLOCATIONS.includes(a)) throw new Error(`--allocations: unknown ${a}; choose from ${ALLOCATIONS.join(', ')}`);
  const distills = list(String(o.distill)).map((d) => {
    if (d !== 'on' && d !== 'off') throw new Error(`--distill: on | off | off,on, got ${d}`);
    return d === 'on';
  });
  const groupings = list(String(o.channelGroups ?? 'coupled')) as ChannelGroups[];
  for (const g of groupings)
    if (!CHANNEL_GROUPS.includes(g)) throw new Error(`--channel-groups: unknown ${g}; choose from ${CHANNEL_GROUPS.join(', ')}`);
  const targets = list(String(o.targets)).map(Number);
  if (targets.some((t) => !(t > 0 && t < 1))) throw new Error(`--targets: fractions in (0, 1), got ${o.targets}`);
  const { sparsity } = sparsityOption(o as Parameters<typeof sparsityOption>[0]);
  // --slim-epochs' range is checked with every option's (experiment/option_rules.ts)
  const slimEpochs = Number(o.slimEpochs ?? 0);
  if (slimEpochs > 0 && !sparsity) throw new Error('--slim-epochs needs --sparsity bn-l1|group-l2 and --sparsity-lambda L');
  if (slimEpochs === 0 && sparsity) throw new Error('--sparsity in bench prune is the slimming phase: give --slim-epochs N too');
  const slim = sparsity && { ...sparsity, epochs: slimEpochs };
  const tta = Number(o.tta);
  if (![0, 1, 2].includes(tta)) throw new Error(`--tta must be 0, 1 or 2, got ${o.tta}`);
  const cells: PruneCell[] = [];
  for (const target of targets)
    for (const criterion of list(String(o.criteria)))
      for (const allocation of allocations)
        for (const epochs of list(String(o.epochs)).map(Number))
          for (const distill of distills)
            for (const groups of groupings)
              cells.push({
                target,
                criterion,
                allocation,
                epochs,
                lrScale: Number(o.lrScale),
                distill,
                rounds: Number(o.rounds),
                roundTo: Number(o.roundTo ?? 1),
                groups,
                ...(slim ? { slim } : {}),
              });
  // the base run's data set and split (flags override its recorded location and format)
  const data = await openRunData(trainingRunSettings(modelDir), dataFlags(o as Parameters<typeof dataFlags>[0]), {
    valSize: baseCfg.valSize as number,
    seed: baseCfg.seed as number,
  });
  const out = String(o.out);
  // lrScale is applied per cell by the bench: the recipe here is at scale 1
  const recipe = finetuneRecipe(baseCfg, { epochs: 1, lrScale: 1, seed: 1 });
  const settings = {
    base: modelDir,
    // content, not path: new weights under the same path must not meet cached scores and old cells
    baseSha256: modelFingerprint(modelDir),
    perClass: o.perClass,
    recalBatches: o.recalBatches,
    sensitivityImages: o.sensitivityImages,
    temperature: o.temperature,
    alpha: o.alpha,
    tta,
    recipe,
  };
  const { mkdirSync } = await import('node:fs');
  mkdirSync(out, { recursive: true });
  writeSettingsOnce(join(out, `settings-s${o.seed}.json`), settings);
  await runPruneBench(
    modelDir,
    data,
    out,
    {
      cells,
      seed: Number(o.seed),
      recipe,
      perClass: Number(o.perClass),
      recalBatches: Number(o.recalBatches),
      tta: tta as TtaLevel,
      distill: { temperature: Number(o.temperature), alpha: Number(o.alpha) },
      sensitivityImages: Number(o.sensitivityImages),
    },
    (line) => console.log(JSON.stringify({ bench: 'prune', ...line })),
  );
}
