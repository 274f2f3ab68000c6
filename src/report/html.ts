/**
 * The experiment report: one self-contained HTML file (inline SVG charts, no scripts or network)
 * built from the JSON records an experiment writes. No tfjs here.
 */
import type { ResultLine } from '../experiment/grid.js';
import type { RobustnessRow } from '../experiment/robustness.js';
import type { InspectData } from '../prune/importance/inspect.js';
import { image } from './svg.js';
import { groupedBarsSpec, heatmapSpec, lineSpec, renderChart, scatterLogXSpec } from './vega.js';

export interface ReportInput {
  title: string;
  /** the base's accuracy and size; `dataset` names the data set (older records: CIFAR-10) */
  base?: { valAcc: number; testAcc: number; params: number; flops: number; testImages?: number; dataset?: string };
  results: ResultLine[];
  robustness?: RobustnessRow[];
  inspect?: InspectData | null;
  config?: Record<string, unknown>;
  machine?: string;
}

const pct = (v: number) => (100 * v).toFixed(2);

/** How a report names the base's data set (records from before data sets hold none: CIFAR-10). */
export const datasetLabel = (name?: string) => (name && name !== 'cifar10' ? name : 'CIFAR-10');
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export interface CellSummary {
  criterion: string;
  target: number;
  seeds: number;
  testAcc: number;
  testLo: number;
  testHi: number;
  valAcc: number;
  flopsRemoved: number;
  paramsRemoved: number;
  scoringSeconds: number;
}

export function summarise(results: ResultLine[]): CellSummary[] {
  const groups = new Map<string, ResultLine[]>();
  for (const r of results) groups.set(`${r.criterion}|${r.target}`, [...(groups.get(`${r.criterion}|${r.target}`) ?? []), r]);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return [...groups.values()]
    .map((rs) => ({
      criterion: rs[0].criterion,
      target: rs[0].target,
      seeds: rs.length,
      testAcc: mean(rs.map((r) => r.testAcc)),
      testLo: Math.min(...rs.map((r) => r.testAcc)),
      testHi: Math.max(...rs.map((r) => r.testAcc)),
      valAcc: mean(rs.map((r) => r.valAcc)),
      flopsRemoved: mean(rs.map((r) => r.flopsRemoved)),
      paramsRemoved: mean(rs.map((r) => r.paramsRemoved)),
      scoringSeconds: mean(rs.map((r) => r.scoringSeconds)),
    }))
    .sort((a, b) => a.criterion.localeCompare(b.criterion) || a.target - b.target);
}

/**
 * The report's first paragraph, generated from the numbers: what was compared on which base, and
 * what the results say per target (the best criterion, and where random is as good, by the spread
 * of its seeds).
 */
