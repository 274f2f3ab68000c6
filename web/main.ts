/**
 * The browser page: loads the original and the pruned model listed in data/manifest.json (written by
 * `auraprune web`), runs both on the shipped CIFAR-10 test images on every tfjs backend the browser
 * offers, and shows accuracy, agreement, size and latency. Results are also left in #results-json
 * (and window.auraprune) for automated checks.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { CIFAR10_INFO } from '../src/data/cifar10_info.js';

interface ModelEntry {
  name: string;
  url: string;
  params: number;
  flops: number;
  bytes: number;
  nodeAccuracy?: number;
  /** files chosen by the user (model.json + weights) instead of a URL */
  files?: File[];
}
interface Manifest {
  models: ModelEntry[];
  images: { url: string; labels: string; n: number };
  /** absent in pages written before data sets: CIFAR-10 */
  data?: { name: string; shape: [number, number, number]; classNames: string[]; mean: number[]; std: number[] };
  source?: string;
}
interface Timing {
  median: number;
  p90: number;
}
interface BackendResult {
  backend: string;
  available: boolean;
  error?: string;
  models: Record<string, { accuracy: number; batch1: Timing; batch32: Timing }>;
  agreement?: number;
}

setWasmPaths('./wasm/');
let DATA: NonNullable<Manifest['data']> = CIFAR10_INFO;
const pixels = () => DATA.shape[0] * DATA.shape[1] * DATA.shape[2];
const $ = (id: string) => document.getElementById(id)!;
const status = (s: string) => ($('status').textContent = s);

function normalise(images: Uint8Array, n: number): Float32Array {
  const x = new Float32Array(n * pixels());
  const C = DATA.shape[2];
  for (let i = 0; i < x.length; i++) {
    const c = i % C;
    x[i] = (images[i] / 255 - DATA.mean[c]) / DATA.std[c];
  }
  return x;
}

const quantile = (v: number[], q: number) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))];
};

async function time(model: tfl.LayersModel, x: tf.Tensor4D, runs: number): Promise<Timing> {
  for (let i = 0; i < 3; i++) {
    const y = model.predict(x) as tf.Tensor;
    await y.data();
    y.dispose();
  }
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const y = model.predict(x) as tf.Tensor;
    await y.data();
    t.push(performance.now() - t0);
    y.dispose();
  }
  return { median: quantile(t, 0.5), p90: quantile(t, 0.9) };
}

async function predictAll(model: tfl.LayersModel, x: Float32Array, n: number): Promise<Int32Array> {
  const out = new Int32Array(n);
  for (let s = 0; s < n; s += 32) {
    const b = Math.min(32, n - s);
    const y = tf.tidy(() =>
      tf.argMax(model.predict(tf.tensor4d(x.subarray(s * pixels(), (s + b) * pixels()), [b, ...DATA.shape])) as tf.Tensor2D, 1),
    );
    out.set(await y.data(), s);
    y.dispose();
  }
  return out;
}

function table(id: string, head: string[], rows: Array<Array<string | number>>) {
  $(id).innerHTML =
    `<tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr>` +
    rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
}

