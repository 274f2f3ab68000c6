/**
 * Experiment grid resume, robustness statistics, and the HTML report opened in headless Chromium.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setFallbackLogger, useBestBackend } from '../src/engine/backend/index.js';
import { balancedSample } from '../src/data/pipeline.js';
import { ExperimentOptions, readResults, runExperiment } from '../src/experiment/grid.js';
import { robustness } from '../src/experiment/robustness.js';
import { spearman } from '../src/eval/ranking.js';
import { buildModel } from '../src/models/zoo.js';
import { scoreModel } from '../src/prune/importance/registry.js';
import { writeReport } from '../src/report/experiment.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../src/report/png.js';
import { trainModel, TrainConfig } from '../src/train/loop.js';
import { greyVariance } from './helpers/png.js';
import { overlappingLabels } from './helpers/layout.js';
import { NEEDS_CIFAR, SMALL_SGD, smallSplits, TINY_GRID } from './helpers/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'auraprune-exp-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
});

// loaded on first use, so the file loads (and its tests skip) without CIFAR-10
const getData = () => smallSplits(1000, 200, 300);
const cfg: TrainConfig = SMALL_SGD;
const opts: ExperimentOptions = {
  ...TINY_GRID,
  criteria: ['aura', 'l1', 'random'],
  targets: [0.4],
  seeds: [1],
  finetune: { ...cfg, epochs: 1 },
};
const strip = (r: ReturnType<typeof readResults>[number]) => ({ ...r, finetuneSeconds: 0, scoringSeconds: 0, activationSeconds: 0 });

describe('experiment grid', NEEDS_CIFAR, () => {
  test('killed after the first cell and rerun: the finished cell is kept, the rest equals an uninterrupted run', async () => {
    const base = (
      await trainModel(
        buildModel('fast', { width: 0.125, seed: 1 }),
        cfg,
        { train: getData().train, val: getData().val },
        join(tmp, 'base'),
        { quiet: true },
      )
    ).model;
    const part = await runExperiment(base, getData(), join(tmp, 'a'), { ...opts, stopAfterCells: 1 });
    assert.equal(part.complete, false);
    assert.equal(part.results.length, 1);
    const first = readFileSync(join(tmp, 'a', 'results.jsonl'), 'utf8').split('\n')[0];
    const resumed = await runExperiment(base, getData(), join(tmp, 'a'), opts);
    assert.equal(resumed.newCells, 2, 'only the two unfinished cells run');
    assert.equal(readFileSync(join(tmp, 'a', 'results.jsonl'), 'utf8').split('\n')[0], first, 'the finished cell is untouched');
    const full = await runExperiment(base, getData(), join(tmp, 'b'), opts);
    const key = (rs: typeof full.results) => rs.map(strip).sort((x, y) => x.key.localeCompare(y.key));
    assert.deepEqual(key(resumed.results), key(full.results));
    // equal allocation: every criterion keeps identical counts per layer at a target; the budgets differ
    const kept = full.results.map((r) => JSON.stringify(r.keptPerLayer));
    assert.equal(new Set(kept).size, 1, `kept counts per layer differ across criteria: ${kept.join(' | ')}`);
    assert.ok(full.results.every((r) => r.allocation === 'uniform' && r.testAccRaw! >= 0 && r.testAccRecalBn! >= 0));
  });

  test(
    'the report in headless Chromium: every chart drawn, no label overlapping another, the table equals results.jsonl',
    existsSync(CHROMIUM) ? {} : { skip: `no Chromium at ${CHROMIUM} (apt-get install chromium)` },
    async () => {
      // the grid of the test above (run again here if this test runs alone)
      if (!existsSync(join(tmp, 'a', 'results.jsonl'))) {
        const base = (await trainModel(buildModel('fast', { width: 0.125, seed: 1 }), cfg, getData(), join(tmp, 'base2'), { quiet: true }))
          .model;
        await runExperiment(base, getData(), join(tmp, 'a'), opts);
      }
      const html = await writeReport(join(tmp, 'a'), 'test report', 'test');
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      try {
        const page = await browser.newPage();
        // the overlap check itself, on a hand-made chart: two labels on top of each other are found;
        // slanted neighbours whose boxes only touch on screen, and distant labels, are not
        await page.setContent(`<figure class="chart" id="probe"><svg width="400" height="200">
          <text x="10" y="20" font-size="12">first label</text><text x="30" y="22" font-size="12">second</text>
          <text x="200" y="100" font-size="12">alone</text>
          <text transform="translate(100,150) rotate(-30)" font-size="12">layer_one</text>
          <text transform="translate(132,150) rotate(-30)" font-size="12">layer_two</text></svg></figure>`);
        assert.deepEqual(await overlappingLabels(page), ['probe: "first label" overlaps "second"']);
        const errors: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') errors.push(m.text());
        });
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(`file://${html}`);
        assert.deepEqual(errors, []);
        const ids = await page.$$eval('.chart', (els) => els.map((e) => e.id));
        // one target: accuracy as bars per criterion (a scatter would be one column of points)
        for (const id of ['chart-acc-target', 'chart-scoring-time', 'chart-kept', 'chart-mi-heatmap'])
          assert.ok(ids.includes(id), `chart ${id} present`);
        for (const id of ids) {
          const v = greyVariance(await (await page.$(`#${id}`))!.screenshot());
          assert.ok(v > 50, `chart ${id} is not blank (grey-level variance ${v.toFixed(1)})`);
        }
        assert.deepEqual(await overlappingLabels(page), []);
        // the heatmap has a colour bar (a gradient legend) and filter indices on both axes
        const heat = await page.$eval('#chart-mi-heatmap', (e) => ({
          gradient: !!e.querySelector('linearGradient'),
          labels: [...e.querySelectorAll('text')].map((t) => t.textContent),
        }));
        assert.ok(heat.gradient, 'colour bar');
        assert.ok(heat.labels.includes('0') && heat.labels.includes('MI (nats)'), `heatmap labels: ${heat.labels.join(' ')}`);
        const rows = await page.$$eval('#results tr[data-criterion]', (trs) =>
          trs.map((t) => ({ c: t.getAttribute('data-criterion'), acc: Number(t.getAttribute('data-test-acc')) })),
        );
        const results = readResults(join(tmp, 'a', 'results.jsonl'));
        assert.equal(rows.length, results.length);
        for (const r of rows) assert.equal(r.acc, results.find((x) => x.criterion === r.c)!.testAcc);
      } finally {
        await browser.close();
      }
    },
  );
});

describe('robustness statistics', NEEDS_CIFAR, () => {
  test('sigma = 0: every criterion has Spearman 1; random rankings are not stable across seeds', async () => {
    const model = buildModel('vgg16', { width: 0.125, seed: 2 });
    const sample = balancedSample(getData().train, 3, 1);
    const rows = await robustness(model, sample, ['aura', 'l1', 'hrank', 'mint', 'random'], [0, 0.5], {
      where: 'input',
      tap: 'relu',
      seed: 1,
      quiet: true,
    });
    for (const r of rows.filter((x) => x.sigma === 0)) assert.equal(r.spearman, 1, `${r.criterion} at sigma 0`);
    assert.ok(
      rows.some((r) => r.sigma === 0.5 && r.criterion === 'aura' && r.spearman < 1),
      'noise changes the aura ranking',
    );
    const [a] = await scoreModel(model, sample, ['random'], { seed: 1, quiet: true });
    const [b] = await scoreModel(model, sample, ['random'], { seed: 2, quiet: true });
    const rho = a.scores.map((u, i) => spearman(u.scores, b.scores[i].scores));
    const mean = rho.reduce((x, y) => x + y, 0) / rho.length;
    assert.ok(Math.abs(mean) < 0.3, `random rankings across seeds: mean Spearman ${mean}`);
  });
});