export function summaryParagraph(inp: ReportInput): string {
  const cells = summarise(inp.results);
  if (!cells.length)
    return inp.robustness?.length
      ? `This report shows how stable each criterion's filter ranking is when Gaussian noise is added (${inp.robustness[0].where}): the Spearman correlation between the ranking with and without noise, per noise level; 1 means the noise changes nothing.`
      : 'No finished cells yet.';
  const criteria = [...new Set(cells.map((c) => c.criterion))];
  const targets = [...new Set(cells.map((c) => c.target))].sort((a, b) => a - b);
  const seeds = Math.max(...cells.map((c) => c.seeds));
  const what =
    criteria.length === 1
      ? `1 filter-selection criterion (${criteria[0]})`
      : `${criteria.length} filter-selection criteria (${criteria.join(', ')})`;
  const parts = [
    `This report compares ${what} for pruning ${inp.base ? `a base model with ${pct(inp.base.testAcc)}% test accuracy (${(inp.base.params / 1e6).toFixed(2)} M params, ${(inp.base.flops / 1e6).toFixed(1)} M FLOPs)` : 'one base model'} on ${datasetLabel(inp.base?.dataset)}, at ${targets.map((t) => `${Math.round(100 * t)}%`).join(', ')} of ${inp.results[0].by === 'params' ? 'parameters' : 'FLOPs'} removed, each pruned model fine-tuned with the same budget, ${seeds} seed${seeds > 1 ? 's' : ''} per cell; accuracies are test accuracy of the best-by-validation epoch.`,
  ];
  // images the accuracies were measured on (older records: the full test set)
  const n = inp.base?.testImages ?? 10000;
  const ftEpochs = (inp.config?.settings as { finetune?: { epochs?: number } } | undefined)?.finetune?.epochs;
  for (const t of targets) {
    const row = cells.filter((c) => c.target === t).sort((a, b) => b.testAcc - a.testAcc);
    const best = row[0];
    // within noise: seeds' ranges overlap (several seeds), else a difference under two binomial
    // standard errors of the two accuracies on n images (one seed)
    const within = (c: CellSummary) =>
      c === best ||
      (c.seeds > 1 && best.seeds > 1
        ? c.testHi >= best.testLo
        : best.testAcc - c.testAcc < 2 * Math.sqrt((best.testAcc * (1 - best.testAcc) + c.testAcc * (1 - c.testAcc)) / n));
    const tied = row.filter(within);
    const vsBase = (c: CellSummary) => (inp.base ? ` (${(100 * (c.testAcc - inp.base.testAcc)).toFixed(2)} pt against the base)` : '');
    let s: string;
    if (tied.length > 1) {
      const how =
        best.seeds > 1
          ? "their seeds' ranges overlap"
          : `one seed: differences under ${(200 * Math.sqrt((2 * best.testAcc * (1 - best.testAcc)) / n)).toFixed(1)} pt on ${n} test images are inside the noise`;
      const gap = inp.base ? `; the best is ${(100 * (best.testAcc - inp.base.testAcc)).toFixed(2)} pt from the base` : '';
      s = `At ${Math.round(100 * t)}%: ${tied.map((c) => `${c.criterion} ${pct(c.testAcc)}%`).join(', ')} do not differ beyond run-to-run noise (${how}), so no criterion is ranked above the others${gap}`;
      const behind = row.filter((c) => !tied.includes(c));
      if (behind.length) s += `; behind them: ${behind.map((c) => `${c.criterion} ${pct(c.testAcc)}%`).join(', ')}`;
    } else if (row.length === 1) {
      s = `At ${Math.round(100 * t)}%: only ${best.criterion} was run, ${pct(best.testAcc)}%${vsBase(best)}`;
    } else {
      s = `At ${Math.round(100 * t)}%: ${best.criterion} is ahead with ${pct(best.testAcc)}%${vsBase(best)}, beyond run-to-run noise`;
      const random = row.find((c) => c.criterion === 'random');
      if (random) s += `; random reaches ${pct(random.testAcc)}%`;
    }
    parts.push(s + '.');
  }
  if (inp.base && cells.some((c) => c.testAcc > inp.base!.testAcc))
    parts.push(
      `Pruned models above the unpruned base are not a gain from pruning: each was fine-tuned for ${ftEpochs ?? 'some'} more epoch${ftEpochs === 1 ? '' : 's'} after the base's own training, extra training the base never got.`,
    );
  return parts.join(' ');
}

