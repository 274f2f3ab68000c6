/**
 * Registers the `libtorch` backend (when the addon is built) and its kernels. The CLI chooses the
 * backend; this module only makes it available. Without libtorch it warns once and leaves tfjs on
 * the CPU backend.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { loadNative, nativeLoadError, NativeAddon } from '../native/native.js';
import { registerAllKernels } from '../kernels/register_all_kernels.js';
import { LibtorchBackend } from './backend_libtorch.js';
import { registerFusedGradients } from '../gradients.js';
import { setThreadBudget } from '../threads.js';

export { LibtorchBackend } from './backend_libtorch.js';
export { fallbackKernelsUsed, setFallbackLogger } from '../kernels/fallback.js';

export const BACKEND_NAME = 'libtorch';
let warned = false;

/** Registers the backend; returns false (and warns once) when the addon is unavailable. */
export function registerLibtorchBackend(opts: { threads?: number; priority?: number } = {}): boolean {
  if (opts.threads) setThreadBudget(opts.threads);
  const native = loadNative();
  if (!native) {
    if (!warned) process.stderr.write(`[auraprune] ${nativeLoadError()}; using the slow tfjs CPU backend\n`);
    warned = true;
    return false;
  }
  if (opts.threads) native.setThreads(opts.threads);
  if (tf.findBackend(BACKEND_NAME) === null) {
    const blas = referenceBlasNote();
    if (blas) process.stderr.write(`[auraprune] ${blas}\n`);
    registerAllKernels();
    registerFusedGradients();
    tf.registerBackend(BACKEND_NAME, () => new LibtorchBackend(native), opts.priority ?? 3);
  }
  return true;
}

/**
 * A one-line note when libtorch runs on Debian's reference BLAS (netlib), which multiplies matrices
 * about 15x slower than OpenBLAS: Dense layers and their gradients crawl. Null otherwise, or when the
 * process map cannot be read (not Linux).
 */
export function referenceBlasNote(maps?: string): string | null {
  let text = maps;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/maps', 'utf8');
    } catch {
      return null;
    }
  }
  const blas = text.split('\n').find((l) => /libblas\.so/.test(l));
  if (!blas || !/\/blas\/libblas\.so/.test(blas)) return null;
  return 'libtorch is using the reference BLAS (Debian libblas3): matrix products (Dense layers) run ~15x slower; apt-get install -y libopenblas0-openmp';
}

/** Registers and activates the best backend: libtorch when available, else cpu. Returns its name. */
export async function useBestBackend(opts: { threads?: number; backend?: string } = {}): Promise<string> {
  const want = opts.backend ?? 'auto';
  // the budget holds on the cpu backend too (aura counting runs outside tfjs)
  if (opts.threads) setThreadBudget(opts.threads);
  const haveNative = want !== 'cpu' && registerLibtorchBackend(opts);
  if (want === BACKEND_NAME && !haveNative) throw new Error(`backend libtorch requested but unavailable: ${nativeLoadError()}`);
  const name = haveNative ? BACKEND_NAME : 'cpu';
  await tf.setBackend(name);
  await tf.ready();
  quietCpu();
  return name;
}

export function nativeAddon(): NativeAddon | null {
  return loadNative();
}

/** The CPU backend's first write prints a tfjs-node advert; we chose it knowingly. */
export function quietCpu(): void {
  const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (cpu) cpu.firstUse = false;
}
