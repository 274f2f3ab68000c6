/**
 * Charts as static SVG from Vega-Lite specs, rendered in Node (no browser, no network at view time):
 * the reports embed the SVG text, so each stays one self-contained file.
 */
import * as vega from 'vega';
import { compile, TopLevelSpec } from 'vega-lite';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** Renders a Vega-Lite spec to an SVG string wrapped in a <figure id=...> with the title as caption. */
export async function renderChart(id: string, spec: Record<string, unknown>): Promise<string> {
  const full = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    // at most ~6 ticks on numeric axes: rendered in Node, vega cannot measure the browser's font, so
    // its own overlap removal let 15 labels crowd a 380-px axis
    config: {
      font: 'system-ui, sans-serif',
      view: { stroke: null },
      axisQuantitative: { tickCount: 6, labelOverlap: 'greedy', format: '.3~r' },
    },
    ...spec,
  };
  const view = new vega.View(vega.parse(compile(full as unknown as TopLevelSpec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return `<figure class="chart" id="${esc(id)}">${svg}</figure>`;
}

export interface IntervalPoint {
  series: string;
  x: number;
  y: number;
  lo?: number;
  hi?: number;
}

/** Lines per series with interval bars, and an optional horizontal reference line (e.g. the base accuracy). */
export function lineSpec(o: { title: string; x: string; y: string; points: IntervalPoint[]; reference?: { y: number; label: string } }) {
  const layers: Record<string, unknown>[] = [
    {
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: o.x, scale: { zero: false } },
        y: { field: 'y', type: 'quantitative', title: o.y, scale: { zero: false } },
        color: { field: 'series', type: 'nominal', title: null },
      },
    },
    {
      transform: [{ filter: 'isValid(datum.lo)' }],
      mark: { type: 'errorbar', ticks: true },
      encoding: {
        x: { field: 'x', type: 'quantitative' },
        y: { field: 'lo', type: 'quantitative', title: o.y },
        y2: { field: 'hi' },
        color: { field: 'series', type: 'nominal' },
      },
    },
  ];
  if (o.reference)
    layers.push(
      {
        data: { values: [o.reference] },
        mark: { type: 'rule', strokeDash: [4, 3], color: '#777' },
        encoding: { y: { field: 'y', type: 'quantitative' } },
      },
      {
        data: { values: [o.reference] },
        mark: { type: 'text', align: 'left', dx: 4, dy: -6, color: '#555', fontSize: 11 },
        encoding: { y: { field: 'y', type: 'quantitative' }, x: { value: 0 }, text: { field: 'label' } },
      },
    );
  return { title: o.title, width: 420, height: 260, data: { values: o.points }, layer: layers };
}

/** Paired differences with their intervals, one row per item, a rule at zero; colour by verdict. */
export function forestSpec(o: {
  title: string;
  x: string;
  items: Array<{ name: string; mean: number; lo: number; hi: number; verdict: string }>;
}) {
  const colour = {
    field: 'verdict',
    type: 'nominal',
    title: null,
    scale: { domain: ['ahead', 'no evidence of a difference', 'behind'], range: ['#2ca02c', '#777777', '#d62728'] },
  };
  return {
    title: o.title,
    width: 380,
    height: { step: 22 },
    data: { values: o.items },
    layer: [
      {
        mark: 'rule',
        encoding: {
          y: { field: 'name', type: 'nominal', title: null, sort: null },
          x: { field: 'lo', type: 'quantitative', title: o.x },
          x2: { field: 'hi' },
          color: colour,
        },
      },
      {
        mark: { type: 'point', filled: true, size: 50 },
        encoding: { y: { field: 'name', type: 'nominal', sort: null }, x: { field: 'mean', type: 'quantitative' }, color: colour },
      },
      {
        data: { values: [{ zero: 0 }] },
        mark: { type: 'rule', strokeDash: [4, 3], color: '#999' },
        encoding: { x: { field: 'zero', type: 'quantitative' } },
      },
    ],
  };
}

/** One point per item on a log-x scatter (e.g. scoring seconds vs accuracy), labelled. */
export function scatterLogXSpec(o: { title: string; x: string; y: string; items: Array<{ name: string; x: number; y: number }> }) {
  return {
    title: o.title,
    width: 420,
    height: 260,
    data: { values: o.items },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: o.x, scale: { type: 'log' } },
      y: { field: 'y', type: 'quantitative', title: o.y, scale: { zero: false } },
    },
    layer: [
      { mark: { type: 'point', filled: true, size: 60 }, encoding: { color: { field: 'name', type: 'nominal', title: null } } },
      { mark: { type: 'text', align: 'left', dx: 6, fontSize: 10 }, encoding: { text: { field: 'name' } } },
    ],
  };
}

