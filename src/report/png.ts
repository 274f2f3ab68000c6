/**
 * PNG exports of the report's charts through headless Chromium (Debian `chromium` + playwright-core),
 * when both are present; otherwise a one-line reason is returned and the HTML report still stands.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function exportChartPngs(htmlPath: string, outDir: string): Promise<{ files: string[]; skipped?: string }> {
  if (!existsSync(CHROMIUM)) return { files: [], skipped: `no Chromium at ${CHROMIUM} (apt-get install chromium)` };
  let chromium: typeof import('playwright-core').chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    return { files: [], skipped: 'playwright-core not installed (npm install playwright-core)' };
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    await page.goto(pathToFileURL(htmlPath).href);
    mkdirSync(outDir, { recursive: true });
    const files: string[] = [];
    for (const el of await page.$$('.chart')) {
      const id = await el.getAttribute('id');
      if (!id) continue;
      const f = join(outDir, `${id}.png`);
      await el.screenshot({ path: f });
      files.push(f);
    }
    return { files };
  } finally {
    await browser.close();
  }
}
