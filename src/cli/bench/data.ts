/**
 * `auraprune bench data`: the input pipeline of a data set against the training step it feeds. Opens
 * the data set twice (an image folder: decoded on sharp's threads, then read back from the decoded
 * cache), times the batch pipeline (augmentation + normalisation) and the training step of a zoo
 * network built for the data set's shape, and reports peak RSS. One JSON line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pixelsOf } from '../../data/dataset.js';
import { openDataSet } from '../../data/open.js';
import { alternatingFlipBase, epochBatches, fillBatch } from '../../data/pipeline.js';
import { buildModel } from '../../models/zoo.js';
import { optimiserFor, sgdStep } from '../../train/loop.js';
import { airbenchRecipe } from '../../train/recipes.js';
import { Rng } from '../../util/rng.js';
import { recordedPath } from '../../util/rundir.js';

export interface DataBenchOptions {
  data?: string;
  dataset?: string;
  resize?: [number, number];
  stream?: boolean;
  batch: number;
  batches: number;
  steps: number;
  model: string;
  width: number;
}

export async function benchData(o: DataBenchOptions) {
  // a fresh decoded cache, so the first open measures decoding
  const cache = mkdtempSync(join(tmpdir(), 'auraprune-bench-data-'));
  const saved = process.env.AURAPRUNE_FOLDER_CACHE;
  process.env.AURAPRUNE_FOLDER_CACHE = cache;
  try {
    const rssStart = process.resourceUsage().maxRSS;
    let t = performance.now();
    const set = await openDataSet(o.data, { dataset: o.dataset, resize: o.resize, stream: o.stream });
    const openSeconds = (performance.now() - t) / 1000;
    const images = set.train.n + set.test.n;
    t = performance.now();
    await openDataSet(o.data, { dataset: o.dataset, resize: o.resize, stream: o.stream, quiet: true });
    const reopenSeconds = (performance.now() - t) / 1000;

    const pix = pixelsOf(set.info);
    const buf = new Float32Array(o.batch * pix);
    const rng = new Rng(1);
    const aug = { pad: 2, padMode: 'reflect' as const, flip: 'alternate' as const };
    const flipBase = alternatingFlipBase(set.train.n, 1);
    const order = epochBatches(set.train.n, o.batch, rng, true).slice(0, o.batches);
    t = performance.now();
    order.forEach((idx, k) => fillBatch(set.train, idx, buf, rng, aug, { flipBase, epoch: k }));
    const pipelineImagesPerSecond = (order.length * o.batch) / ((performance.now() - t) / 1000);
    // the data's share of memory: peak RSS after opening and batching, before any model exists
    const rssData = process.resourceUsage().maxRSS;

    const model = buildModel(o.model, { width: o.width, seed: 1, inputShape: set.info.shape, classes: set.info.classNames.length });
    const cfg = airbenchRecipe({ epochs: 1, batch: o.batch, seed: 1 });
    const { ps, vars, sgd } = optimiserFor(model, cfg);
    const labels = Int32Array.from(order[0], (i) => set.train.labels[i]);
    fillBatch(set.train, order[0], buf, rng, aug, { flipBase, epoch: 0 });
    sgdStep({ model, vars, ps, sgd, cfg, shape: set.info.shape }, buf, labels, cfg.lr, 1); // warm-up
    t = performance.now();
    for (let s = 0; s < o.steps; s++) sgdStep({ model, vars, ps, sgd, cfg, shape: set.info.shape }, buf, labels, cfg.lr, 1, s + 1);
    const trainImagesPerSecond = (o.steps * o.batch) / ((performance.now() - t) / 1000);
    return {
      // repository-relative when inside it: a committed line holds no machine's paths
      data: recordedPath(set.source),
      format: set.info.format,
      streamed: !!set.train.disk,
      images,
      shape: set.info.shape,
      classes: set.info.classNames.length,
      decodedMB: Math.round((images * pix) / 2 ** 20),
      openSeconds: +openSeconds.toFixed(2),
      openImagesPerSecond: Math.round(images / openSeconds),
      reopenSeconds: +reopenSeconds.toFixed(2),
      pipelineImagesPerSecond: Math.round(pipelineImagesPerSecond),
      model: `${o.model}@${o.width}`,
      batch: o.batch,
      trainImagesPerSecond: Math.round(trainImagesPerSecond),
      // above 1: the pipeline (one thread, per batch) outruns the step it feeds
      pipelineOverTrain: +(pipelineImagesPerSecond / trainImagesPerSecond).toFixed(1),
      rssAtStartMB: Math.round(rssStart / 1024),
      peakRssAfterDataMB: Math.round(rssData / 1024),
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    if (saved === undefined) delete process.env.AURAPRUNE_FOLDER_CACHE;
    else process.env.AURAPRUNE_FOLDER_CACHE = saved;
    rmSync(cache, { recursive: true, force: true });
  }
}
