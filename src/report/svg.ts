/**
 * Minimal SVG chart builders for the self-contained report (no library, no network): line chart
 * with error bars, bar chart (linear or log axis), grouped bars, heatmap and grey-level images.
 */
export interface Series {
  name: string;
  points: Array<{ x: number; y: number; lo?: number; hi?: number }>;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
export const color = (i: number) => PALETTE[i % PALETTE.length];
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2));

interface Frame {
  w: number;
  h: number;
  l: number;
  r: number;
  t: number;
  b: number;
}
const F: Frame = { w: 560, h: 320, l: 60, r: 150, t: 20, b: 45 };

function axes(title: string, xLabel: string, yLabel: string, xTicks: Array<[number, string]>, yTicks: Array<[number, string]>): string {
  const x0 = F.l,
    y0 = F.h - F.b,
    x1 = F.w - F.r;
  let s = `<rect x="0" y="0" width="${F.w}" height="${F.h}" fill="#fff"/>`;
  s += `<line x1="${x0}" y1="${y0}" x2="${x1}" y2="${y0}" stroke="#333"/><line x1="${x0}" y1="${F.t}" x2="${x0}" y2="${y0}" stroke="#333"/>`;
  for (const [px, lab] of xTicks)
    s += `<line x1="${px}" y1="${y0}" x2="${px}" y2="${y0 + 4}" stroke="#333"/><text x="${px}" y="${y0 + 16}" font-size="11" text-anchor="middle">${esc(lab)}</text>`;
  for (const [py, lab] of yTicks)
    s += `<line x1="${x0 - 4}" y1="${py}" x2="${x1}" y2="${py}" stroke="#eee"/><text x="${x0 - 6}" y="${py + 4}" font-size="11" text-anchor="end">${esc(lab)}</text>`;
  s += `<text x="${(x0 + x1) / 2}" y="${F.h - 8}" font-size="12" text-anchor="middle">${esc(xLabel)}</text>`;
  s += `<text x="14" y="${(F.t + y0) / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${(F.t + y0) / 2})">${esc(yLabel)}</text>`;
  return `<title>${esc(title)}</title>` + s;
}

function legend(names: string[]): string {
  return names
    .map(
      (n, i) =>
        `<rect x="${F.w - F.r + 12}" y="${F.t + i * 18}" width="12" height="12" fill="${color(i)}"/><text x="${F.w - F.r + 30}" y="${F.t + i * 18 + 10}" font-size="12">${esc(n)}</text>`,
    )
    .join('');
}

function range(vals: number[], pad = 0.05): [number, number] {
  let lo = Math.min(...vals),
    hi = Math.max(...vals);
  if (!Number.isFinite(lo)) return [0, 1];
  if (hi === lo) {
    lo -= 0.5;
    hi += 0.5;
  }
  const p = (hi - lo) * pad;
  return [lo - p, hi + p];
}

function ticks(lo: number, hi: number, n = 5): number[] {
  return Array.from({ length: n + 1 }, (_, i) => lo + ((hi - lo) * i) / n);
}

export function lineChart(id: string, title: string, xLabel: string, yLabel: string, series: Series[]): string {
  const all = series.flatMap((s) => s.points);
  const [xl, xh] = range(all.map((p) => p.x)),
    [yl, yh] = range(all.flatMap((p) => [p.lo ?? p.y, p.hi ?? p.y]));
  const X = (v: number) => F.l + ((v - xl) / (xh - xl)) * (F.w - F.r - F.l),
    Y = (v: number) => F.h - F.b - ((v - yl) / (yh - yl)) * (F.h - F.b - F.t);
  let s = axes(
    title,
    xLabel,
    yLabel,
    ticks(xl, xh).map((v) => [X(v), fmt(v)]),
    ticks(yl, yh).map((v) => [Y(v), fmt(v)]),
  );
  series.forEach((se, i) => {
    const pts = se.points.slice().sort((a, b) => a.x - b.x);
    s += `<polyline fill="none" stroke="${color(i)}" stroke-width="2" points="${pts.map((p) => `${X(p.x).toFixed(1)},${Y(p.y).toFixed(1)}`).join(' ')}"/>`;
    for (const p of pts) {
      if (p.lo !== undefined && p.hi !== undefined)
        s += `<line x1="${X(p.x)}" x2="${X(p.x)}" y1="${Y(p.lo)}" y2="${Y(p.hi)}" stroke="${color(i)}"/>`;
      s += `<circle cx="${X(p.x).toFixed(1)}" cy="${Y(p.y).toFixed(1)}" r="3.5" fill="${color(i)}"><title>${esc(se.name)}: ${fmt(p.x)}, ${fmt(p.y)}</title></circle>`;
    }
  });
  return `<svg id="${id}" class="chart" xmlns="http://www.w3.org/2000/svg" width="${F.w}" height="${F.h}" viewBox="0 0 ${F.w} ${F.h}">${s}${legend(series.map((x) => x.name))}</svg>`;
}

