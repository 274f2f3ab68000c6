/** Inference throughput of a model at a batch size, on the current backend (median of repeats). */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

/** The model's input shape, with free height or width read as 32 (CIFAR size) for timing. */
function timingShape(model: LayersModel): [number, number, number] {
  const s = model.inputs[0].shape;
  return [s[1] ?? 32, s[2] ?? 32, s[3] ?? 3];
}

export function inferenceSpeed(model: LayersModel, batch = 256, repeats = 5): number {
  const x = tf.randomNormal([batch, ...timingShape(model)], 0, 1, 'float32', 1);
  const run = () => tf.tidy(() => (model.apply(x, { training: false }) as tf.Tensor).dataSync());
  run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  x.dispose();
  times.sort((a, b) => a - b);
  return batch / (times[Math.floor(times.length / 2)] / 1000);
}

/**
 * Inference speed of two models measured alternately in one process (a, b, a, b, ...; `rounds`
 * rounds), so machine drift hits both sides alike: median img/s at `batch` (each round times `passes`
 * batches back to back: one batch alone swung the ratio by 20% between runs) and median latency at
 * batch 1 for each, and the ratios b/a.
 */
export function compareSpeed(
  a: LayersModel,
  b: LayersModel,
  o: { batch?: number; rounds?: number; passes?: number; latencyRuns?: number } = {},
) {
  const batch = o.batch ?? 128,
    rounds = o.rounds ?? 3,
    passes = o.passes ?? 3,
    runs = o.latencyRuns ?? 20;
  const x = tf.randomNormal([batch, ...timingShape(a)], 0, 1, 'float32', 1);
  const x1 = tf.randomNormal([1, ...timingShape(a)], 0, 1, 'float32', 2);
  const once = (m: LayersModel, t: tf.Tensor) => tf.tidy(() => (m.apply(t, { training: false }) as tf.Tensor).dataSync());
  const med = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)];
  const rate = { a: [] as number[], b: [] as number[] },
    lat = { a: [] as number[], b: [] as number[] };
  for (const m of [a, b]) {
    once(m, x); // warm-up: primitive creation, allocator growth
    once(m, x1);
  }
  for (let r = 0; r < rounds; r++) {
    for (const [k, m] of [
      ['a', a],
      ['b', b],
    ] as const) {
      let t0 = performance.now();
      for (let p = 0; p < passes; p++) once(m, x);
      rate[k].push((passes * batch) / ((performance.now() - t0) / 1000));
      const ts: number[] = [];
      for (let i = 0; i < runs; i++) {
        t0 = performance.now();
        once(m, x1);
        ts.push(performance.now() - t0);
      }
      lat[k].push(med(ts));
    }
  }
  tf.dispose([x, x1]);
  const ra = med(rate.a),
    rb = med(rate.b),
    la = med(lat.a),
    lb = med(lat.b);
  return { batch, rounds, passes, aImgPerS: ra, bImgPerS: rb, speedup: rb / ra, aLatencyMs: la, bLatencyMs: lb, latencySpeedup: la / lb };
}
