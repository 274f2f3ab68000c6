/**
 * Iterative pruning for users (`auraprune compress`): K rounds of score -> prune -> BN re-estimation
 * -> recovery fine-tune, each round removing what brings the total to its share of the FLOPs target
 * on a geometric schedule (round k of K: 1 - (1 - F)^(k/K) of the base's FLOPs removed), each round
 * scoring the model the previous round left. Every round writes what `prune` and `finetune` write
 * (round{k}/: model.json, config.json, prune-report.json; round{k}/finetuned/: the fine-tuned model,
 * compare.json), so a killed run resumes at the round (and fine-tune epoch) it reached.
 */
import { pruneAndRecover } from './recover.js';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { balancedSample } from '../data/pipeline.js';
import { openRunData, trainingRunSettings } from '../data/splits.js';
import { countComplexity } from '../eval/complexity.js';
import { loadImageModel, saveModel } from '../models/io.js';
import { scoreModel } from '../prune/importance/registry.js';
import { Allocation, toScoresFile } from '../prune/pipeline.js';
import { writeFileAtomic } from '../util/atomic.js';
import { claimRunDir } from '../util/rundir.js';
import { finetuneAndCompare } from './finetune.js';
import { roundTarget } from './prune_bench.js';
import { readJsonFile } from '../util/jsonl.js';

export interface CompressOptions {
  criterion: string;
  /** FLOPs fraction of the base to remove in all */
  targetFlops: number;
  rounds: number;
  allocation?: Allocation;
  coupled?: boolean;
  roundTo?: number;
  perClass: number;
  recalBatches: number;
  /** fine-tune of every round (finetuneAndCompare's options; epochs per round) */
  finetune: Parameters<typeof finetuneAndCompare>[2];
  seed: number;
  data?: string;
  dataset?: string;
  resize?: [number, number];
  labels?: 'fine' | 'coarse';
  quiet?: boolean;
  /** stop after this many rounds in this process (tests of resume) */
  stopAfterRounds?: number;
}

export interface CompressRound {
  round: number;
  flopsRemoved: number;
  target: number;
  valAccRaw: number;
  valAccRecalBn: number;
  compare: Record<string, unknown>;
}

/** Runs (or resumes) the rounds into `out`; returns one record per finished round. */
export async function compress(
  baseDir: string,
  out: string,
  o: CompressOptions,
): Promise<{ rounds: CompressRound[]; final: string | null }> {
  const settings = {
    base: resolve(baseDir),
    ...o,
    finetune: { ...o.finetune, quiet: undefined },
    quiet: undefined,
    stopAfterRounds: undefined,
  };
  const { release } = claimRunDir(out, settings, { resume: true, marker: 'rounds', record: { command: 'compress' } });
  try {
    mkdirSync(join(out, 'rounds'), { recursive: true });
    const run = trainingRunSettings(baseDir);
    const data = await openRunData(run, o, { valSize: 5000, seed: o.seed }, { quiet: o.quiet });
    const base = await loadImageModel(baseDir, data.info);
    const baseFlops = countComplexity(base).flops;
    const calib = balancedSample(data.train, o.perClass, o.seed);
    const rounds: CompressRound[] = [];
    let source = resolve(baseDir);
    let ran = 0;
    for (let k = 1; k <= o.rounds; k++) {
      const dir = join(out, 'rounds', `round${k}`);
      const done = join(dir, 'finetuned', 'compare.json');
      if (!existsSync(done)) {
        if (o.stopAfterRounds !== undefined && ran >= o.stopAfterRounds) break;
        // a round is pruned again from scratch unless its pruned model was written whole
        if (!existsSync(join(dir, 'round.json'))) {
          rmSync(dir, { recursive: true, force: true });
          const model: LayersModel = k === 1 ? base : await loadImageModel(source);
          const target = roundTarget(o.targetFlops, k, o.rounds);
          // this round removes what brings the total to `target` of the base's FLOPs
          const want = 1 - ((1 - target) * baseFlops) / countComplexity(model).flops;
          const [scored] = await scoreModel(model, calib, [o.criterion], { seed: o.seed, quiet: o.quiet });
          const scores = toScoresFile(scored, { criterion: o.criterion, perClass: o.perClass, seed: o.seed });
          const r = await pruneAndRecover(
            model,
            scores,
            { by: 'flops', fraction: want },
            {
              allocation: o.allocation,
              coupled: o.coupled,
              roundTo: o.roundTo,
              calib,
              recalBatches: o.recalBatches,
              seed: o.seed,
              evalOn: { val: data.val },
            },
          );
          const { model: pruned, report } = r;
          const valAccRaw = r.raw.val.accuracy;
          const valAccRecalBn = r.recalibrated.val.accuracy;
          await saveModel(pruned, dir);
          writeFileAtomic(join(dir, 'prune-report.json'), JSON.stringify({ ...report, valAccRaw, valAccRecalibratedBn: valAccRecalBn }));
          writeFileAtomic(
            join(dir, 'config.json'),
            JSON.stringify(
              { command: 'prune', source, target: { by: 'flops', fraction: want }, criterion: o.criterion, round: k },
              null,
              1,
            ),
          );
          writeFileAtomic(join(dir, 'round.json'), JSON.stringify({ round: k, target, valAccRaw, valAccRecalBn }));
          if (model !== base) model.dispose();
          pruned.dispose();
        }
        await finetuneAndCompare(dir, join(dir, 'finetuned'), { ...o.finetune, seed: o.seed * 100 + k, resume: true, quiet: o.quiet });
        ran++;
      }
      const r = readJsonFile(join(dir, 'round.json')) as { target: number; valAccRaw: number; valAccRecalBn: number };
      const compare = readJsonFile(done) as Record<string, unknown>;
      const flops = (compare.pruned as { flops: number }).flops;
      rounds.push({
        round: k,
        flopsRemoved: 1 - flops / baseFlops,
        target: r.target,
        valAccRaw: r.valAccRaw,
        valAccRecalBn: r.valAccRecalBn,
        compare,
      });
      source = resolve(join(dir, 'finetuned'));
    }
    const finished = rounds.length === o.rounds;
    if (finished) {
      // the final model beside the records, as `prune` + `finetune` leave it
      const final = join(out, 'final');
      rmSync(final, { recursive: true, force: true });
      mkdirSync(final, { recursive: true });
      for (const f of ['model.json', 'weights.bin']) cpSync(join(source, f), join(final, f));
    }
    writeFileAtomic(join(out, 'compress.json'), JSON.stringify({ finished, rounds }, null, 1));
    return { rounds, final: finished ? join(out, 'final') : null };
  } finally {
    release();
  }
}
