/** The base model of an experiment or study, and the data split it was trained with. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCifarModel } from '../models/io.js';

/** The base model and the data split it was trained with (read from its run's config.json). */
export async function resolveBase(base: string) {
  const modelDir = existsSync(join(base, 'best', 'model.json')) ? join(base, 'best') : base;
  const cfgPath = existsSync(join(base, 'config.json')) ? join(base, 'config.json') : null;
  const cfg = cfgPath ? JSON.parse(readFileSync(cfgPath, 'utf8')) : {};
  return {
    model: await loadCifarModel(modelDir),
    modelDir,
    valSize: cfg.valSize as number | undefined,
    seed: cfg.seed as number | undefined,
    trainSize: cfg.trainSize as number | undefined,
    trainLimit: (cfg.trainLimit ?? undefined) as number | undefined,
    paramGroups: cfg.paramGroups as string | undefined,
    batch: cfg.batch as number | undefined,
    /** where the base run read CIFAR-10 (used when --data is not given) */
    dataDir: (typeof cfg.dataDir === 'string' && existsSync(cfg.dataDir) ? cfg.dataDir : undefined) as string | undefined,
  };
}
