/**
 * `auraprune bench mi`: throughput of the information core and the time per layer pair of every
 * estimator on the same activations. Activations are synthetic smooth maps with VGG-16's layer
 * shapes (the pipeline's real activations need a trained model); the per-layer-pair figures are
 * measured on a subset of channel pairs and scaled to the full pair count, which the JSON says.
 */
import { Rng } from '../../util/rng.js';
import { quantizeActivations } from '../../info/quantize.js';
import { auraDescriptors, LabelStack, spatialMIMatrix } from '../../info/spatial_mi.js';
import { mutualInfoBinned } from '../../info/binned.js';
import { mutualInfoKSG } from '../../info/ksg.js';
import { mintConditionalMI } from '../../info/mint_geometric.js';
import { parallelSpatialMIMatrix } from '../../info/parallel.js';
import { availableParallelism } from 'node:os';
import { nativeAuraKernel } from '../../prune/importance/aura_kernel.js';
import { labelKey } from '../../prune/importance/types.js';

export interface MiBenchOptions {
  images: number;
  levels: number;
  seed: number;
}

function smooth(rng: Rng, n: number, h: number, w: number, C: number): Float32Array {
  const v = new Float32Array(n * h * w * C);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < C; c++) {
      const fx = rng.next(),
        fy = rng.next(),
        px = rng.next() * 6,
        py = rng.next() * 6;
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          v[((i * h + y) * w + x) * C + c] = Math.max(0, Math.sin(fx * x + px) + Math.cos(fy * y + py) + 0.3 * rng.normal());
    }
  return v;
}

const time = <T>(f: () => T): [T, number] => {
  const t0 = performance.now();
  const r = f();
  return [r, (performance.now() - t0) / 1000];
};

/** VGG-16 adjacent conv pairs on the child's lattice: [parent C, child C, H=W]. */
const VGG_PAIRS: Array<[number, number, number]> = [
  [64, 64, 32],
  [64, 128, 16],
  [128, 128, 16],
  [128, 256, 8],
  [256, 256, 8],
  [256, 256, 8],
  [256, 512, 4],
  [512, 512, 4],
  [512, 512, 4],
  [512, 512, 2],
  [512, 512, 2],
  [512, 512, 2],
];

