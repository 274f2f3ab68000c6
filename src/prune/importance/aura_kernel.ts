/**
 * Chooses the joint-aura counting kernel: the native one in the addon (csrc/aura.cc, threads across
 * parent filters) when it is built, else the TypeScript reference (src/info/spatial_mi.ts), saying so
 * once on stderr.
 */
import { loadNative, nativeLoadError } from '../../engine/native/native.js';
import type { JointEntropyKernel } from '../../info/spatial_mi.js';
import { threadBudget } from '../../engine/threads.js';

let warned = false;

/** The native kernel with `threads` threads (default: the `--threads` budget, else all cores), or null when the addon lacks it. */
export function nativeAuraKernel(threads = threadBudget()): JointEntropyKernel | null {
  const addon = loadNative();
  if (!addon || typeof addon.auraJointEntropies !== 'function') return null;
  return (X, Y, E, rows, bias) =>
    addon.auraJointEntropies(
      X.labels,
      Y.labels,
      Y.channels,
      X.n,
      X.h,
      X.w,
      X.levels,
      E.pairs,
      E.k,
      E.perImage,
      Int32Array.from(rows),
      threads,
      bias,
    );
}

/** The native kernel, or null after a one-line note that the TypeScript loop is used. */
export function auraKernelOrWarn(
  threads?: number,
  warn: (s: string) => void = (s) => process.stderr.write(s + '\n'),
): JointEntropyKernel | null {
  const k = nativeAuraKernel(threads);
  if (!k && !warned) {
    warned = true;
    warn(
      `[auraprune] aura: native counting kernel unavailable (${nativeLoadError() || 'addon without it; run npx auraprune build-native'}); using the TypeScript loop`,
    );
  }
  return k;
}
