/**
 * The criterion study: equal allocation really is equal, comparisons pair the same seed's cells,
 * a killed study resumes without touching finished cells, and the report explains itself.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setFallbackLogger, useBestBackend } from '../src/engine/backend/index.js';
import type { ImageSplit } from '../src/data/dataset.js';
import { packBits } from '../src/eval/bootstrap.js';
import {
  analyseStudy,
  disjointSamples,
  noisyCopy,
  prepareStudy,
  readLines,
  runStudy,
  StudyLine,
  StudyOptions,
  studyNoisyTest,
} from '../src/experiment/study.js';
import { recheckStudy } from '../src/experiment/recheck.js';
import { buildModel } from '../src/models/zoo.js';
import { saveModel } from '../src/models/io.js';
import { evaluate } from '../src/eval/evaluate.js';
import { meanOffDiagonal } from '../src/prune/importance/aura.js';
import { pruningUnits } from '../src/prune/graph/graph.js';
import { studyHtml, studyMarkdown } from '../src/report/study.js';
import { trainModel } from '../src/train/loop.js';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { NEEDS_CIFAR, SMALL_SGD, smallSplits, studyLineOf, TINY_STUDY_SETTINGS } from './helpers/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'auraprune-study-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
});

const getData = () => smallSplits(1200, 200, 300);
let baseModel: LayersModel | null = null;
async function base() {
  baseModel ??= (
    await trainModel(
      buildModel('fast', { width: 0.125, seed: 1 }),
      SMALL_SGD,
      { train: getData().train, val: getData().val },
      join(tmp, 'base'),
      { quiet: true },
    )
  ).model;
  return baseModel;
}

const lineOf = studyLineOf;

/** A no-fine-tune study line whose raw and BN-re-estimated results are the given per-image correctness. */
function rawLine(variant: string, seed: number, correct: Uint8Array): StudyLine {
  const acc = correct.reduce((a, b) => a + b, 0) / correct.length;
  return { ...lineOf('none', variant, seed), testAccRaw: acc, testAccBn: acc, correctRaw: packBits(correct), correctBn: packBits(correct) };
}

const opts: StudyOptions = {
  settings: { ...TINY_STUDY_SETTINGS, noisySigma: 0.1 },
  seeds: [1, 2],
  stages: [
    { budget: 'none', variants: ['aura', 'aura-red', 'l1', 'random'], targets: [0.4], allocations: ['uniform', 'sensitivity'] },
    { budget: 'epoch', variants: ['aura', 'random'], targets: [0.4], allocations: ['uniform'] },
    // a stage with its own seeds (as the plan's recovery budget), on the Taylor baseline
    { budget: 'none', variants: ['taylor'], targets: [0.4], allocations: ['uniform'], seeds: [2] },
  ],
  quiet: true,
};