export async function benchMi(o: MiBenchOptions): Promise<Record<string, unknown>> {
  const rng = new Rng(o.seed);
  const G = o.levels;
  const st = (v: Float32Array, n: number, h: number, C: number): LabelStack => ({
    labels: quantizeActivations(v, [n, h, h, C], { levels: G, zeroBin: true }),
    channels: C,
    n,
    h,
    w: h,
    levels: G,
  });
  // 1) raw spatial-aura throughput on a 8x8 lattice pair, 16 x 16 channels, all images
  const n = o.images,
    h = 8,
    C = 16;
  const X = st(smooth(rng, n, h, h, C), n, h, C),
    Y = st(smooth(rng, n, h, h, C), n, h, C);
  const [{ updates }, secs] = time(() => spatialMIMatrix(X, Y));
  const rate = updates / secs;
  // the same matrix split across worker threads (all cores), on a 2x larger parent set
  const X2 = st(smooth(rng, n, h, h, 2 * C), n, h, 2 * C);
  const [, s1] = time(() => spatialMIMatrix(X2, Y));
  const t0 = performance.now();
  const par = await parallelSpatialMIMatrix(X2, Y, { minWork: 0 });
  const s2 = (performance.now() - t0) / 1000;
  // the native counting kernel (addon) on the same matrix, 1 thread and all cores
  const nat1 = nativeAuraKernel(1),
    natAll = nativeAuraKernel(availableParallelism());
  let native: Record<string, number> | string = 'addon not built';
  if (nat1 && natAll) {
    const [r1, n1] = time(() => spatialMIMatrix(X2, Y, { kernel: nat1 }));
    const [rA, nA] = time(() => spatialMIMatrix(X2, Y, { kernel: natAll }));
    native = {
      updates_per_s_1_thread: Math.round(r1.updates / n1),
      updates_per_s_all_cores: Math.round(rA.updates / nA),
      speedup_vs_ts_1_core: +(s1 / n1).toFixed(2),
      speedup_vs_ts_all_cores: +(s1 / nA).toFixed(2),
      second_core_speedup: +(n1 / nA).toFixed(2),
    };
  }
  // 2) per layer pair of VGG-16, per-filter pairs, projected from the measured rate
  const halfPairsPerMap = (hh: number) => 2 * (2 * hh * (hh - 1)); // 4-neighbourhood, ordered pairs
  const perPair = VGG_PAIRS.map(([cp, cc, hh]) => (cp * cc * n * halfPairsPerMap(hh)) / rate);
  // 3) every estimator on the same 8x8 activations: seconds per channel pair, scaled to 64 x 64 groups
  const pairs = 16;
  const [desc, tDesc] = time(() => auraDescriptors(X));
  const descY = auraDescriptors(Y);
  const [, tBinned] = time(() => {
    for (let i = 0; i < pairs; i++) mutualInfoBinned(desc.subarray(i * n, (i + 1) * n), descY.subarray(i * n, (i + 1) * n));
  });
  const [, tKsg] = time(() => {
    for (let i = 0; i < pairs; i++) mutualInfoKSG(desc.subarray(i * n, (i + 1) * n), descY.subarray(i * n, (i + 1) * n));
  });
  const mean = (s: LabelStack, c: number) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let t = 0;
      for (let k = 0; k < h * h; k++) t += s.labels[(c * n + i) * h * h + k];
      out[i] = t / (h * h);
    }
    return out;
  };
  const [, tMint] = time(() =>
    mintConditionalMI({ data: mean(X, 0), n, d: 1 }, { data: mean(Y, 0), n, d: 1 }, { data: mean(X, 1), n, d: 1 }),
  );
  const groups = 64 * 64;
  const auraPerPair = (n * halfPairsPerMap(h)) / rate;
  return {
    bench: 'mi',
    images: n,
    levels: G,
    lattice: `${h}x${h}`,
    activations: 'synthetic smooth ReLU maps (VGG-16 shapes)',
    aura_updates_per_s_per_core: Math.round(rate),
    aura_updates_per_s_all_cores: Math.round(par.updates / s2),
    cores: availableParallelism(),
    parallel_speedup: +(s1 / s2).toFixed(2),
    aura_native: native,
    vgg16_per_filter_pairs: {
      seconds_per_layer_pair: perPair.map((s) => +s.toFixed(1)),
      total_seconds: +perPair.reduce((a, b) => a + b, 0).toFixed(1),
      note: 'projected from the measured update rate',
    },
    per_layer_pair_64x64_groups_seconds: {
      aura: +(auraPerPair * groups).toFixed(2),
      aura_descriptor_binned: +((tDesc / C) * 64 * 2 + (tBinned / pairs) * groups).toFixed(2),
      aura_descriptor_ksg: +((tDesc / C) * 64 * 2 + (tKsg / pairs) * groups).toFixed(2),
      mint_geometric: +(tMint * groups).toFixed(1),
    },
    ratio_mint_over_aura: +((tMint * groups) / (auraPerPair * groups)).toFixed(1),
    descriptor_count: desc.length,
  };
}

/**
 * The same comparison on a trained model's real activations: one adjacent layer pair, class-balanced
 * calibration images. aura runs on all filter pairs; MINT's estimator runs on a sample of filter
 * pairs (per-filter granularity, like aura) and is scaled to all pairs, plus its grouped form.
 */
