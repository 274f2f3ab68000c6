/**
 * Opening a base: the one way every command gets a model, the data set it was trained on, its
 * train/validation/test splits and its run's settings (precedence in data/splits.ts openRunData).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { type DataFlags, openRunData, trainingRunSettings } from '../data/splits.js';
import { loadImageModel } from '../models/io.js';
import { readJsonFile } from '../util/jsonl.js';

export type { DataFlags };

/** A training run directory's best/ model, or the model directory itself. */
const baseModelDir = (path: string) => (existsSync(join(path, 'best', 'model.json')) ? join(path, 'best') : path);
export type BaseData = Awaited<ReturnType<typeof openRunData>>;

/**
 * A model (a run directory, its best/ model, or a model directory) with its data: flags override the
 * run's recorded data location and format (with a note), the run's split settings override
 * `fallback`. The model is checked against the data set's image shape and class count.
 */
export async function openBase(
  path: string,
  flags: DataFlags = {},
  fallback: { valSize?: number; seed?: number; trainLimit?: number } = {},
  o: { quiet?: boolean } = {},
): Promise<{ model: LayersModel; modelDir: string; data: BaseData; run: ReturnType<typeof trainingRunSettings> }> {
  const modelDir = baseModelDir(path);
  const run = trainingRunSettings(modelDir);
  const data = await openRunData(
    run,
    flags,
    { valSize: fallback.valSize ?? 5000, seed: fallback.seed ?? 1, trainLimit: fallback.trainLimit },
    o,
  );
  const model = await loadImageModel(modelDir, data.info);
  return { model, modelDir, data, run };
}

/** The base model and the data split it was trained with (read from its run's config.json). */
export async function resolveBase(base: string) {
  const modelDir = baseModelDir(base);
  const cfgPath = existsSync(join(base, 'config.json')) ? join(base, 'config.json') : null;
  const cfg = cfgPath ? readJsonFile(cfgPath) : {};
  return {
    model: await loadImageModel(modelDir),
    modelDir,
    valSize: cfg.valSize as number | undefined,
    seed: cfg.seed as number | undefined,
    trainSize: cfg.trainSize as number | undefined,
    trainLimit: (cfg.trainLimit ?? undefined) as number | undefined,
    paramGroups: cfg.paramGroups as string | undefined,
    batch: cfg.batch as number | undefined,
    run: trainingRunSettings(modelDir),
  };
}
