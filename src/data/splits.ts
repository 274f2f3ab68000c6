/**
 * The splits a run works on: CIFAR-10 found or downloaded, an optional prefix of the training set,
 * and the stratified validation split held out of it (defined by its size and seed), plus the test set.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCifar10, loadCifar10 } from './cifar10.js';
import { subset, trainValSplit } from './pipeline.js';

/**
 * The data settings of the training run a model came from (its run directory's config.json, found
 * beside or above the model directory), so pruning, fine-tuning and evaluation rebuild the same
 * validation split: validation never holds images the model was trained on.
 */
export function trainingRunSettings(modelPath: string): {
  valSize?: number;
  seed?: number;
  trainLimit?: number;
  paramGroups?: string;
  batch?: number;
  /** where the run read CIFAR-10 (when it still exists), used when no --data is given */
  dataDir?: string;
} {
  // a pruned or fine-tuned model names the model it came from: follow that back to the training run
  const seen = new Set<string>();
  let path = modelPath;
  for (let hop = 0; hop < 8 && !seen.has(path); hop++) {
    seen.add(path);
    const dir = path.endsWith('.json') ? join(path, '..') : path;
    let next: string | null = null;
    for (const f of [join(dir, 'config.json'), join(dir, '..', 'config.json')]) {
      if (!existsSync(f)) continue;
      let c: Record<string, unknown>;
      try {
        c = JSON.parse(readFileSync(f, 'utf8'));
      } catch {
        throw new Error(`${f} is not valid JSON: the run's record is corrupt; restore it or pass --val-size and --seed`);
      }
      if (c.command === 'train' || c.command === 'demo')
        return {
          valSize: c.valSize as number | undefined,
          seed: c.seed as number | undefined,
          trainLimit: (c.trainLimit as number | undefined) ?? undefined,
          paramGroups: c.paramGroups as string | undefined,
          batch: c.batch as number | undefined,
          dataDir: typeof c.dataDir === 'string' && existsSync(c.dataDir) ? c.dataDir : undefined,
        };
      if ((c.command === 'prune' || c.command === 'finetune') && typeof c.source === 'string') {
        next = c.source;
        break;
      }
    }
    if (!next) break;
    path = next;
  }
  return {};
}

/** Train (minus validation), validation and test splits. */
export async function loadData(dataFlag: string | undefined, valSize: number, seed: number, trainLimit?: number) {
  const dir = await ensureCifar10(dataFlag);
  let all = loadCifar10(dir, 'train');
  if (trainLimit)
    all = subset(
      all,
      Array.from({ length: Math.min(trainLimit, all.n) }, (_, i) => i),
    );
  const { train, val } = trainValSplit(all, Math.min(valSize, Math.floor(all.n / 10)), seed);
  return { train, val, test: loadCifar10(dir, 'test'), dir };
}

/** Library entry: the splits with the CLI's defaults (5,000 validation images, seed 1). */
export function loadCifar10Splits(o: { data?: string; valSize?: number; seed?: number; trainLimit?: number } = {}) {
  return loadData(o.data, o.valSize ?? 5000, o.seed ?? 1, o.trainLimit);
}