export async function benchMiOnModel(
  modelPath: string,
  o: { perClass: number; levels: number; seed: number; data?: string; unit?: number; mintPairs: number },
): Promise<Record<string, unknown>> {
  const { loadCifarModel } = await import('../../models/io.js');
  const { loadData } = await import('../commands/train.js');
  const { balancedSample } = await import('../../data/pipeline.js');
  const { pruningUnits } = await import('../../prune/graph/graph.js');
  const { unitTaps } = await import('../../prune/importance/taps.js');
  const { buildStore } = await import('../../prune/importance/store.js');
  const model = await loadCifarModel(modelPath);
  const data = await loadData(o.data, 5000, o.seed);
  const sample = balancedSample(data.train, o.perClass, o.seed);
  const units = pruningUnits(model);
  const taps = unitTaps(model, units, 'relu');
  const k = o.unit ?? taps.findIndex((t) => t.child !== null);
  const t = taps[k];
  const store = buildStore(
    model,
    sample,
    {
      labels: [
        { layer: t.self, pool: t.pool },
        { layer: t.child!, pool: 1 },
      ],
      means: [t.self, t.child!],
    },
    { quantize: { levels: o.levels, zeroBin: true }, quiet: true },
  );
  const X = store.labels.get(labelKey(t.self, t.pool))!,
    Y = store.labels.get(`${t.child}@1`)!;
  const n = store.n;
  const [{ updates }, tAura] = time(() => spatialMIMatrix(X, Y));
  const natK = nativeAuraKernel(availableParallelism());
  const tNative = natK ? time(() => spatialMIMatrix(X, Y, { kernel: natK }))[1] : null;
  const pm = store.means.get(t.self)!,
    cm = store.means.get(t.child!)!;
  const rng = new Rng(o.seed);
  const pairs = Array.from({ length: o.mintPairs }, () => [rng.int(X.channels), rng.int(Y.channels)]);
  const [, tMint] = time(() => {
    for (const [i, j] of pairs)
      mintConditionalMI({ data: cm.subarray(j * n, (j + 1) * n), n, d: 1 }, { data: pm.subarray(i * n, (i + 1) * n), n, d: 1 }, null, {
        seed: 1,
      });
  });
  const allPairs = X.channels * Y.channels;
  const mintAll = (tMint / o.mintPairs) * allPairs;
  const [desc, tDesc] = time(() => [auraDescriptors(X), auraDescriptors(Y)]);
  const [, tBin] = time(() => {
    for (const [i, j] of pairs) mutualInfoBinned(desc[0].subarray(i * n, (i + 1) * n), desc[1].subarray(j * n, (j + 1) * n));
  });
  return {
    bench: 'mi-model',
    model: modelPath,
    pair: `${t.self} -> ${t.child}`,
    filters: [X.channels, Y.channels],
    lattice: `${Y.h}x${Y.w}`,
    images: n,
    levels: o.levels,
    aura_seconds_all_pairs: +tAura.toFixed(2),
    aura_native_seconds_all_pairs: tNative === null ? null : +tNative.toFixed(3),
    aura_updates_per_s: Math.round(updates / tAura),
    aura_descriptor_binned_seconds_all_pairs: +(tDesc + (tBin / o.mintPairs) * allPairs).toFixed(2),
    mint_seconds_all_pairs: +mintAll.toFixed(1),
    mint_pairs_timed: o.mintPairs,
    ratio_mint_over_aura: +(mintAll / tAura).toFixed(1),
  };
}

/**
 * One MINT estimator call at the sizes MINT's authors used (n spatial means per filter group, 8
 * filters per group: VGG-16's 512-filter layers in 64 groups), on Gaussian data (the cost depends on
 * n and d only), and the projection to the 4,096 calls of one VGG-16 layer pair.
 */
export function benchMintPublished(
  ns: number[],
  d = 8,
): Array<{ n: number; d: number; secondsPerCall: number; projectedSecondsPerVggLayerPair: number }> {
  const rng = new Rng(3);
  const rows = (n: number, dim: number) => ({ data: Float64Array.from({ length: n * dim }, () => rng.normal()), n, d: dim });
  return ns.map((n) => {
    const X = rows(n, d),
      Y = rows(n, d),
      Z = rows(n, 1);
    const t0 = performance.now();
    mintConditionalMI(X, Y, Z, { seed: 1 });
    const s = (performance.now() - t0) / 1000;
    return { n, d, secondsPerCall: s, projectedSecondsPerVggLayerPair: 4096 * s };
  });
}
