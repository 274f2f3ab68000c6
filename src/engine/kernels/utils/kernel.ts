/** Shared helpers for libtorch kernel configs (after tfjs-backend-cpu's utils/). */
import { engine, KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { LibtorchBackend } from '../../backend/backend_libtorch.js';

export const BACKEND = 'libtorch';

export interface Args<I = NamedTensorInfoMap, A = NamedAttrMap> {
  inputs: I;
  backend: LibtorchBackend;
  attrs: A;
}

/** Builds a KernelConfig from a typed kernel function. */
export function kernel<I, A>(kernelName: string, fn: (args: Args<I, A>) => TensorInfo | TensorInfo[]): KernelConfig {
  return { kernelName, backendName: BACKEND, kernelFunc: fn as unknown as KernelFunc };
}

/** Kernel running the native op of the same name on input `x` with no attributes. */
export function unaryKernel(name: string): KernelConfig {
  return kernel<{ x: TensorInfo }, object>(name, ({ inputs, backend }) => backend.run(name, [inputs.x]));
}

/** Kernel running the native op of the same name on inputs `a`, `b` (broadcasting). */
export function binaryKernel(name: string): KernelConfig {
  return kernel<{ a: TensorInfo; b: TensorInfo }, object>(name, ({ inputs, backend }) => backend.run(name, [inputs.a, inputs.b]));
}

/** Normalises possibly negative axes against rank. */
export function normAxes(axes: number | number[], rank: number): number[] {
  return (Array.isArray(axes) ? axes : [axes]).map((a) => (a < 0 ? a + rank : a));
}

/**
 * Without a gradient tape a convolution runs in inference form: activations stay in oneDNN's
 * blocked layout until an op that cannot read it (native registry.h), weights are reordered once.
 */
export function inferenceOp(op: string): string {
  return engine().state.gradientDepth > 0 ? op : `${op}Infer`;
}
