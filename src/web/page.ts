/**
 * The browser page for a pruned model (web/, built into dist/browser by Vite): `prepareWebDir` lays out a
 * directory the page can be served from (the page, both models re-saved by our loader, the first N
 * CIFAR-10 test images as raw bytes, a manifest with Node's figures for the same images), and
 * `serveDir` serves it on localhost. Models are loaded through the untrusted-file loader and written
 * again, so nothing but a clean model.json + weights.bin reaches the served directory.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { CifarSplit } from '../data/cifar10.js';
import { subset } from '../data/pipeline.js';
import { countComplexity } from '../eval/complexity.js';
import { evaluate } from '../eval/evaluate.js';
import { packageRoot } from '../engine/native/native.js';
import { saveModel } from '../models/io.js';
import { writeFileAtomic } from '../util/atomic.js';

export function webBuildDir(): string {
  return join(packageRoot(), 'dist', 'browser');
}

export interface WebModel {
  name: string;
  model: LayersModel;
}

export interface WebManifest {
  models: Array<{ name: string; url: string; params: number; flops: number; bytes: number; nodeAccuracy: number }>;
  images: { url: string; labels: string; n: number };
  source?: string;
}

/** Writes the page, the models, `n` test images and the manifest into `out`. */
export async function prepareWebDir(
  models: WebModel[],
  test: CifarSplit,
  out: string,
  o: { images?: number; source?: string } = {},
): Promise<WebManifest> {
  const build = webBuildDir();
  if (!existsSync(join(build, 'index.html'))) throw new Error(`the browser page is not built (${build}): run \`npm run build\``);
  mkdirSync(out, { recursive: true });
  cpSync(build, out, { recursive: true });
  const n = Math.min(o.images ?? 500, test.n);
  const imgs = subset(
    test,
    Array.from({ length: n }, (_, i) => i),
  );
  mkdirSync(join(out, 'data'), { recursive: true });
  writeFileAtomic(join(out, 'data', 'images.bin'), imgs.images);
  writeFileAtomic(join(out, 'data', 'labels.bin'), imgs.labels);
  const entries: WebManifest['models'] = [];
  for (const m of models) {
    if (!/^[a-z0-9-]+$/.test(m.name)) throw new Error(`model name ${m.name}: lower-case letters, digits and '-' only`);
    const { bytes } = await saveModel(m.model, join(out, 'models', m.name));
    const c = countComplexity(m.model);
    entries.push({
      name: m.name,
      url: `models/${m.name}/model.json`,
      params: c.params,
      flops: c.flops,
      bytes,
      nodeAccuracy: evaluate(m.model, imgs).accuracy,
    });
  }
  const manifest: WebManifest = { models: entries, images: { url: 'data/images.bin', labels: 'data/labels.bin', n }, source: o.source };
  writeFileAtomic(join(out, 'data', 'manifest.json'), JSON.stringify(manifest, null, 1));
  return manifest;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.css': 'text/css',
};

/** Serves the files under `dir` (nothing outside it) on 127.0.0.1:`port` (0: any free port). */
export function serveDir(dir: string, port = 0): Promise<{ url: string; server: Server }> {
  const root = resolve(dir);
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    const file = normalize(join(root, path === '/' ? 'index.html' : path));
    if ((file !== root && !file.startsWith(root + sep)) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      const a = server.address();
      ok({ url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : port}/`, server });
    });
  });
}

/** What the page leaves in #results-json. */
export interface PageResults {
  userAgent: string;
  images: number;
  offered: string[];
  results: Array<{
    backend: string;
    available: boolean;
    error?: string;
    agreement?: number;
    models: Record<string, { accuracy: number; batch1: { median: number; p90: number }; batch32: { median: number; p90: number } }>;
  }>;
}

/**
 * Opens `url` in headless Chromium (playwright-core with the system's chromium), waits for the page to
 * finish and returns its results, the browser version, console errors and (optionally) a screenshot.
 */
export async function runPageHeadless(
  url: string,
  o: { chromium: string; args: string[]; timeoutMs?: number; screenshot?: string; files?: { original: string[]; pruned: string[] } },
): Promise<{ results: PageResults; browser: string; errors: string[]; filesResults?: PageResults }> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: o.chromium, args: o.args });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForSelector('#status[data-done]', { timeout: o.timeoutMs ?? 600_000 });
    if ((await page.getAttribute('#status', 'data-done')) !== '1') throw new Error(`the page failed: ${await page.textContent('#status')}`);
    const results = JSON.parse((await page.textContent('#results-json'))!) as PageResults;
    if (o.screenshot) await page.screenshot({ path: o.screenshot, fullPage: true });
    let filesResults: PageResults | undefined;
    if (o.files) {
      // the same comparison from files chosen on the page (read locally by tf.io.browserFiles)
      await page.click('details summary');
      await page.setInputFiles('#files-original', o.files.original);
      await page.setInputFiles('#files-pruned', o.files.pruned);
      await page.click('#run-files');
      await page.waitForSelector('#status[data-done]', { timeout: o.timeoutMs ?? 600_000 });
      filesResults = JSON.parse((await page.textContent('#results-json'))!) as PageResults;
    }
    return { results, browser: browser.version(), errors, filesResults };
  } finally {
    await browser.close();
  }
}
