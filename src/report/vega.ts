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
    config: { font: 'system-ui, sans-serif', view: { stroke: null } },
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
    scale: { domain: ['ahead', 'no difference', 'behind'], range: ['#2ca02c', '#777777', '#d62728'] },
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
