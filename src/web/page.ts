/**
 * The browser page for a pruned model (web/, built into dist/browser by Vite): `prepareWebDir` lays out a
 * directory the page can be served from (the page, both models re-saved by our loader, the first N
 * CIFAR-10 test images as raw bytes, a manifest with Node's figures for the same images), and
 * `serveDir` serves it on localhost. Models are loaded through the untrusted-file loader and written
 * again, so nothing but a clean model.json + weights.bin reaches the served directory.
 */
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createServer, Server } from 'node:http';
import { basename, dirname, extname, join, normalize, resolve, sep } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { type ImageSplit, inMemory } from '../data/dataset.js';
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
  /** what the images are: shape, class names and the normalisation statistics */
  data: { name: string; shape: [number, number, number]; classNames: string[]; mean: number[]; std: number[] };
  source?: string;
}

/** Marks a directory laid out by prepareWebDir (only such a directory is replaced by a rerun). */
const MARKER = '.auraprune-web';

/**
 * Writes the page, the models, `n` test images and the manifest into `out`. Everything is written
 * into a fresh directory beside `out` and swapped in at the end, so nothing is ever written through a
 * link planted inside `out`; an existing `out` is replaced only when it is a page directory written
 * here before (or empty), and never when it is a symbolic link.
 */
export async function prepareWebDir(
  models: WebModel[],
  test: ImageSplit,
  out: string,
  o: { images?: number; source?: string } = {},
): Promise<WebManifest> {
  const build = webBuildDir();
  if (!existsSync(join(build, 'index.html'))) throw new Error(`the browser page is not built (${build}): run \`npm run build\``);
  for (const m of models)
    if (!/^[a-z0-9-]+$/.test(m.name)) throw new Error(`model name ${m.name}: lower-case letters, digits and '-' only`);
  const existing = lstatOrNull(out);
  if (existing?.isSymbolicLink())
    throw new Error(`--out ${out} is a symbolic link; give a real directory (nothing is written through links)`);
  if (existing && (!existing.isDirectory() || (readdirSync(out).length > 0 && !existsSync(join(out, MARKER)))))
    throw new Error(`--out ${out} exists and is not a page directory written by \`auraprune web\`; choose another --out`);
  mkdirSync(dirname(resolve(out)), { recursive: true });
  const tmp = mkdtempSync(join(dirname(resolve(out)), `.${basename(out)}.tmp-`));
  try {
    cpSync(build, tmp, { recursive: true });
    const n = Math.min(o.images ?? 500, test.n);
    const imgs = subset(
      test,
      Array.from({ length: n }, (_, i) => i),
    );
    mkdirSync(join(tmp, 'data'));
    writeFileAtomic(join(tmp, 'data', 'images.bin'), inMemory(imgs).images);
    // two bytes per label (native order, little-endian on every platform the page runs on): data sets
    // may have more than 256 classes
    writeFileAtomic(join(tmp, 'data', 'labels.bin'), new Uint8Array(Uint16Array.from(imgs.labels).buffer));
    const entries: WebManifest['models'] = [];
    for (const m of models) {
      const { bytes } = await saveModel(m.model, join(tmp, 'models', m.name));
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
    const { name, shape, classNames, mean, std } = test.info;
    const manifest: WebManifest = {
      models: entries,
      images: { url: 'data/images.bin', labels: 'data/labels.bin', n },
      data: { name, shape, classNames, mean, std },
      source: o.source,
    };
    writeFileAtomic(join(tmp, 'data', 'manifest.json'), JSON.stringify(manifest, null, 1));
    writeFileAtomic(join(tmp, MARKER), '');
    // swap in; the old directory (and any link planted in it) is removed, never followed
    const old = existing ? `${tmp}.old` : null;
    if (old) renameSync(out, old);
    renameSync(tmp, out);
    if (old) rmSync(old, { recursive: true, force: true });
    return manifest;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

function lstatOrNull(p: string): ReturnType<typeof lstatSync> | null {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.css': 'text/css',
};

/**
 * Serves the regular files under `dir` on 127.0.0.1:`port` (0: any free port): paths are resolved
 * with symlinks followed and must still lie inside `dir`; only requests addressed to this server by
 * name (`Host: 127.0.0.1:PORT` or `localhost:PORT`) are answered, so a page from elsewhere that
 * rebinds its DNS name to 127.0.0.1 cannot read through it; malformed URLs get 400, other methods 405.
 */
export function serveDir(dir: string, port = 0): Promise<{ url: string; server: Server }> {
  const root = realpathSync(resolve(dir));
  let hosts = new Set<string>();
  const server = createServer((req, res) => {
    if (!hosts.has(String(req.headers.host ?? '').toLowerCase())) {
      res.writeHead(403).end('forbidden: unknown Host');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end('method not allowed');
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    } catch {
      res.writeHead(400).end('bad request');
      return;
    }
    const file = servedFile(root, path === '/' ? 'index.html' : path);
    if (!file) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(req.method === 'HEAD' ? undefined : readFileSync(file));
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      const a = server.address();
      const p = typeof a === 'object' && a ? a.port : port;
      hosts = new Set([`127.0.0.1:${p}`, `localhost:${p}`]);
      ok({ url: `http://127.0.0.1:${p}/`, server });
    });
  });
}

/** The real path of `path` under `root` when it is a regular file inside it (after links), else null. */
function servedFile(root: string, path: string): string | null {
  if (path.includes('\0')) return null;
  const file = normalize(join(root, path));
  if (file !== root && !file.startsWith(root + sep)) return null;
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    return null;
  }
  if (!real.startsWith(root + sep)) return null;
  return statSync(real).isFile() ? real : null;
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
