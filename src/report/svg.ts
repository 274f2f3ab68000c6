/**
 * Pictures for the reports as inline SVG: activation maps, label maps and aura matrices drawn as
 * grey-level or heat-coloured pixels (charts with axes are Vega-Lite, src/report/vega.ts).
 */

/** Heat colour for t in [0, 1] (dark blue -> yellow). */
function heat(t: number): string {
  const c = Math.max(0, Math.min(1, t));
  return `rgb(${Math.round(255 * Math.min(1, c * 1.6))},${Math.round(255 * c)},${Math.round(120 * (1 - c) + 40)})`;
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
