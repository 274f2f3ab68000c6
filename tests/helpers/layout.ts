/** Layout checks on a page open in headless Chromium. */
import type { Page } from 'playwright-core';

/**
 * Pairs of text labels inside the page's charts whose boxes overlap by more than a pixel each way.
 * Labels rotated by the same angle (e.g. slanted axis labels) are compared in their own rotated frame,
 * where their boxes are tight; others by their on-screen boxes.
 */
export async function overlappingLabels(page: Page, selector = '.chart svg'): Promise<string[]> {
  return page.$$eval(selector, (svgs) => {
    const found: string[] = [];
    for (const svg of svgs) {
      const chart = (svg.closest('.chart') as HTMLElement | null)?.id ?? '?';
      const texts = [...svg.querySelectorAll('text')]
        .filter((t) => (t.textContent ?? '').trim() && getComputedStyle(t).visibility !== 'hidden' && t.getAttribute('opacity') !== '0')
        .map((t) => {
          const m = t.getScreenCTM()!;
          const angle = Math.round((Math.atan2(m.b, m.a) * 180) / Math.PI);
          const b = t.getBBox();
          // corners of the local box, on screen, projected on the text's own axes
          const pts = [
            [b.x, b.y],
            [b.x + b.width, b.y],
            [b.x, b.y + b.height],
            [b.x + b.width, b.y + b.height],
          ].map(([x, y]) => [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f]);
          const rad = (angle * Math.PI) / 180;
          const u = pts.map(([x, y]) => x * Math.cos(rad) + y * Math.sin(rad));
          const v = pts.map(([x, y]) => -x * Math.sin(rad) + y * Math.cos(rad));
          return {
            s: t.textContent!.trim(),
            angle,
            u0: Math.min(...u),
            u1: Math.max(...u),
            v0: Math.min(...v),
            v1: Math.max(...v),
            r: t.getBoundingClientRect(),
          };
        });
      for (let i = 0; i < texts.length; i++)
        for (let j = i + 1; j < texts.length; j++) {
          const a = texts[i],
            b = texts[j];
          const [ox, oy] =
            a.angle === b.angle
              ? [Math.min(a.u1, b.u1) - Math.max(a.u0, b.u0), Math.min(a.v1, b.v1) - Math.max(a.v0, b.v0)]
              : [
                  Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left),
                  Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top),
                ];
          if (ox > 1 && oy > 1) found.push(`${chart}: "${a.s}" overlaps "${b.s}"`);
        }
    }
    return found;
  });
}
