/** Shared CLI argument parsers and backend set-up (the only place that picks the backend). */
import { type Command, InvalidArgumentError } from 'commander';
import { parseResize } from '../data/dataset.js';
import { DATASET_NAMES } from '../data/open.js';
import type { DataFlags } from '../data/splits.js';
import { useBestBackend } from '../engine/backend/index.js';
import { SPARSITY_KINDS, SparsityOptions } from '../train/loop.js';

export function int(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('Not an integer.');
  return n;
}

export function num(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('Not a number.');
  return n;
}

export async function setupBackend(o: { backend?: string; threads?: number }): Promise<string> {
  return useBestBackend({ backend: o.backend ?? 'auto', threads: o.threads });
}

/** `--sparsity KIND --sparsity-lambda L [--sparsity-schedule S]` as a TrainConfig part (checked together). */
export function sparsityOption(o: { sparsity?: string; sparsityLambda?: number; sparsitySchedule?: string }): {
  sparsity?: SparsityOptions;
} {
  if (o.sparsity === undefined) {
    if (o.sparsityLambda !== undefined) throw new Error('--sparsity-lambda needs --sparsity bn-l1 or group-l2');
    return {};
  }
  if (!(SPARSITY_KINDS as readonly string[]).includes(o.sparsity))
    throw new Error(`--sparsity must be one of ${SPARSITY_KINDS.join(', ')}, got ${o.sparsity}`);
  if (!(typeof o.sparsityLambda === 'number' && o.sparsityLambda > 0))
    throw new Error('--sparsity needs --sparsity-lambda L > 0 (e.g. 1e-4)');
  const schedule = o.sparsitySchedule ?? 'constant';
  if (schedule !== 'constant' && schedule !== 'growing')
    throw new Error(`--sparsity-schedule must be constant or growing, got ${schedule}`);
  return { sparsity: { kind: o.sparsity as SparsityOptions['kind'], lambda: o.sparsityLambda, schedule } };
}

/** `--data`, `--dataset`, `--resize`, `--labels`: where the images are and how to read them (data/open.ts). */
export function dataOptions(cmd: Command, what = 'the data set'): Command {
  return cmd
    .option(
      '--data <path>',
      `${what}: a CIFAR-10/100 binary folder, IDX folder (MNIST, Fashion-MNIST), NumPy .npy folder or .npz, or image folder (train/<class>/*); default CIFAR-10 (CIFAR10_DIR, the cache, or download)`,
    )
    .option('--dataset <name>', `name the format instead of detecting it: ${DATASET_NAMES.join(', ')}`)
    .option('--resize <HxW>', 'resize every image (bilinear), e.g. 32x32, to fit a model input', parseResize)
    .option('--labels <kind>', 'CIFAR-100 labels: fine (100 classes) | coarse (20)')
    .option('--stream', 'image folder: read batches from the decoded cache on disk (default above 1 GiB decoded)')
    .option('--no-stream', 'image folder: hold the decoded images in memory (up to 4 GiB)');
}

/** The data flags a command was given, as openBase takes them. */
export function dataFlags(o: { data?: string; dataset?: string; resize?: [number, number]; labels?: string; stream?: boolean }): DataFlags {
  if (o.labels !== undefined && o.labels !== 'fine' && o.labels !== 'coarse')
    throw new Error(`--labels must be fine or coarse, got ${o.labels}`);
  return { data: o.data, dataset: o.dataset, resize: o.resize, labels: o.labels as 'fine' | 'coarse' | undefined, stream: o.stream };
}

/** How a queued cell's worker opens the data set: the flag or the base run's recorded format, resize and labels. */
export function openedAs(
  run: { dataset?: string; resize?: [number, number]; labels?: 'fine' | 'coarse' },
  o: { dataset?: string; resize?: [number, number]; labels?: string },
): { dataset?: string; resize?: [number, number]; labels?: 'fine' | 'coarse' } {
  const f = dataFlags(o);
  return { dataset: f.dataset ?? run.dataset, resize: f.resize ?? run.resize, labels: f.labels ?? run.labels };
}
