/**
 * Reports a person reads fit a 1280-px browser window: no element reaches past the page's right edge
 * (no horizontal scroll bar cutting a chart), and within each chart axis no two tick labels overlap.
 * Checked in headless Chromium on an experiment report with a wide per-layer chart (22 layers, three
 * criteria, one target) and on the study report rendered from the committed study's records.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import type { ResultLine } from '../src/experiment/grid.js';
import { buildReport } from '../src/report/html.js';
import { studyHtml } from '../src/report/study.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../src/report/png.js';

const tmp = mkdtempSync(join(tmpdir(), 'auraprune-layout-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const skip = !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM} (apt-get install chromium)`;

const layers = Object.fromEntries(Array.from({ length: 22 }, (_, i) => [`stage${1 + (i >> 3)}_block${i}_conv`, 16 + i]));
const line = (criterion: string, seed: number, testAcc: number): ResultLine => ({
  key: `${criterion}|0.5|${seed}`,
  criterion,
  target: 0.5,
  by: 'flops',
  seed,
  params: 1e6,
  flops: 5.0021817e7,
  paramsRemoved: 0.50021817,
  flopsRemoved: 0.50021817,
  valAccPruned: 0.5,
  valAcc: testAcc,
  testAcc,
  bestEpoch: 1,
  scoringSeconds: 1.23456,
  activationSeconds: 0.5,
  finetuneSeconds: 100,
  keptPerLayer: layers,
});

async function measure(htmlPath: string) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(pathToFileURL(htmlPath).href);
    return await page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const past = [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > width + 1)
        .map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''} (right edge ${Math.round(e.getBoundingClientRect().right)})`);
      // tick labels of one axis: vega gives each axis a group with role-axis-label text
      const overlaps: string[] = [];
      for (const axis of document.querySelectorAll('g.role-axis-label')) {
        const boxes = [...axis.querySelectorAll('text')].map((t) => ({ r: t.getBoundingClientRect(), s: t.textContent ?? '' }));
        for (let i = 0; i < boxes.length; i++)
          for (let j = i + 1; j < boxes.length; j++) {
            const a = boxes[i].r,
              b = boxes[j].r;
            const ox = Math.min(a.right, b.right) - Math.max(a.left, b.left);
            const oy = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
            if (ox > 1 && oy > 1) overlaps.push(`${boxes[i].s} / ${boxes[j].s}`);
          }
      }
      return { scrollWidth: document.documentElement.scrollWidth, width, past: past.slice(0, 5), overlaps: overlaps.slice(0, 5) };
    });
  } finally {
    await browser.close();
  }
}

test('an experiment report with 22 layers and one target fits 1280 px without overlapping tick labels', { skip }, async () => {
  const results = [line('aura', 1, 0.9), line('l1', 1, 0.89), line('random', 1, 0.885)];
  const html = await buildReport({ title: 'layout', base: { valAcc: 0.93, testAcc: 0.92, params: 2e6, flops: 1e8 }, results });
  const f = join(tmp, 'report.html');
  writeFileSync(f, html);
  const m = await measure(f);
  assert.equal(m.scrollWidth, m.width, `horizontal overflow: ${m.past.join(', ')}`);
  assert.deepEqual(m.past, []);
  assert.deepEqual(m.overlaps, []);
});

test("the study report, rendered from the committed study's records, fits 1280 px without overlapping tick labels", { skip }, async () => {
  const doc = JSON.parse(readFileSync(resolve(import.meta.dirname, '../docs/study/study.json'), 'utf8'));
  const f = join(tmp, 'study.html');
  writeFileSync(f, await studyHtml(doc));
  const m = await measure(f);
  assert.equal(m.scrollWidth, m.width, `horizontal overflow: ${m.past.join(', ')}`);
  assert.deepEqual(m.overlaps, []);
});