function gallery(images: Uint8Array, labels: Uint16Array, preds: Record<string, Int32Array>, k: number) {
  const g = $('gallery');
  for (let i = 0; i < k; i++) {
    const fig = document.createElement('figure');
    const cv = document.createElement('canvas');
    const [H, W, C] = DATA.shape;
    cv.width = W;
    cv.height = H;
    const ctx = cv.getContext('2d')!;
    const img = ctx.createImageData(W, H);
    for (let p = 0; p < H * W; p++) {
      // grayscale images fill all three colour channels
      for (let c = 0; c < 3; c++) img.data[p * 4 + c] = images[i * pixels() + p * C + (C === 1 ? 0 : c)];
      img.data[p * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    const cap = document.createElement('figcaption');
    cap.innerHTML =
      `<b>${DATA.classNames[labels[i]]}</b><br>` +
      Object.entries(preds)
        .map(([m, p]) => `<span class="${p[i] === labels[i] ? '' : 'bad'}">${m}: ${DATA.classNames[p[i]]}</span>`)
        .join('<br>');
    fig.append(cv, cap);
    g.append(fig);
  }
}

/** The user's own two models: model.json + weights files chosen on the page (read locally, never uploaded). */
function setupFiles(manifest: Manifest) {
  const pick = (name: string) => document.getElementById(`files-${name}`) as HTMLInputElement;
  (document.getElementById('run-files') as HTMLButtonElement).onclick = async () => {
    const chosen = ['original', 'pruned'].map((name) => ({ name, files: Array.from(pick(name).files ?? []) }));
    if (chosen.some((c) => !c.files.some((f) => f.name.endsWith('.json'))))
      return status('choose model.json and its weights file(s) for both models');
    const models: ModelEntry[] = chosen.map((c) => ({
      name: c.name,
      url: '',
      params: 0,
      flops: 0,
      bytes: c.files.reduce((a, f) => a + f.size, 0),
      files: [c.files.find((f) => f.name.endsWith('.json'))!, ...c.files.filter((f) => !f.name.endsWith('.json'))],
    }));
    $('gallery').innerHTML = '';
    delete $('status').dataset.done;
    await run({ ...manifest, models }).catch((e) => status(`error: ${(e as Error).message}`));
  };
}

async function main() {
  const manifest: Manifest = await (await fetch('./data/manifest.json')).json();
  setupFiles(manifest);
  await run(manifest);
}

async function run(manifest: Manifest) {
  const n = manifest.images.n;
  DATA = manifest.data ?? CIFAR10_INFO;
  const images = new Uint8Array(await (await fetch(manifest.images.url)).arrayBuffer());
  const labels = new Uint16Array(await (await fetch(manifest.images.labels)).arrayBuffer());
  if (images.length !== n * pixels() || labels.length !== n) throw new Error(`image data does not match the manifest (${n} images)`);
  const x = normalise(images, n);
  table(
    'models',
    ['model', 'params', 'MFLOPs', 'bytes', 'Node accuracy %'],
    manifest.models.map((m) => [
      m.name + (m.files ? ' (your files)' : ''),
      m.params ? m.params.toLocaleString() : '-',
      m.flops ? (m.flops / 1e6).toFixed(1) : '-',
      m.bytes.toLocaleString(),
      m.nodeAccuracy !== undefined ? (100 * m.nodeAccuracy).toFixed(2) : '-',
    ]),
  );
  const offered = ['webgpu', 'webgl', 'wasm', 'cpu'].filter((b) => tf.findBackendFactory(b) !== null);
  const results: BackendResult[] = [];
  let galleryDone = false;
  for (const backend of offered) {
    const r: BackendResult = { backend, available: false, models: {} };
    results.push(r);
    try {
      status(`${backend}: starting`);
      if (!(await tf.setBackend(backend))) throw new Error('could not be initialised in this browser');
      await tf.ready();
      r.available = true;
      const preds: Record<string, Int32Array> = {};
      for (const m of manifest.models) {
        status(`${backend}: ${m.name}`);
        const model = await tfl.loadLayersModel(m.files ? tf.io.browserFiles(m.files) : m.url);
        const p = await predictAll(model, x, n);
        preds[m.name] = p;
        let correct = 0;
        for (let i = 0; i < n; i++) if (p[i] === labels[i]) correct++;
        const x1 = tf.tensor4d(x.subarray(0, pixels()), [1, ...DATA.shape]);
        const x32 = tf.tensor4d(x.subarray(0, 32 * pixels()), [32, ...DATA.shape]);
        r.models[m.name] = { accuracy: correct / n, batch1: await time(model, x1, 20), batch32: await time(model, x32, 8) };
        x1.dispose();
        x32.dispose();
        model.dispose();
      }
      const [a, b] = manifest.models.map((m) => preds[m.name]);
      if (a && b) {
        let same = 0;
        for (let i = 0; i < n; i++) if (a[i] === b[i]) same++;
        r.agreement = same / n;
      }
      if (!galleryDone) {
        gallery(images, labels, preds, Math.min(16, n));
        galleryDone = true;
      }
    } catch (e) {
      r.error = (e as Error).message;
    }
  }
  const [o, p] = manifest.models.map((m) => m.name);
  const ms = (t?: Timing) => (t ? `${t.median.toFixed(2)} / ${t.p90.toFixed(2)}` : '-');
  table(
    'backends',
    [
      'backend',
      ...manifest.models.map((m) => `${m.name} acc %`),
      'agreement %',
      ...manifest.models.flatMap((m) => [`${m.name} batch 1 ms (median / p90)`, `${m.name} batch 32 ms`]),
      'speed-up batch 1',
      'speed-up batch 32',
    ],
    results.map((r) =>
      r.available && !r.error
        ? [
            r.backend,
            ...manifest.models.map((m) => (100 * r.models[m.name].accuracy).toFixed(2)),
            r.agreement !== undefined ? (100 * r.agreement).toFixed(2) : '-',
            ...manifest.models.flatMap((m) => [ms(r.models[m.name]?.batch1), ms(r.models[m.name]?.batch32)]),
            p ? (r.models[o].batch1.median / r.models[p].batch1.median).toFixed(2) + 'x' : '-',
            p ? (r.models[o].batch32.median / r.models[p].batch32.median).toFixed(2) + 'x' : '-',
          ]
        : [r.backend, `unavailable: ${r.error ?? 'not offered'}`],
    ),
  );
  const out = { userAgent: navigator.userAgent, images: n, offered, results };
  $('results-json').textContent = JSON.stringify(out);
  (window as unknown as { auraprune: unknown }).auraprune = out;
  status(
    `done: ${n} images, backends ${results
      .filter((r) => r.available && !r.error)
      .map((r) => r.backend)
      .join(', ')}`,
  );
  $('status').dataset.done = '1';
}

main().catch((e) => {
  status(`error: ${(e as Error).message}`);
  $('status').dataset.done = 'error';
});