export function barChart(id: string, title: string, yLabel: string, bars: Array<{ name: string; value: number }>, log = false): string {
  const vals = bars.map((b) => b.value);
  const tf = (v: number) => (log ? Math.log10(Math.max(v, 1e-6)) : v);
  const tv = vals.map(tf);
  const lo = log ? Math.floor(Math.min(...tv)) : 0;
  const top = log ? Math.ceil(Math.max(...tv)) : Math.max(...vals) * 1.1 || 1;
  const hi = log && top === lo ? top + 1 : top; // a log axis needs at least one decade
  const Y = (v: number) => F.h - F.b - ((tf(v) - lo) / (hi - lo)) * (F.h - F.b - F.t);
  const bw = (F.w - F.r - F.l) / Math.max(1, bars.length);
  const yt: Array<[number, string]> = log
    ? Array.from({ length: hi - lo + 1 }, (_, i) => [Y(10 ** (lo + i)), fmt(10 ** (lo + i))])
    : ticks(0, hi).map((v) => [Y(v), fmt(v)]);
  let s = axes(
    title,
    '',
    yLabel,
    bars.map((b, i) => [F.l + bw * (i + 0.5), b.name]),
    yt,
  );
  bars.forEach((b, i) => {
    s += `<rect x="${F.l + bw * i + bw * 0.15}" y="${Y(b.value)}" width="${bw * 0.7}" height="${Math.max(0, F.h - F.b - Y(b.value))}" fill="${color(i)}"><title>${esc(b.name)}: ${fmt(b.value)}</title></rect>`;
  });
  return `<svg id="${id}" class="chart" xmlns="http://www.w3.org/2000/svg" width="${F.w}" height="${F.h}" viewBox="0 0 ${F.w} ${F.h}">${s}</svg>`;
}

export function groupedBars(
  id: string,
  title: string,
  yLabel: string,
  groups: string[],
  series: Array<{ name: string; values: number[] }>,
): string {
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const Y = (v: number) => F.h - F.b - (v / (max * 1.1)) * (F.h - F.b - F.t);
  const gw = (F.w - F.r - F.l) / Math.max(1, groups.length),
    bw = (gw * 0.8) / Math.max(1, series.length);
  let s = axes(
    title,
    'layer',
    yLabel,
    groups.map((g, i) => [F.l + gw * (i + 0.5), groups.length > 12 ? String(i + 1) : g]),
    ticks(0, max * 1.1).map((v) => [Y(v), fmt(v)]),
  );
  series.forEach((se, k) =>
    se.values.forEach((v, i) => {
      s += `<rect x="${F.l + gw * i + gw * 0.1 + bw * k}" y="${Y(v)}" width="${bw}" height="${F.h - F.b - Y(v)}" fill="${color(k)}"><title>${esc(se.name)} ${esc(groups[i])}: ${v}</title></rect>`;
    }),
  );
  return `<svg id="${id}" class="chart" xmlns="http://www.w3.org/2000/svg" width="${F.w}" height="${F.h}" viewBox="0 0 ${F.w} ${F.h}">${s}${legend(series.map((x) => x.name))}</svg>`;
}

/** Heat colour for t in [0, 1] (dark blue -> yellow). */
function heat(t: number): string {
  const c = Math.max(0, Math.min(1, t));
  return `rgb(${Math.round(255 * Math.min(1, c * 1.6))},${Math.round(255 * c)},${Math.round(120 * (1 - c) + 40)})`;
}

export function heatmap(
  id: string,
  title: string,
  rows: number,
  cols: number,
  values: number[],
  rowLabel: string,
  colLabel: string,
  size = 300,
): string {
  const lo = Math.min(...values),
    hi = Math.max(...values),
    cw = size / cols,
    ch = size / rows;
  let s = `<title>${esc(title)}</title><rect width="${size + 90}" height="${size + 50}" fill="#fff"/>`;
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      const v = values[i * cols + j];
      s += `<rect x="${40 + j * cw}" y="${10 + i * ch}" width="${cw + 0.3}" height="${ch + 0.3}" fill="${heat(hi > lo ? (v - lo) / (hi - lo) : 0)}"/>`;
    }
  s += `<text x="${40 + size / 2}" y="${size + 35}" font-size="12" text-anchor="middle">${esc(colLabel)}</text><text x="14" y="${10 + size / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${10 + size / 2})">${esc(rowLabel)}</text>`;
  s += `<text x="${48 + size}" y="20" font-size="11">${fmt(hi)}</text><text x="${48 + size}" y="${size + 5}" font-size="11">${fmt(lo)}</text>`;
  return `<svg id="${id}" class="chart" xmlns="http://www.w3.org/2000/svg" width="${size + 90}" height="${size + 50}">${s}</svg>`;
}

/** A grey-level (or heat) picture of an h x w array. */
export function image(values: number[], h: number, w: number, px = 4, useHeat = false): string {
  const lo = Math.min(...values),
    hi = Math.max(...values);
  let s = '';
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const t = hi > lo ? (values[y * w + x] - lo) / (hi - lo) : 0;
      const g = Math.round(255 * t);
      s += `<rect x="${x * px}" y="${y * px}" width="${px}" height="${px}" fill="${useHeat ? heat(t) : `rgb(${g},${g},${g})`}"/>`;
    }
  return `<svg class="pic" xmlns="http://www.w3.org/2000/svg" width="${w * px}" height="${h * px}">${s}</svg>`;
}