/** Bars grouped by category (e.g. filters kept per layer, one bar per criterion), values on top. */
export function groupedBarsSpec(o: {
  title: string;
  y: string;
  categories: string[];
  series: Array<{ name: string; values: number[] }>;
  /** y-axis number format (default whole numbers) */
  format?: string;
}) {
  const values = o.series.flatMap((s) => o.categories.map((c, i) => ({ category: c, series: s.name, value: s.values[i] })));
  // a fixed width that fits a 1280-px page beside the legend: bars narrow as layers are added
  // (a step per bar grew a 22-layer, 3-criterion chart to 6,000 px)
  const width = Math.min(960, Math.max(240, o.categories.length * (o.series.length * 14 + 10)));
  return {
    title: o.title,
    width,
    height: 240,
    data: { values },
    mark: 'bar',
    encoding: {
      // horizontal labels when they fit their bar group, else vertical (rotated labels' boxes overlap)
      x: {
        field: 'category',
        type: 'nominal',
        title: null,
        sort: o.categories,
        axis: { labelAngle: Math.max(...o.categories.map((c) => c.length)) * 6.5 < width / Math.max(1, o.categories.length) ? 0 : -90 },
      },
      xOffset: { field: 'series', type: 'nominal', sort: o.series.map((s) => s.name) },
      y: { field: 'value', type: 'quantitative', title: o.y, axis: { format: o.format ?? 'd', tickMinStep: 1 } },
      color: { field: 'series', type: 'nominal', title: null, sort: o.series.map((s) => s.name) },
      tooltip: [
        { field: 'category', type: 'nominal' },
        { field: 'series', type: 'nominal' },
        { field: 'value', type: 'quantitative' },
      ],
    },
  };
}

/**
 * A rows x cols matrix (row-major values) as a heatmap with filter indices on both axes (every k-th
 * index labelled so they never crowd) and a colour bar.
 */
export function heatmapSpec(o: {
  title: string;
  rows: number;
  cols: number;
  values: number[];
  rowLabel: string;
  colLabel: string;
  value: string;
}) {
  const every = (n: number) => Math.max(1, Math.ceil(n / 16));
  const ticks = (n: number) => Array.from({ length: n }, (_, i) => i).filter((i) => i % every(n) === 0);
  const cells = o.values.map((v, k) => ({ row: Math.floor(k / o.cols), col: k % o.cols, value: v }));
  const side = (n: number) => Math.max(4, Math.min(18, Math.floor(320 / n)));
  return {
    title: o.title,
    width: side(o.cols) * o.cols,
    height: side(o.rows) * o.rows,
    data: { values: cells },
    mark: 'rect',
    encoding: {
      x: { field: 'col', type: 'ordinal', title: o.colLabel, axis: { values: ticks(o.cols), labelAngle: 0 } },
      y: { field: 'row', type: 'ordinal', title: o.rowLabel, axis: { values: ticks(o.rows) } },
      color: { field: 'value', type: 'quantitative', title: o.value, scale: { scheme: 'viridis' }, legend: { gradientLength: 200 } },
      tooltip: [
        { field: 'row', type: 'ordinal', title: o.rowLabel },
        { field: 'col', type: 'ordinal', title: o.colLabel },
        { field: 'value', type: 'quantitative', format: '.4f' },
      ],
    },
  };
}

/**
 * Two measures of the same items side by side (e.g. scoring time and the accuracy it buys), one row
 * per item sorted by the first: readable for any number of items, where labels on a scatter collide.
 */
export function dotPairSpec(o: {
  title: string;
  a: { title: string; log?: boolean };
  b: { title: string };
  items: Array<{ name: string; a: number; b: number }>;
}) {
  const order = [...o.items].sort((p, q) => p.a - q.a).map((i) => i.name);
  const y = { field: 'name', type: 'nominal', title: null, sort: order };
  const panel = (field: 'a' | 'b', title: string, log = false, showY = true) => ({
    // a log axis labels every decade ("0.0001" ... "100"): it needs the room
    width: log ? 320 : 220,
    height: { step: 18 },
    mark: { type: 'point', filled: true, size: 50 },
    encoding: {
      y: showY ? y : { ...y, axis: null },
      x: { field, type: 'quantitative', title, scale: log ? { type: 'log' } : { zero: false } },
      tooltip: [{ field: 'name' }, { field, type: 'quantitative', format: '.3~g' }],
    },
  });
  return {
    title: o.title,
    data: { values: o.items },
    hconcat: [panel('a', o.a.title, o.a.log), panel('b', o.b.title, false, false)],
  };
}
