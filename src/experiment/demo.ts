/**
 * The demo: the whole path on a small default in a few minutes. Trains the airbench preset's network
 * at half width on a CIFAR-10 subset, then scores (aura, l1, random), prunes 50% of FLOPs with the
 * same fraction from every layer, and fine-tunes each pruned model. The output directory owns its
 * settings: a rerun continues the same settings and refuses others.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { subset } from '../data/pipeline.js';
import { loadData } from '../data/splits.js';
import { initWhitening } from '../models/airbench.js';
import { loadImageModel } from '../models/io.js';
import { buildModel } from '../models/zoo.js';
import { trainModel } from '../train/loop.js';
import { airbenchRecipe, finetuneRecipe } from '../train/recipes.js';
import { writeFileAtomic } from '../util/atomic.js';
import { claimRunDir } from '../util/rundir.js';
import { runExperiment } from './grid.js';

export interface DemoOptions {
  data?: string;
  out: string;
  trainImages: number;
  epochs: number;
}

const FINETUNE_EPOCHS = 2;
const TEST_IMAGES = 2000;
/** calibration images per class for scoring and BN re-estimation */
const DEMO_PER_CLASS = 20;

function mkdirp(d: string): string {
  mkdirSync(d, { recursive: true });
  return d;
}

/** Runs (or continues) the demo; `say` reports each step. Returns where the experiment is. */
export async function runDemo(
  o: DemoOptions,
  say: (step: string) => void = () => {},
): Promise<{ expDir: string; valImages: number; testImages: number; finetuneEpochs: number }> {
  const full = await loadData(o.data, 1000, 1, o.trainImages);
  const data = {
    train: full.train,
    val: full.val,
    test: subset(
      full.test,
      Array.from({ length: TEST_IMAGES }, (_, i) => i),
    ),
  };
  // scoring calibrates on DEMO_PER_CLASS training images per class: a subset too small for that
  // would fail only after the base has trained, so refuse it now
  const counts = new Array<number>(full.train.info.classNames.length).fill(0);
  for (let i = 0; i < full.train.n; i++) counts[full.train.labels[i]]++;
  const fewest = Math.min(...counts);
  if (fewest < DEMO_PER_CLASS)
    throw new Error(
      `--train-images ${o.trainImages}: class ${counts.indexOf(fewest)} (${full.train.info.classNames[counts.indexOf(fewest)]}) gets only ${fewest} training images, fewer than the ${DEMO_PER_CLASS} per class the demo calibrates on; raise --train-images (e.g. 2000)`,
    );
  // a rerun into the same --out continues only the same settings (never mixes old and new numbers)
  const { release } = claimRunDir(
    o.out,
    { trainImages: o.trainImages, epochs: o.epochs, data: 'cifar10' },
    { resume: true, marker: 'base', record: { command: 'demo' } },
  );
  try {
    const runDir = join(o.out, 'base');
    // the airbench preset's network at half width and recipe at batch 256 (12k images give ~45 steps per epoch)
    const cfg = airbenchRecipe({ epochs: o.epochs, batch: 256, seed: 1 });
    say(`1/3 training the airbench preset (width 0.5) on ${data.train.n} images for ${o.epochs} epochs`);
    writeFileAtomic(
      join(mkdirp(runDir), 'config.json'),
      JSON.stringify({ command: 'demo', model: 'airbench', width: 0.5, valSize: data.val.n, ...cfg }, null, 1),
    );
    const net = buildModel('airbench', { width: 0.5, seed: 1 });
    initWhitening(net, data.train);
    await trainModel(net, cfg, data, runDir, { resume: true });
    const base = await loadImageModel(join(runDir, 'best'));
    say(
      `2/3 scoring with aura, l1 and random; pruning 50% of FLOPs (the same fraction from every layer); fine-tuning each for ${FINETUNE_EPOCHS} epochs`,
    );
    const expDir = join(o.out, 'experiment');
    const finetune = finetuneRecipe(cfg, { epochs: FINETUNE_EPOCHS, lrScale: 0.5, seed: 1 });
    const opts = {
      criteria: ['aura', 'l1', 'random'],
      targets: [0.5],
      by: 'flops' as const,
      seeds: [1],
      finetune,
      perClass: DEMO_PER_CLASS,
      where: 'relu' as const,
      maxRemove: 0.9,
      normalize: 'max' as const,
      scoring: { quantize: { levels: 8, zeroBin: true } },
    };
    writeFileAtomic(join(mkdirp(expDir), 'config.json'), JSON.stringify({ command: 'demo', ...opts }, null, 1));
    await runExperiment(base, data, expDir, opts);
    return { expDir, valImages: data.val.n, testImages: data.test.n, finetuneEpochs: FINETUNE_EPOCHS };
  } finally {
    release();
  }
}
