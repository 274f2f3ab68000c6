import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { packageRoot } from '../../engine/native/native.js';
import { edgeSet, jointEntropiesTs, LabelStack, poolMaps, spatialMIMatrix } from '../../info/spatial_mi.js';
import { quantizeMap } from '../../info/quantize.js';
import { Rng } from '../../util/rng.js';
import { nativeAuraKernel } from './aura_kernel.js';

const native = nativeAuraKernel(2);
const skip = native ? {} : { skip: 'native addon not built (libtorch absent): only the TypeScript kernel exists' };

function stack(rng: Rng, channels: number, n: number, h: number, w: number, G: number): LabelStack {
  return { labels: Uint8Array.from({ length: channels * n * h * w }, () => rng.int(G)), channels, n, h, w, levels: G };
}

test(
  'native joint aura entropies equal the TypeScript counts on odd sizes, G 2/8/16, 4- and 8-neighbourhoods, exact and sampled',
  skip,
  () => {
    const rng = new Rng(7);
    for (const [h, w] of [
      [1, 7],
      [7, 1],
      [5, 9],
      [32, 32],
    ]) {
      for (const G of [2, 8, 16, 32]) {
        for (const neighbourhood of ['4', '8'] as const) {
          const n = h * w > 100 ? 3 : 5;
          const X = stack(rng, 3, n, h, w, G),
            Y = stack(rng, 4, n, h, w, G);
          const rows = [2, 0, 1];
          // exact (every edge, shared by the images) and a per-image sample of half the edges with Miller-Madow
          for (const [E, mm] of [
            [edgeSet(h, w, n, { neighbourhood }), 0],
            [edgeSet(h, w, n, { neighbourhood, edges: 0.5, edgeSeed: G }), 0.5],
          ] as const) {
            const ts = jointEntropiesTs(X, Y, E, rows, mm);
            const nat = native!(X, Y, E, rows, mm);
            assert.equal(nat.updates, ts.updates, `updates ${h}x${w} G${G} N${neighbourhood}`);
            // identical integer counts give identical entropies up to summation order of the logs
            for (let k = 0; k < ts.entropies.length; k++)
              assert.ok(
                Math.abs(nat.entropies[k] - ts.entropies[k]) < 1e-12,
                `${h}x${w} G${G} N${neighbourhood} sampled ${E.perImage} [${k}]: ${nat.entropies[k]} vs ${ts.entropies[k]}`,
              );
          }
        }
      }
    }
  },
);

test('native kernel: thread count does not change the result; pooled maps too', skip, () => {
  const rng = new Rng(3);
  // real-valued maps pooled 2x and quantised, as the criterion does across a pooling layer
  const N = 4,
    H = 12,
    W = 10,
    C = 5,
    G = 8;
  const vals = Float32Array.from({ length: N * H * W * C }, () => Math.max(0, rng.normal()));
  const p = poolMaps(vals, [N, H, W, C], 2, 'max');
  const [, h, w] = p.shape;
  const labels = new Uint8Array(C * N * h * w);
  const map = new Float32Array(h * w),
    lab = new Uint8Array(h * w);
  for (let c = 0; c < C; c++)
    for (let i = 0; i < N; i++) {
      for (let s = 0; s < h * w; s++) map[s] = p.values[(i * h * w + s) * C + c];
      quantizeMap(map, lab, { levels: G, zeroBin: true });
      labels.set(lab, (c * N + i) * h * w);
    }
  const X: LabelStack = { labels, channels: C, n: N, h, w, levels: G };
  const Y = stack(rng, 6, N, h, w, G);
  for (const edges of [undefined, 0.3]) {
    const one = spatialMIMatrix(X, Y, { kernel: nativeAuraKernel(1)!, edges });
    const three = spatialMIMatrix(X, Y, { kernel: nativeAuraKernel(3)!, edges });
    const ts = spatialMIMatrix(X, Y, { edges });
    assert.deepEqual(Array.from(three.mi), Array.from(one.mi));
    for (let k = 0; k < ts.mi.length; k++) assert.ok(Math.abs(ts.mi[k] - one.mi[k]) < 1e-12);
  }
});

test('native kernel refuses labels outside [0, G) instead of writing past its table', skip, () => {
  const X: LabelStack = { labels: Uint8Array.from([0, 1, 9, 1]), channels: 1, n: 1, h: 2, w: 2, levels: 8 };
  assert.throws(() => native!(X, X, edgeSet(2, 2, 1), [0], 0), /label >= G/);
  // an edge pointing outside the map is refused too
  const bad = { pairs: Int32Array.from([0, 4]), k: 1, perImage: false, total: 4 };
  assert.throws(() => native!({ ...X, labels: Uint8Array.from([0, 1, 2, 1]) }, X, bad, [0], 0), /out of range/);
});

test('without the addon the aura criterion falls back to the TypeScript loop, says so once, and gives the same MI', async () => {
  // a child process that cannot load the addon (as on a machine without libtorch)
  const script = `
    import { auraKernelOrWarn } from './src/prune/importance/aura_kernel.ts';
    import { spatialMIMatrix } from './src/info/spatial_mi.ts';
    import { Rng } from './src/util/rng.ts';
    const rng = new Rng(5);
    const st = (c) => ({ labels: Uint8Array.from({ length: c * 4 * 36 }, () => rng.int(8)), channels: c, n: 4, h: 6, w: 6, levels: 8 });
    const X = st(3), Y = st(2);
    const a = auraKernelOrWarn(2), b = auraKernelOrWarn(2);
    console.log(JSON.stringify({ kernels: [a, b], mi: Array.from(spatialMIMatrix(X, Y, { kernel: a ?? undefined }).mi) }));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: packageRoot(),
    env: { ...process.env, AURAPRUNE_NO_NATIVE: '1' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.deepEqual(out.kernels, [null, null]);
  const notes = r.stderr.split('\n').filter((l) => /using the TypeScript loop/.test(l));
  assert.equal(notes.length, 1, r.stderr);
  assert.match(notes[0], /AURAPRUNE_NO_NATIVE/);
  // the same maps in this process (native kernel when built) give the same MI
  const rng = new Rng(5);
  const st = (c: number): LabelStack => ({
    labels: Uint8Array.from({ length: c * 4 * 36 }, () => rng.int(8)),
    channels: c,
    n: 4,
    h: 6,
    w: 6,
    levels: 8,
  });
  const X = st(3),
    Y = st(2);
  const here = spatialMIMatrix(X, Y, { kernel: nativeAuraKernel(2) ?? undefined }).mi;
  here.forEach((v, k) => assert.ok(Math.abs(v - out.mi[k]) < 1e-12));
});