export async function buildReport(inp: ReportInput): Promise<string> {
  const cells = summarise(inp.results);
  const criteria = [...new Set(cells.map((c) => c.criterion))];
  const parts: string[] = [];
  parts.push(`<h1>${esc(inp.title)}</h1>`);
  parts.push(`<p id="summary">${esc(summaryParagraph(inp))}</p>`);
  if (inp.machine) parts.push(`<p class="meta">${esc(inp.machine)}</p>`);
  if (inp.base)
    parts.push(
      `<p>Base model: validation ${pct(inp.base.valAcc)}%, test ${pct(inp.base.testAcc)}%, ${(inp.base.params / 1e6).toFixed(3)} M params, ${(inp.base.flops / 1e6).toFixed(1)} M FLOPs. Models were chosen by validation accuracy; test accuracy is reported, never used for selection.</p>`,
    );
  // a robustness-only report (auraprune robustness) has no pruned cells: no empty sections for them
  const targetsRun = [...new Set(cells.map((c) => c.target))];
  if (targetsRun.length === 1) {
    // one target: a scatter would be one column of points; bars per criterion say the same plainly
    parts.push('<h2>Accuracy after fine-tuning</h2>');
    parts.push(
      await renderChart(
        'chart-acc-target',
        groupedBarsSpec({
          title: `Test accuracy at ${Math.round(100 * targetsRun[0])}% of ${inp.results[0].by === 'params' ? 'parameters' : 'FLOPs'} removed (mean over seeds)`,
          y: 'test accuracy (%)',
          categories: cells.map((c) => c.criterion),
          series: [{ name: 'test accuracy', values: cells.map((c) => +(100 * c.testAcc).toFixed(2)) }],
          format: '.1f',
        }),
      ),
    );
  } else if (cells.length) {
    parts.push('<h2>Accuracy after fine-tuning</h2><div class="row">');
    const points = (x: (c: CellSummary) => number) =>
      cells.map((c) => ({ series: c.criterion, x: 100 * x(c), y: 100 * c.testAcc, lo: 100 * c.testLo, hi: 100 * c.testHi }));
    const reference = inp.base ? { y: 100 * inp.base.testAcc, label: 'unpruned base' } : undefined;
    parts.push(
      await renderChart(
        'chart-acc-flops',
        lineSpec({
          title: 'Test accuracy vs FLOPs removed (bars: min-max over seeds)',
          x: 'FLOPs removed (%)',
          y: 'test accuracy (%)',
          points: points((c) => c.flopsRemoved),
          reference,
        }),
      ),
    );
    parts.push(
      await renderChart(
        'chart-acc-params',
        lineSpec({
          title: 'Test accuracy vs parameters removed',
          x: 'parameters removed (%)',
          y: 'test accuracy (%)',
          points: points((c) => c.paramsRemoved),
          reference,
        }),
      ),
    );
    parts.push('</div>');
  }
  if (cells.length) {
    parts.push(
      '<table id="results"><tr><th>criterion</th><th>target</th><th>seeds</th><th>FLOPs removed %</th><th>params removed %</th><th>val acc %</th><th>test acc % (min-max)</th><th>scoring s</th></tr>',
    );
    for (const c of cells) {
      parts.push(
        `<tr data-criterion="${esc(c.criterion)}" data-target="${c.target}" data-test-acc="${c.testAcc}"><td>${esc(c.criterion)}</td><td>${c.target}</td><td>${c.seeds}</td><td>${pct(c.flopsRemoved)}</td><td>${pct(c.paramsRemoved)}</td><td>${pct(c.valAcc)}</td><td>${pct(c.testAcc)} (${pct(c.testLo)}-${pct(c.testHi)})</td><td>${c.scoringSeconds.toFixed(2)}</td></tr>`,
      );
    }
    parts.push('</table>');
    parts.push('<h2>Cost of scoring</h2>');
    parts.push(
      await renderChart(
        'chart-scoring-time',
        scatterLogXSpec({
          title: 'Scoring time per criterion vs its mean test accuracy',
          x: 'scoring seconds (log scale)',
          y: 'mean test accuracy (%)',
          items: criteria.map((name) => {
            const mine = cells.filter((c) => c.criterion === name);
            return { name, x: Math.max(1e-3, mine[0].scoringSeconds), y: (100 * mine.reduce((a, c) => a + c.testAcc, 0)) / mine.length };
          }),
        }),
      ),
    );
  }
  if (inp.robustness?.length) {
    parts.push(`<h2>Ranking stability under noise (${esc(inp.robustness[0].where)})</h2>`);
    parts.push(
      await renderChart(
        'chart-robustness',
        lineSpec({
          title: 'Spearman correlation with the noise-free ranking',
          x: 'noise sigma',
          y: 'Spearman rho',
          points: inp.robustness.map((r) => ({ series: r.criterion, x: r.sigma, y: r.spearman })),
        }),
      ),
    );
  }
  const mid = [...new Set(inp.results.map((r) => r.target))].sort((a, b) => a - b);
  const t = mid[Math.floor(mid.length / 2)];
  const chosen = criteria
    .map((name) => inp.results.find((r) => r.criterion === name && r.target === t))
    .filter((r): r is ResultLine => !!r);
  if (chosen.length) {
    const layers = Object.keys(chosen[0].keptPerLayer);
    parts.push(`<h2>Filters kept per layer (target ${t}, seed ${chosen[0].seed})</h2>`);
    parts.push(
      await renderChart(
        'chart-kept',
        groupedBarsSpec({
          title: 'Filters kept per layer',
          y: 'filters kept',
          categories: layers,
          series: chosen.map((r) => ({ name: r.criterion, values: layers.map((l) => r.keptPerLayer[l]) })),
        }),
      ),
    );
  }
  if (inp.inspect) {
    const p = inp.inspect.pair;
    parts.push(`<h2>Spatial aura MI between ${esc(p.parent)} and ${esc(p.child)}</h2>`);
    parts.push(
      await renderChart(
        'chart-mi-heatmap',
        heatmapSpec({
          title: 'aura MI heatmap',
          rows: p.rows,
          cols: p.cols,
          values: p.mi,
          rowLabel: `${p.parent} filter`,
          colLabel: `${p.child} filter`,
          value: 'MI (nats)',
        }),
      ),
    );
    parts.push(
      '<h2>Activation map, label map and aura matrix</h2><table id="examples"><tr><th>filter</th><th>activation</th><th>labels</th><th>aura matrix</th><th>H_aura (nats)</th></tr>',
    );
    for (const e of inp.inspect.examples) {
      parts.push(
        `<tr><td>${esc(e.layer)} #${e.filter}</td><td>${image(e.map, e.h, e.w, 4)}</td><td>${image(e.labels, e.h, e.w, 4, true)}</td><td>${image(e.aura, e.levels, e.levels, 12, true)}</td><td>${e.entropy.toFixed(3)}</td></tr>`,
      );
    }
    parts.push('</table>');
  }
  if (inp.config) parts.push(`<h2>Configuration</h2><pre>${esc(JSON.stringify(inp.config, null, 1))}</pre>`);
  const css =
    'body{font-family:system-ui,sans-serif;margin:24px;max-width:1200px}table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}.row{display:flex;flex-wrap:wrap;gap:16px}.meta{color:#555}svg.chart{border:1px solid #eee;margin:6px}';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(inp.title)}</title><style>${css}</style></head><body>${parts.join('\n')}</body></html>`;
}

/** The parts of a fine-tune's compare.json the report shows. */
export interface FinetuneCompare {
  prunedBeforeFinetuneValAcc: number;
  finetuneSeconds: number;
  pruned: { valAcc: number; testAcc: number; testAccTta?: number; params: number; flops: number; bytesOnDisk: number };
  original: { valAcc: number; testAcc: number; testAccTta?: number; params: number; flops: number; bytesOnDisk: number } | null;
  speedup: number | null;
  latencySpeedup: number | null;
}

/** Original, pruned before and after fine-tuning, side by side. */
function finetuneTable(c: FinetuneCompare): string {
  const o = c.original;
  const cell = (v: number | undefined, f: (x: number) => string) => (v === undefined ? '-' : f(v));
  const acc = (v: number) => `${pct(v)}%`;
  const rows: Array<[string, string, string, string]> = [
    ['validation accuracy', cell(o?.valAcc, acc), acc(c.prunedBeforeFinetuneValAcc), acc(c.pruned.valAcc)],
    ['test accuracy', cell(o?.testAcc, acc), '-', acc(c.pruned.testAcc)],
    ['params (M)', cell(o?.params, (v) => (v / 1e6).toFixed(3)), (c.pruned.params / 1e6).toFixed(3), (c.pruned.params / 1e6).toFixed(3)],
    ['FLOPs (M)', cell(o?.flops, (v) => (v / 1e6).toFixed(1)), (c.pruned.flops / 1e6).toFixed(1), (c.pruned.flops / 1e6).toFixed(1)],
  ];
  const speed =
    c.speedup !== null
      ? ` Measured with batch norm folded, in one process: ${c.speedup.toFixed(2)}x the original's images/s at batch 128${c.latencySpeedup !== null ? `, ${c.latencySpeedup.toFixed(2)}x its batch-1 latency` : ''}.`
      : '';
  return (
    `<h2>Before and after fine-tuning</h2><p id="finetune-summary">The pruned model went from ${acc(c.prunedBeforeFinetuneValAcc)} to ${acc(c.pruned.valAcc)} validation accuracy in ${(c.finetuneSeconds / 60).toFixed(1)} min of fine-tuning` +
    (o
      ? `; its test accuracy is ${acc(c.pruned.testAcc)} against the original's ${acc(o.testAcc)} (${(100 * (o.testAcc - c.pruned.testAcc)).toFixed(2)} points lower).`
      : '.') +
    `${speed}</p><table id="finetune"><tr><th></th><th>original</th><th>pruned, before fine-tune</th><th>pruned, fine-tuned</th></tr>` +
    rows.map((r) => `<tr><td>${r.join('</td><td>')}</td></tr>`).join('') +
    '</table>'
  );
}

