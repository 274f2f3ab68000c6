/** Runs the same tfjs computation on the CPU reference backend and on libtorch, for comparisons. */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { quietCpu, registerLibtorchBackend, setFallbackLogger } from '../../src/engine/backend/index.js';
import { Rng } from '../../src/util/rng.js';

export const HAVE_LIBTORCH = registerLibtorchBackend();
setFallbackLogger(() => {});
quietCpu();

export interface InputSpec {
  shape: number[];
  dtype?: 'float32' | 'int32' | 'bool';
  lo?: number;
  hi?: number;
}

export interface Materialised {
  values: Float32Array | Int32Array | Uint8Array;
  spec: InputSpec;
}

export function materialise(specs: InputSpec[], seed: number): Materialised[] {
  const rng = new Rng(seed);
  return specs.map((spec) => {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const lo = spec.lo ?? -1,
      hi = spec.hi ?? 1;
    if (spec.dtype === 'int32') return { spec, values: Int32Array.from({ length: n }, () => Math.floor(lo + (hi - lo) * rng.next())) };
    if (spec.dtype === 'bool') return { spec, values: Uint8Array.from({ length: n }, () => (rng.next() < 0.5 ? 1 : 0)) };
    return { spec, values: rng.uniformArray(n, lo, hi) };
  });
}

export type Out = { shape: number[]; dtype: string; values: number[] };

/** Runs f on `backend` with fresh tensors made from `inputs`; returns outputs (and input grads). */
export function runOn(backend: string, inputs: Materialised[], f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[], grads: boolean): Out[] {
  tf.setBackend(backend);
  quietCpu();
  return tf.tidy(() => {
    const xs = inputs.map((m) => tf.tensor(m.values, m.spec.shape, m.spec.dtype ?? 'float32'));
    const y = f(...xs);
    const ys = Array.isArray(y) ? y : [y];
    const out: Out[] = ys.map((t) => ({ shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync()) }));
    if (grads) {
      // Weight the output by a fixed random tensor so dy is not all ones.
      const w = tf.tensor(new Rng(99).uniformArray(ys[0].size, 0.5, 1.5), ys[0].shape);
      const floatIdx = xs.map((x, i) => (x.dtype === 'float32' ? i : -1)).filter((i) => i >= 0);
      const g = tf.grads((...fx: tf.Tensor[]) => {
        const all = xs.slice();
        floatIdx.forEach((k, j) => (all[k] = fx[j]));
        const r = f(...all);
        return tf.sum(tf.mul(Array.isArray(r) ? r[0] : r, w));
      })(floatIdx.map((i) => xs[i]));
      for (const t of g) out.push({ shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync()) });
    }
    return out;
  });
}

export function assertClose(actual: Out[], expected: Out[], atol: number, rtol: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: output count`);
  for (let k = 0; k < expected.length; k++) {
    const a = actual[k],
      e = expected[k];
    assert.deepEqual(a.shape, e.shape, `${label}: output ${k} shape`);
    assert.equal(a.dtype, e.dtype, `${label}: output ${k} dtype`);
    for (let i = 0; i < e.values.length; i++) {
      const ev = e.values[i],
        av = a.values[i];
      if (Number.isNaN(ev)) {
        assert.ok(Number.isNaN(av), `${label}: out ${k}[${i}] expected NaN, got ${av}`);
        continue;
      }
      if (!Number.isFinite(ev)) {
        assert.equal(av, ev, `${label}: out ${k}[${i}]`);
        continue;
      }
      const tol = atol + rtol * Math.abs(ev);
      if (!(Math.abs(av - ev) <= tol)) assert.fail(`${label}: output ${k}[${i}] = ${av}, CPU reference ${ev} (tol ${tol})`);
    }
  }
}

/** Compares libtorch against the CPU backend on seeded random inputs (and input gradients). */
export function conform(
  label: string,
  specs: InputSpec[],
  f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
  opts: { grads?: boolean; atol?: number; rtol?: number; seed?: number } = {},
): void {
  const inputs = materialise(specs, opts.seed ?? 1);
  const cpu = runOn('cpu', inputs, f, opts.grads ?? false);
  const lt = runOn('libtorch', inputs, f, opts.grads ?? false);
  assertClose(lt, cpu, opts.atol ?? 1e-4, opts.rtol ?? 1e-4, label);
}
