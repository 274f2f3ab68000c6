/** An experiment directory's report (report.html, optional PNGs) and its summary table for the terminal. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readResults } from '../experiment/grid.js';
import { writeFileAtomic } from '../util/atomic.js';
import { buildReport, summarise } from './html.js';
import { exportChartPngs } from './png.js';
import { readJsonFile } from '../util/jsonl.js';
import { machine } from '../util/machine.js';

/** Writes out/report.html from the directory's records (and PNGs of its charts when asked). */
export async function writeReport(out: string, title: string, backend: string, pngs = false): Promise<string> {
  const read = (f: string) => (existsSync(join(out, f)) ? readJsonFile(join(out, f)) : undefined);
  const html = await buildReport({
    title,
    base: read('base.json'),
    results: readResults(join(out, 'results.jsonl')),
    robustness: read('robustness.json'),
    inspect: read('inspect.json'),
    config: read('config.json'),
    machine: machine(backend),
  });
  const path = resolve(join(out, 'report.html'));
  writeFileAtomic(path, html);
  if (pngs) {
    const r = await exportChartPngs(path, join(out, 'png'));
    if (r.skipped) process.stderr.write(`PNG export skipped: ${r.skipped}\n`);
  }
  return path;
}

/** The results as a markdown table (one row per criterion and target, seeds pooled). */
export function table(out: string): string {
  const base = existsSync(join(out, 'base.json')) ? readJsonFile(join(out, 'base.json')) : null;
  const rows = summarise(readResults(join(out, 'results.jsonl')));
  const lines = [
    '| criterion | target | seeds | FLOPs removed | params removed | val acc | test acc (min-max) | scoring s |',
    '|---|---|---|---|---|---|---|---|',
  ];
  if (base) lines.push(`| (base) | - | - | 0% | 0% | ${(100 * base.valAcc).toFixed(2)}% | ${(100 * base.testAcc).toFixed(2)}% | - |`);
  for (const c of rows)
    lines.push(
      `| ${c.criterion} | ${c.target} | ${c.seeds} | ${(100 * c.flopsRemoved).toFixed(1)}% | ${(100 * c.paramsRemoved).toFixed(1)}% | ${(100 * c.valAcc).toFixed(2)}% | ${(100 * c.testAcc).toFixed(2)}% (${(100 * c.testLo).toFixed(2)}-${(100 * c.testHi).toFixed(2)}) | ${c.scoringSeconds.toFixed(2)} |`,
    );
  return lines.join('\n');
}