/** A training (or fine-tune) run's curves (accuracy and loss per epoch) as a small self-contained page. */
export async function buildTrainingReport(
  title: string,
  metrics: Array<{ epoch: number; trainAcc: number; valAcc: number; trainLoss: number; valLoss: number; lr: number; seconds: number }>,
  result?: { testAccuracy?: number; bestEpoch?: number },
  config?: Record<string, unknown>,
  /** link to the browser comparison page of this run (`auraprune web`), when laid out */
  webPage?: string,
  /** a fine-tune's compare.json: the page then shows the model before and after, beside the original */
  compare?: FinetuneCompare,
): Promise<string> {
  const wall = metrics.reduce((a, m) => a + m.seconds, 0);
  const acc = await renderChart(
    'chart-train-acc',
    lineSpec({
      title: 'Accuracy per epoch',
      x: 'epoch',
      y: 'accuracy (%)',
      points: metrics.flatMap((m) => [
        { series: 'train (augmented)', x: m.epoch, y: 100 * m.trainAcc },
        { series: 'validation', x: m.epoch, y: 100 * m.valAcc },
      ]),
    }),
  );
  const loss = await renderChart(
    'chart-train-loss',
    lineSpec({
      title: 'Loss per epoch',
      x: 'epoch',
      y: 'loss',
      points: metrics.flatMap((m) => [
        { series: 'train', x: m.epoch, y: m.trainLoss },
        { series: 'validation', x: m.epoch, y: m.valLoss },
      ]),
    }),
  );
  const summary = `<p>${metrics.length} epochs, ${(wall / 60).toFixed(1)} min of training and validation${result?.testAccuracy !== undefined ? `; best epoch ${result.bestEpoch} by validation accuracy, test accuracy ${pct(result.testAccuracy)}% (measured once)` : ''}.</p>`;
  const beforeAfter = compare ? finetuneTable(compare) : '';
  const cfg =
    beforeAfter +
    (webPage
      ? `<p id="web-link">In the browser: <a href="${esc(webPage)}">the original and this model side by side</a> (accuracy, agreement and latency per tfjs backend; serve it with <code>auraprune web</code>).</p>`
      : '') +
    (config ? `<pre>${esc(JSON.stringify(config, null, 1))}</pre>` : '');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head><body style="font-family:system-ui,sans-serif;margin:24px"><h1>${esc(title)}</h1>${summary}<div style="display:flex;flex-wrap:wrap;gap:16px">${acc}${loss}</div>${cfg}</body></html>`;
}
