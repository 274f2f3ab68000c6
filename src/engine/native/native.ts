/**
 * Loader and typed interface of the C++ addon (src/engine/native/csrc). Imports nothing from src/.
 * The addon is optional: without libtorch the build is skipped and `loadNative()` returns null.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** tfjs dtype codes shared with the addon. */
export const DTYPE_CODE = { float32: 0, int32: 1, bool: 2 } as const;
export const CODE_DTYPE = ['float32', 'int32', 'bool'] as const;
export type NativeDType = keyof typeof DTYPE_CODE;

/** Fused activation codes shared with the addon (registry.h `Act`). */
export const ACTIVATION_CODE: Record<string, number> = {
  linear: 0,
  relu: 1,
  relu6: 2,
  elu: 3,
  sigmoid: 4,
  leakyrelu: 5,
  prelu: 6,
};

export interface NativeAddon {
  /** Copies `values` into a new libtorch tensor; returns its handle. */
  create(values: Float32Array | Int32Array | Uint8Array, shape: number[], dtype: number): number;
  /** Contiguous copy in logical (row-major) order. */
  read(handle: number): Float32Array | Int32Array | Uint8Array;
  free(handle: number): void;
  shape(handle: number): number[];
  /** [dtypeCode, ...shape] */
  info(handle: number): number[];
  strides(handle: number): number[];
  /** Runs op `code` on input handles (-1 = absent optional input) with numeric attributes. */
  op(code: number, inputs: number[], attrs: number[]): number | number[];
  opCodes(): Record<string, number>;
  setThreads(n: number): void;
  getThreads(): number;
  /** Native bytes held by live tensors (each storage counted once) and the live handle count. */
  memory(): { bytes: number; tensors: number };
  /**
   * Joint aura entropies of every (parent row, child channel) pair of two channel-major uint8 label
   * stacks on one lattice (see csrc/aura.cc), over `k` neighbour pairs (s, t) per image: shared by
   * every image, or image i's at 2 i k when `perImage`; `bias` scales the Miller-Madow term.
   */
  auraJointEntropies(
    x: Uint8Array,
    y: Uint8Array,
    childChannels: number,
    n: number,
    h: number,
    w: number,
    G: number,
    pairs: Int32Array,
    k: number,
    perImage: boolean,
    rows: Int32Array,
    threads: number,
    bias: number,
  ): { entropies: Float64Array; hx: Float64Array; hy: Float64Array; updates: number };
  /**
   * Memory format of the convolution, pooling and batch-norm-gradient kernels: 'nchw' (contiguous,
   * default) or 'channels_last' (NHWC in memory, tfjs's own layout). Returns the previous one; no
   * argument just reads it. AURAPRUNE_LAYOUT sets the initial one.
   */
  setLayout(layout?: 'nchw' | 'channels_last'): 'nchw' | 'channels_last';
  /** Copies made so far to bring operands into that layout (reset to 0 when `reset`). */
  layoutCopies(reset?: boolean): number;
  /** Converted convolution weights held in the addon's cache (bounded: freed weights' are dropped). */
  weightCacheEntries(): number;
  /** Max-pool gradients that reused the forward pass's argmax positions (reset to 0 when `reset`). */
  argmaxReuses(reset?: boolean): number;
  /**
   * Whether inference convolutions (no gradient tape) keep activations in oneDNN's blocked layout
   * until an op that cannot read it; returns the previous setting, no argument just reads it.
   * AURAPRUNE_BLOCKED=0 starts with it off.
   */
  setBlockedInference(on?: boolean): boolean;
  /** Conversions so far: [dense -> blocked, blocked -> dense] (reset to 0 when `reset`). */
  reorders(reset?: boolean): [number, number];
  /** ReLU6 / ClipByValue keep blocked tensors blocked (built with Debian's libideep-dev and libdnnl-dev). */
  blockedClip: boolean;
  version: string;
}

let cached: NativeAddon | null | undefined;
let loadError = '';

/** Walks up from this file to the package root (works from src/ under tsx and from dist/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return dir;
}

export function addonPath(): string {
  return join(packageRoot(), 'src', 'engine', 'native', 'build', 'Release', 'auraprune_native.node');
}

/** The addon, or null when it was not built (no libtorch) or fails to load. */
export function loadNative(): NativeAddon | null {
  if (cached !== undefined) return cached;
  // AURAPRUNE_NO_NATIVE=1: behave as a machine without libtorch (tests of the fallback paths)
  if (process.env.AURAPRUNE_NO_NATIVE === '1') {
    loadError = 'native addon disabled by AURAPRUNE_NO_NATIVE=1';
    cached = null;
    return cached;
  }
  const path = addonPath();
  if (!existsSync(path)) {
    loadError = `native addon not built (${path} missing): install libtorch (apt-get install -y libtorch-dev) and run npx auraprune build-native`;
    cached = null;
    return cached;
  }
  try {
    cached = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (e) {
    loadError = `native addon failed to load: ${(e as Error).message.split('\n')[0]}`;
    cached = null;
  }
  return cached;
}

/** Why `loadNative()` returned null ('' when it did not). */
export function nativeLoadError(): string {
  loadNative();
  return loadError;
}