describe('criterion study', NEEDS_CIFAR, () => {
  test('equal allocation: every variant keeps identical counts per layer in a cell, chosen differently; kill and resume keep finished cells', async () => {
    const m = await base();
    const dir = join(tmp, 'study');
    const ticks: number[] = [];
    const part = await runStudy(m, getData(), dir, { ...opts, stopAfterCells: 3 }, { onCell: (n) => ticks.push(n) });
    assert.equal(part.complete, false);
    assert.deepEqual(ticks, [1, 2, 3], 'one tick per finished cell (what an invocation killed later is timed by)');
    const before = readFileSync(join(dir, 'results.jsonl'), 'utf8');
    const full = await runStudy(m, getData(), dir, opts);
    assert.equal(full.complete, true);
    assert.equal(full.newCells, 4 * 2 * 2 + 2 * 2 + 1 - 3, 'only unfinished cells ran');
    assert.ok(readFileSync(join(dir, 'results.jsonl'), 'utf8').startsWith(before), 'finished cells byte-identical');
    const lines = readLines<StudyLine>(join(dir, 'results.jsonl'));
    // every cell names the machine it ran on (cores, CPU, Node, backend), for reports rebuilt elsewhere
    for (const l of lines)
      assert.ok(
        l.machine?.startsWith(`${cpus().length} x `) && l.machine.endsWith(`, Node ${process.version}, backend ${tf.getBackend()}`),
        `${l.key}: machine ${l.machine}`,
      );
    const units = pruningUnits(m);
    for (const alloc of ['uniform', 'sensitivity']) {
      const cell = lines.filter((l) => l.allocation === alloc && l.budget === 'none');
      assert.equal(cell.length, alloc === 'uniform' ? 9 : 8);
      for (const l of cell) assert.deepEqual(l.kept, cell[0].kept, `${l.variant} s${l.seed} ${alloc}: same kept counts`);
      assert.ok(
        cell[0].kept.some((k, i) => k < units[i].filters),
        'something was pruned',
      );
      assert.ok(Math.abs(cell[0].flopsRemoved - 0.4) < 0.08, `FLOPs removed ${cell[0].flopsRemoved}`);
    }
    assert.deepEqual(
      lines.filter((l) => l.variant === 'taylor').map((l) => l.seed),
      [2],
      "the stage's own seeds",
    );
    const uni = lines.filter((l) => l.allocation === 'uniform' && l.budget === 'none').map((l) => l.kept);
    const sens = lines.filter((l) => l.allocation === 'sensitivity' && l.budget === 'none').map((l) => l.kept);
    assert.notDeepEqual(uni[0], sens[0], 'the sensitivity allocation differs from the uniform one on this model');
    // different criteria keep different filters: their raw accuracies are not all identical
    const raws = new Set(lines.filter((l) => l.budget === 'none' && l.seed === 1 && l.allocation === 'uniform').map((l) => l.correctRaw));
    assert.ok(raws.size > 1, 'criteria chose different filters');
    const epoch = lines.filter((l) => l.budget === 'epoch');
    assert.equal(epoch.length, 4);
    for (const l of epoch) assert.ok(l.testAcc! > 0.1, `fine-tuned ${l.variant} ${l.testAcc}`);

    const rows = analyseStudy(lines, getData().test.n, { resamples: 200 });
    const r = rows.find((x) => x.measure === 'epoch' && x.variant === 'aura')!;
    assert.deepEqual(r.seeds, [1, 2]);
    assert.ok(r.vsRandom && r.vsRandom.lo <= r.vsRandom.mean && r.vsRandom.mean <= r.vsRandom.hi);
    const doc = {
      base: { testAcc: 0.5, params: 1, flops: 1 },
      rows,
      stability: [],
      costs: [],
      settings: {},
      machine: 'test',
      command: 'auraprune study',
    };
    const md = studyMarkdown(doc);
    assert.match(md, /Accuracy after batch-norm re-estimation/);
    assert.match(md, /Better\? aura: ahead of random in \d+/);
    const html = await studyHtml(doc);
    assert.match(html, /<p>This report compares filter-ranking criteria/);
    assert.doesNotMatch(html, /\*\*/, 'Markdown bold is rendered, not shown (table cells included)');
    assert.match(html, /<figure class="chart" id="chart-epoch-diff-40"><svg/);

    // a rerun of finished cells: the no-fine-tune one reproduces exactly, the fine-tuned one is judged
    // against its row's prediction interval; a second recheck reuses the reruns
    const counts = await prepareStudy(m, getData(), dir, opts);
    const keys = ['none|uniform|aura|0.4|1', 'epoch|uniform|aura|0.4|1'];
    const noisy = studyNoisyTest(getData(), opts.settings);
    const r1 = await recheckStudy(m, getData(), dir, opts.settings, counts, noisy, { n: 0, keys, seed: 1, quiet: true });
    assert.deepEqual(
      r1.map((x) => x.measure),
      ['raw', 'bn', 'epoch'],
    );
    for (const x of r1.slice(0, 2)) assert.equal(x.exact, true, `${x.key} ${x.measure}: ${x.original} vs ${x.rerun}`);
    assert.equal(r1[2]!.row.n, 2);
    assert.notEqual(r1[2]!.inside, null);
    const reruns = readFileSync(join(dir, 'recheck', 'results.jsonl'), 'utf8');
    const r2 = await recheckStudy(m, getData(), dir, opts.settings, counts, noisy, { n: 0, keys, seed: 1, quiet: true });
    assert.deepEqual(r2, r1);
    assert.equal(readFileSync(join(dir, 'recheck', 'results.jsonl'), 'utf8'), reruns, 'finished reruns are not run again');
    await assert.rejects(
      recheckStudy(m, getData(), dir, opts.settings, counts, noisy, { n: 0, keys: ['full|uniform|aura|0.4|9'], seed: 1 }),
      /--recheck-cells: full\|uniform\|aura\|0.4\|9 is not a finished cell/,
    );
  });

  test('the recovery cell scores its noisy test set with the best-by-validation weights, like the clean one', async () => {
    const m = await base();
    const dir = join(tmp, 'study-full');
    const o: StudyOptions = {
      settings: { ...TINY_STUDY_SETTINGS, noisySigma: 0.1, full: { ...SMALL_SGD, epochs: 3 } },
      seeds: [1],
      stages: [{ budget: 'full', variants: ['random'], targets: [0.4], allocations: ['uniform'] }],
      quiet: true,
    };
    await runStudy(m, getData(), dir, o);
    const first = readLines<StudyLine>(join(dir, 'results.jsonl'))[0];
    const cell = join(dir, 'cells', first.key.replace(/\|/g, '_'));
    // make the best checkpoint unmistakably not the final weights (here: the unpruned base), then let the
    // cell be recorded again from its finished fine-tune: both test sets must see the checkpoint
    await saveModel(m, join(cell, 'best'));
    writeFileSync(join(dir, 'results.jsonl'), '');
    await runStudy(m, getData(), dir, o);
    const [line] = readLines<StudyLine>(join(dir, 'results.jsonl'));
    // independent: the base evaluated on the clean test set and on the same noisy copy (the study's seed 7)
    const clean = evaluate(m, getData().test),
      noisy = evaluate(m, noisyCopy(getData().test, 0.1, 7));
    assert.equal(line.testAcc, clean.accuracy);
    assert.equal(line.testAccNoisy, noisy.accuracy);
    assert.equal(line.correctNoisy, packBits(noisy.correct));
  });

  test('noisy test accuracy of full cells gets a paired interval against random when the per-image results were kept', () => {
    const bits = (right: number) => packBits(Uint8Array.from({ length: 100 }, (_, i) => (i < right ? 1 : 0)));
    const full = (variant: string, seed: number, clean: number, noisy: number | null): StudyLine => ({
      ...lineOf('full', variant, seed),
      testAcc: clean / 100,
      correct: bits(clean),
      testAccNoisy: noisy === null ? undefined : noisy / 100,
      correctNoisy: noisy === null ? undefined : bits(noisy),
    });
    // aura gets 30 more noisy images right than random in each of three seeds (the same 30): +30 pt; the
    // seeds agree, so the t interval's width is the images' alone: per-image differences are 30 ones and
    // 70 zeros (sample variance 21/99), se = sqrt(21/99/100), t(0.975, 2 df) = 4.302653
    const rows = analyseStudy(
      [1, 2, 3].flatMap((s) => [full('aura', s, 80, 80), full('random', s, 80, 50)]),
      100,
    );
    const r = rows.find((x) => x.measure === 'full' && x.variant === 'aura')!;
    const iv = r.noisyVsRandom!;
    const half = 4.302653 * Math.sqrt(21 / 99 / 100);
    assert.equal(+iv.mean.toFixed(12), 0.3);
    assert.ok(Math.abs(iv.lo - (0.3 - half)) < 1e-5 && Math.abs(iv.hi - (0.3 + half)) < 1e-5, `[${iv.lo}, ${iv.hi}]`);
    assert.equal(iv.verdict, 'ahead');
    assert.equal(iv.method, 't');
    // cells from before the bits were kept: mean and sd only, no interval
    const old = analyseStudy([full('aura', 1, 80, null), full('random', 1, 80, null)], 100, { resamples: 10 });
    assert.equal(old.find((x) => x.variant === 'aura')!.noisyVsRandom, undefined);
  });

  test("comparisons over seeds are t intervals carrying the seeds' spread (hand computation); one seed falls back to the images", () => {
    // aura right on the first 10, 20, 30 of 100 images in seeds 1-3, random right on none: per-seed
    // differences 0.1, 0.2, 0.3 (mean 0.2, sd 0.1); seed-averaged per-image differences: 10 x 1,
    // 10 x 2/3, 10 x 1/3, 70 x 0 (sample variance 11.5556/99); se = sqrt(0.01/3 + 0.116723/100)
    const line = (variant: string, seed: number, right: number) =>
      rawLine(
        variant,
        seed,
        Uint8Array.from({ length: 100 }, (_, i) => (i < right ? 1 : 0)),
      );
    const rows = analyseStudy(
      [line('aura', 1, 10), line('aura', 2, 20), line('aura', 3, 30), ...[1, 2, 3].map((s) => line('random', s, 0))],
      100,
    );
    const iv = rows.find((x) => x.measure === 'raw' && x.variant === 'aura')!.vsRandom!;
    const imgVar = (10 * 0.8 ** 2 + 10 * (2 / 3 - 0.2) ** 2 + 10 * (1 / 3 - 0.2) ** 2 + 70 * 0.2 ** 2) / 99;
    const half = 4.302653 * Math.sqrt(0.01 / 3 + imgVar / 100);
    assert.ok(Math.abs(iv.mean - 0.2) < 1e-12);
    assert.ok(Math.abs(iv.lo - (0.2 - half)) < 1e-5 && Math.abs(iv.hi - (0.2 + half)) < 1e-5, `[${iv.lo}, ${iv.hi}] vs +-${half}`);
    assert.ok(iv.lo < 0, 'three seeds this far apart do not show a difference');
    assert.deepEqual([iv.verdict, iv.method, iv.n], ['no evidence of a difference', 't', 3]);
    // one seed: no spread between seeds to estimate, a bootstrap over the images only, labelled so
    const one = analyseStudy([line('aura', 1, 30), line('random', 1, 0)], 100, { resamples: 200 });
    const o1 = one.find((x) => x.measure === 'raw' && x.variant === 'aura')!.vsRandom!;
    assert.equal(o1.method, 'images');
    assert.ok(o1.lo > 0.15 && o1.hi < 0.45 && o1.lo < 0.3 && o1.hi > 0.3, `[${o1.lo}, ${o1.hi}]`);
  });

  test('the paired difference uses the same seed of random: pairing by seed gives exactly zero where mis-pairing would not', () => {
    const line = (variant: string, seed: number, v: number) => rawLine(variant, seed, new Uint8Array(100).fill(v));
    // seed 1: both right everywhere; seed 2: both wrong everywhere (random's lines listed in the other order)
    const rows = analyseStudy([line('aura', 1, 1), line('aura', 2, 0), line('random', 2, 0), line('random', 1, 1)], 100, {
      resamples: 100,
    });
    const r = rows.find((x) => x.measure === 'raw' && x.variant === 'aura')!;
    assert.deepEqual([r.vsRandom!.mean, r.vsRandom!.lo, r.vsRandom!.hi], [0, 0, 0]);
    assert.equal(r.vsRandom!.verdict, 'no evidence of a difference');
    // our own variants are compared with the default (aura), by seed; baselines and aura itself are not
    const withMax = analyseStudy(
      [line('aura', 1, 0), line('aura', 2, 0), line('aura-max', 1, 1), line('aura-max', 2, 1), line('random', 1, 0), line('l1', 1, 0)],
      100,
      { resamples: 100 },
    ).filter((x) => x.measure === 'raw');
    const m = withMax.find((x) => x.variant === 'aura-max')!;
    assert.deepEqual([m.vsDefault!.mean, m.vsDefault!.lo, m.vsDefault!.hi, m.vsDefault!.verdict], [1, 1, 1, 'ahead']);
    assert.equal(withMax.find((x) => x.variant === 'aura')!.vsDefault, undefined);
    assert.equal(withMax.find((x) => x.variant === 'l1')!.vsDefault, undefined);
  });

  test('disjoint calibration samples share no image; noise changes pixels by about sigma', () => {
    const d = getData().train;
    const [a, b] = disjointSamples(d, 10, 2, 3);
    assert.equal(a.n, 100);
    const key = (s: ImageSplit, i: number) => Buffer.from(s.images.subarray(i * 3072, (i + 1) * 3072)).toString('base64');
    const inA = new Set(Array.from({ length: a.n }, (_, i) => key(a, i)));
    for (let i = 0; i < b.n; i++) assert.ok(!inA.has(key(b, i)));
    const n = noisyCopy(a, 0.1, 1);
    let s2 = 0;
    for (let i = 0; i < n.images.length; i++) s2 += (n.images[i] - a.images[i]) ** 2;
    const sd = Math.sqrt(s2 / n.images.length) / 255;
    assert.ok(sd > 0.08 && sd < 0.105, `noise sd ${sd} (clipping lowers it a little)`);
  });

  test('redundancy: mean over the other filters of a layer, by hand', () => {
    // [[9,1,2],[1,9,3],[2,3,9]] -> rows without the diagonal: (1+2)/2, (1+3)/2, (2+3)/2
    assert.deepEqual(Array.from(meanOffDiagonal(Float64Array.from([9, 1, 2, 1, 9, 3, 2, 3, 9]), 3)), [1.5, 2, 2.5]);
  });
});
