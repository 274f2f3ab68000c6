/**
 * The splits a run works on: CIFAR-10 found or downloaded, an optional prefix of the training set,
 * and the stratified validation split held out of it (defined by its size and seed), plus the test set.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataInfo } from './dataset.js';
import { type OpenOptions, openDataSet, prefix } from './open.js';
import { trainValSplit } from './pipeline.js';

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
  /** where the run read its data (when it still exists), used when no --data is given */
  dataDir?: string;
  /** the recorded data directory that no longer exists */
  dataDirGone?: string;
  dataset?: string;
  resize?: [number, number];
  labels?: 'fine' | 'coarse';
  /** the recorded description of the run's data (shape, classes, statistics) */
  dataInfo?: DataInfo;
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
          dataDirGone: typeof c.dataDir === 'string' && !existsSync(c.dataDir) ? c.dataDir : undefined,
          dataset: typeof c.dataset === 'string' ? c.dataset : undefined,
          resize: Array.isArray(c.resize) ? (c.resize as [number, number]) : undefined,
          labels: c.labels === 'coarse' || c.labels === 'fine' ? c.labels : undefined,
          dataInfo: c.dataInfo as DataInfo | undefined,
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

/**
 * Train (minus validation), validation and test splits of the data set at `dataFlag` (CIFAR-10 when
 * none is given). The validation split is stratified, `valSize` images capped at a tenth of training.
 */
export async function loadData(dataFlag: string | undefined, valSize: number, seed: number, trainLimit?: number, o: OpenOptions = {}) {
  const set = await openDataSet(dataFlag, o);
  const all = trainLimit ? prefix(set.train, trainLimit) : set.train;
  const { train, val } = trainValSplit(all, Math.min(valSize, Math.floor(all.n / 10)), seed);
  return { train, val, test: set.test, dir: set.source, info: set.info, testFrom: set.testFrom };
}

/** Library entry: the splits with the CLI's defaults (5,000 validation images, seed 1). */
export function loadCifar10Splits(o: { data?: string; valSize?: number; seed?: number; trainLimit?: number } = {}) {
  return loadData(o.data, o.valSize ?? 5000, o.seed ?? 1, o.trainLimit);
}

/** The data flags of a command: where the images are and how to read them. */
export interface DataFlags {
  data?: string;
  dataset?: string;
  resize?: [number, number];
  labels?: 'fine' | 'coarse';
  /** an image folder: streamed from disk (true), in memory (false), by size (undefined) */
  stream?: boolean;
}

/**
 * The data a model's run used, with one precedence: a data flag given on the command line wins over
 * the run's recorded setting (and says so when they differ); the run's recorded split (validation
 * size, seed, training prefix) wins over `fallback`, which only fills what the run did not record,
 * because a different split would put images the model trained on into validation.
 */
export async function openRunData(
  run: ReturnType<typeof trainingRunSettings>,
  flags: DataFlags,
  fallback: { valSize: number; seed: number; trainLimit?: number },
  o: { quiet?: boolean } = {},
) {
  const note = (m: string) => o.quiet || process.stderr.write(`note: ${m}\n`);
  const pick = <T>(name: string, flag: T | undefined, recorded: T | undefined): T | undefined => {
    if (flag !== undefined && recorded !== undefined && JSON.stringify(flag) !== JSON.stringify(recorded))
      note(
        `--${name} ${Array.isArray(flag) ? flag.join('x') : flag} overrides the base run's ${Array.isArray(recorded) ? recorded.join('x') : recorded}`,
      );
    return flag ?? recorded;
  };
  if (!flags.data && !run.dataDir && run.dataDirGone && run.dataset && run.dataset !== 'cifar10')
    throw new Error(
      `the base run read ${run.dataset} from ${run.dataDirGone}, which no longer exists; pass --data PATH to where it is now`,
    );
  const data = await loadData(
    pick('data', flags.data, run.dataDir),
    run.valSize ?? fallback.valSize,
    run.seed ?? fallback.seed,
    run.trainLimit ?? fallback.trainLimit,
    {
      dataset: pick('dataset', flags.dataset, run.dataset),
      resize: pick('resize', flags.resize, run.resize),
      labels: pick('labels', flags.labels, run.labels),
      stream: flags.stream,
      quiet: o.quiet,
    },
  );
  if (run.dataInfo && run.dataInfo.shape && JSON.stringify(run.dataInfo.mean) !== JSON.stringify(data.info.mean))
    note(
      `${data.dir}: per-channel mean ${JSON.stringify(data.info.mean)} differs from the base run's ${JSON.stringify(run.dataInfo.mean)}: this is not the data it trained on`,
    );
  return data;
}
