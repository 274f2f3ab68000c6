/**
 * One streaming pass over the calibration images that builds every activation aggregate the chosen
 * criteria need (label maps, spatial means, feature-map ranks), so activations are never held as
 * floats for more than one batch.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { forEachActivationBatch } from '../../activations/collect.js';
import type { ImageSplit } from '../../data/dataset.js';
import { quantizeMap, QuantizeOptions } from '../../info/quantize.js';
import { matrixRank } from '../../info/rank.js';
import { alignMaps, poolMaps } from '../../info/spatial_mi.js';
import { Rng } from '../../util/rng.js';
import { firstOrderTerms, TAYLOR_BATCH } from './taylor.js';
import { ActivationStore, labelKey, Needs, Pool } from './types.js';

export interface StoreOptions {
  quantize?: QuantizeOptions;
  batch?: number;
  quiet?: boolean;
  /** Gaussian noise on the (normalised) input images, for robustness studies. */
  inputNoise?: { sigma: number; seed: number };
  /** Gaussian noise on activations, sigma relative to each batch's activation std. */
  activationNoise?: { sigma: number; seed: number };
}

export function mergeNeeds(list: Needs[]): Needs {
  const labels = new Map<string, { layer: string; pool: Pool }>();
  const means = new Set<string>(),
    ranks = new Set<string>();
  for (const n of list) {
    n.labels?.forEach((l) => labels.set(labelKey(l.layer, l.pool), l));
    n.means?.forEach((m) => means.add(m));
    n.ranks?.forEach((r) => ranks.add(r));
  }
  return { labels: [...labels.values()], means: [...means], ranks: [...ranks], gradients: list.some((n) => n.gradients) };
}

export function buildStore(model: LayersModel, sample: ImageSplit, needs: Needs, o: StoreOptions = {}): ActivationStore {
  const q: QuantizeOptions = { levels: 8, zeroBin: true, ...o.quantize };
  const store: ActivationStore = {
    n: sample.n,
    classLabels: sample.labels,
    classes: sample.info.classNames.length,
    labels: new Map(),
    means: new Map(),
    ranks: new Map(),
    seconds: { labels: 0, means: 0, ranks: 0, gradients: 0 },
  };
  if (needs.gradients) {
    const t0 = performance.now();
    store.gradients = firstOrderTerms(model, sample, { batch: o.batch && Math.min(o.batch, TAYLOR_BATCH) });
    store.seconds.gradients = (performance.now() - t0) / 1000;
  }
  const layers = [...new Set([...(needs.labels ?? []).map((l) => l.layer), ...(needs.means ?? []), ...(needs.ranks ?? [])])];
  if (layers.length === 0) return store;
  const noiseRng = o.activationNoise ? new Rng(o.activationNoise.seed) : null;
  const rankWork = new Float64Array(64 * 64);
  forEachActivationBatch(
    model,
    sample,
    layers,
    (b) => {
      const [bn, H, W, C] = b.shape;
      let values = b.values;
      if (noiseRng && o.activationNoise!.sigma > 0) {
        let s = 0,
          s2 = 0;
        for (const v of values) {
          s += v;
          s2 += v * v;
        }
        const std = Math.sqrt(Math.max(0, s2 / values.length - (s / values.length) ** 2));
        values = values.map((v) => v + o.activationNoise!.sigma * std * noiseRng.normal());
      }
      let t0 = performance.now();
      for (const need of (needs.labels ?? []).filter((l) => l.layer === b.layer)) {
        const key = labelKey(need.layer, need.pool);
        const p =
          typeof need.pool === 'number'
            ? poolMaps(values, [bn, H, W, C], need.pool, 'max')
            : alignMaps(values, [bn, H, W, C], need.pool.y, need.pool.x, 'max');
        const [, h, w] = p.shape;
        let st = store.labels.get(key);
        if (!st) {
          st = { labels: new Uint8Array(C * sample.n * h * w), channels: C, n: sample.n, h, w, levels: q.levels ?? 8 };
          store.labels.set(key, st);
        }
        const map = new Float32Array(h * w),
          lab = new Uint8Array(h * w);
        for (let c = 0; c < C; c++)
          for (let i = 0; i < bn; i++) {
            for (let s = 0; s < h * w; s++) map[s] = p.values[(i * h * w + s) * C + c];
            quantizeMap(map, lab, q);
            st.labels.set(lab, (c * sample.n + b.start + i) * h * w);
          }
      }
      store.seconds.labels += (performance.now() - t0) / 1000;
      t0 = performance.now();
      if (needs.means?.includes(b.layer)) {
        let m = store.means.get(b.layer);
        if (!m) {
          m = new Float64Array(C * sample.n);
          store.means.set(b.layer, m);
        }
        for (let i = 0; i < bn; i++)
          for (let c = 0; c < C; c++) {
            let t = 0;
            for (let s = 0; s < H * W; s++) t += values[(i * H * W + s) * C + c];
            m[c * sample.n + b.start + i] = t / (H * W);
          }
      }
      store.seconds.means += (performance.now() - t0) / 1000;
      t0 = performance.now();
      if (needs.ranks?.includes(b.layer)) {
        let r = store.ranks.get(b.layer);
        if (!r) {
          r = new Float64Array(C);
          store.ranks.set(b.layer, r);
        }
        for (let i = 0; i < bn; i++)
          for (let c = 0; c < C; c++) r[c] += matrixRank(values, i * H * W * C + c, H, W, C, 1e-6, rankWork) / sample.n;
      }
      store.seconds.ranks += (performance.now() - t0) / 1000;
    },
    { batch: o.batch, quiet: o.quiet, label: 'activations', inputNoise: o.inputNoise },
  );
  return store;
}
