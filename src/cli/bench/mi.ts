/**
 * `auraprune bench mi`: throughput of the information core and the time per layer pair of every
 * estimator on the same activations. Activations are synthetic smooth maps with VGG-16's layer
 * shapes (the pipeline's real activations need a trained model); the per-layer-pair figures are
 * measured on a subset of channel pairs and scaled to the full pair count, which the JSON says.
 */
import { Rng } from '../../util/rng.js';
import { quantizeActivations } from '../../info/quantize.js';
import { auraDescriptors, LabelStack, latticeEdges, spatialMIMatrix } from '../../info/spatial_mi.js';
import { median } from '../../eval/bootstrap.js';
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
  let nativeRate = 0;
  if (nat1 && natAll) {
    // a call takes tens of milliseconds: 7 alternating repeats, medians
    const t1: number[] = [],
      tA: number[] = [];
    let r1 = { updates: 0 },
      rA = { updates: 0 };
    for (let rep = 0; rep < 7; rep++) {
      const [a, s] = time(() => spatialMIMatrix(X2, Y, { kernel: nat1 }));
      const [b, sA] = time(() => spatialMIMatrix(X2, Y, { kernel: natAll }));
      [r1, rA] = [a, b];
      t1.push(s);
      tA.push(sA);
    }
    const [n1, nA] = [median(t1), median(tA)];
    nativeRate = rA.updates / nA;
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
  // projected with the rate aura scoring uses: the native kernel on all cores, else the TS loop
  const useRate = nativeRate || rate;
  const perPair = VGG_PAIRS.map(([cp, cc, hh]) => (cp * cc * n * halfPairsPerMap(hh)) / useRate);
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
  const auraPerPair = (n * halfPairsPerMap(h)) / useRate;
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
      note: `projected from the measured update rate (${nativeRate ? 'native kernel, all cores' : 'TypeScript loop, one core'})`,
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

/** Per layer pair of a trained model: seconds of each estimator, on the same calibration activations. */
export interface MiModelPair {
  pair: string;
  filters: [number, number];
  lattice: string;
  /** ordered neighbour pairs the exact joint counts stand for */
  updates: number;
  aura_native_s: number;
  aura_native_1_thread_s: number;
  aura_native_updates_per_s_per_core: number;
  second_core_speedup: number;
  aura_sampled_s: Record<string, number>;
  aura_ts_s: number | null;
  aura_descriptor_s: number;
  mint_per_filter_s: number;
  mint_g8_s: number;
  /** the layer's filter ranking with each sample size against the exact count */
  spearman: Record<string, number>;
  top50_overlap: Record<string, number>;
}

/**
 * Every prunable layer pair of a trained model, from one activation pass over class-balanced
 * calibration images: aura exact (native, all threads and one), aura with sampled neighbour pairs
 * (each fraction, with the ranking's Spearman and top-50% overlap against exact), aura in TypeScript,
 * aura-descriptor, MINT at aura's per-filter granularity (its estimator timed on `mintPairs` filter
 * pairs per layer pair and scaled to all of them) and at its grouped setting (8 groups, run whole).
 */
export async function benchMiOnModel(
  modelPath: string,
  o: { perClass: number; levels: number; seed: number; data?: string; mintPairs: number; edges: number[]; ts: boolean; threads?: number },
): Promise<Record<string, unknown>> {
  const { loadImageModel } = await import('../../models/io.js');
  const { loadData } = await import('../commands/train.js');
  const { balancedSample } = await import('../../data/pipeline.js');
  const { pruningUnits } = await import('../../prune/graph/graph.js');
  const { unitTaps } = await import('../../prune/importance/taps.js');
  const { buildStore, mergeNeeds } = await import('../../prune/importance/store.js');
  const { criterion } = await import('../../prune/importance/registry.js');
  const { spearman, topKOverlap } = await import('../../eval/ranking.js');
  const { DEFAULT_AURA_EDGES } = await import('../../prune/importance/aura.js');
  const model = await loadImageModel(modelPath);
  const data = await loadData(o.data, 5000, o.seed);
  const sample = balancedSample(data.train, o.perClass, o.seed);
  const units = pruningUnits(model);
  const taps = unitTaps(model, units, 'relu');
  const cores = o.threads ?? availableParallelism();
  const make = (name: string, extra: Record<string, unknown>) => criterion(name, { aura: extra, mint: extra });
  const needs = mergeNeeds([make('aura', {}), make('mint', {}), make('aura-descriptor', {})].map((c) => c.needs(units, taps)));
  const t0 = performance.now();
  const store = buildStore(model, sample, needs, { quantize: { levels: o.levels, zeroBin: true }, quiet: true });
  const collectSeconds = (performance.now() - t0) / 1000;
  const n = store.n;
  const run = async (name: string, extra: Record<string, unknown>) => {
    const t1 = performance.now();
    const r = await make(name, extra).score({ model, units, taps, store, seed: o.seed });
    return { units: r, seconds: (performance.now() - t1) / 1000 };
  };
  const fractions = [...new Set([DEFAULT_AURA_EDGES, ...o.edges])];
  const exact = await run('aura', { edges: 'all', threads: cores });
  const one = await run('aura', { edges: 'all', threads: 1 });
  const sampled = new Map<number, Awaited<ReturnType<typeof run>>>();
  for (const f of fractions) sampled.set(f, await run('aura', { edges: f, threads: cores }));
  const ts = o.ts ? await run('aura', { edges: 'all', native: false, threads: 1 }) : null;
  const desc = await run('aura-descriptor', {});
  const g8 = await run('mint', { groups: 8 });
  const rng = new Rng(o.seed);
  const pairs: MiModelPair[] = [];
  taps.forEach((t, k) => {
    if (!t.child) return;
    const X = store.labels.get(labelKey(t.self, t.pool))!,
      Y = store.labels.get(`${t.child}@1`)!;
    const pm = store.means.get(t.self)!,
      cm = store.means.get(t.child)!;
    const picks = Array.from({ length: o.mintPairs }, () => [rng.int(X.channels), rng.int(Y.channels)]);
    const [, tMint] = time(() => {
      for (const [a, b] of picks)
        mintConditionalMI({ data: cm.subarray(b * n, (b + 1) * n), n, d: 1 }, { data: pm.subarray(a * n, (a + 1) * n), n, d: 1 }, null, {
          seed: 1,
        });
    });
    const perMap = latticeEdges(X.h, X.w).length / 2;
    const updates = 2 * X.channels * Y.channels * n * perMap;
    const key = (f: number) => String(f);
    const ref = exact.units[k].scores;
    pairs.push({
      pair: `${t.self} -> ${t.child}`,
      filters: [X.channels, Y.channels],
      lattice: `${Y.h}x${Y.w}`,
      updates,
      aura_native_s: +exact.units[k].seconds.toFixed(4),
      aura_native_1_thread_s: +one.units[k].seconds.toFixed(4),
      aura_native_updates_per_s_per_core: Math.round(updates / one.units[k].seconds),
      second_core_speedup: +(one.units[k].seconds / exact.units[k].seconds).toFixed(2),
      aura_sampled_s: Object.fromEntries(fractions.map((f) => [key(f), +sampled.get(f)!.units[k].seconds.toFixed(4)])),
      aura_ts_s: ts ? +ts.units[k].seconds.toFixed(3) : null,
      aura_descriptor_s: +desc.units[k].seconds.toFixed(3),
      mint_per_filter_s: +((tMint / o.mintPairs) * X.channels * Y.channels).toFixed(2),
      mint_g8_s: +g8.units[k].seconds.toFixed(3),
      spearman: Object.fromEntries(fractions.map((f) => [key(f), +spearman(ref, sampled.get(f)!.units[k].scores).toFixed(4)])),
      top50_overlap: Object.fromEntries(
        fractions.map((f) => [key(f), +topKOverlap(ref, sampled.get(f)!.units[k].scores, Math.ceil(ref.length / 2)).toFixed(4)]),
      ),
    });
  });
  const sum = (f: (p: MiModelPair) => number) => +pairs.reduce((a, p) => a + f(p), 0).toFixed(3);
  const minOf = (f: (p: MiModelPair) => number) => +Math.min(...pairs.map(f)).toFixed(4);
  return {
    bench: 'mi-model',
    model: modelPath,
    images: n,
    levels: o.levels,
    threads: cores,
    default_edges: DEFAULT_AURA_EDGES,
    activation_pass_s: +collectSeconds.toFixed(2),
    label_maps_s: +store.seconds.labels.toFixed(2),
    whole_model_s: {
      aura_exact_native: +exact.seconds.toFixed(3),
      aura_exact_native_1_thread: +one.seconds.toFixed(3),
      ...Object.fromEntries(fractions.map((f) => [`aura_edges_${f}`, +sampled.get(f)!.seconds.toFixed(3)])),
      aura_exact_ts_1_thread: ts ? +ts.seconds.toFixed(2) : null,
      aura_descriptor: +desc.seconds.toFixed(2),
      mint_per_filter_projected: sum((p) => p.mint_per_filter_s),
      mint_g8: +g8.seconds.toFixed(2),
    },
    aura_native_updates_per_s_all_cores: Math.round(sum((p) => p.updates) / sum((p) => p.aura_native_s)),
    aura_native_updates_per_s_1_thread: Math.round(sum((p) => p.updates) / sum((p) => p.aura_native_1_thread_s)),
    aura_ts_updates_per_s_1_thread: ts ? Math.round(sum((p) => p.updates) / sum((p) => p.aura_ts_s ?? 0)) : null,
    min_spearman: Object.fromEntries(fractions.map((f) => [String(f), minOf((p) => p.spearman[String(f)])])),
    min_top50_overlap: Object.fromEntries(fractions.map((f) => [String(f), minOf((p) => p.top50_overlap[String(f)])])),
    aura_faster_than_mint_per_filter_everywhere: pairs.every((p) => p.aura_sampled_s[String(DEFAULT_AURA_EDGES)] < p.mint_per_filter_s),
    mint_pairs_timed_per_layer_pair: o.mintPairs,
    units:
      'updates: ordered neighbour pairs (each edge counted in both orders, as the reference does; the native kernel increments one order and symmetrises)',
    pairs,
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
