/**
 * CPU fallback: any kernel without a native version runs tfjs's own CPU kernel on materialised
 * copies of its inputs, and the outputs are written back to libtorch. Correct, slow, and logged
 * once per kernel name so a profile shows it.
 */
import { getKernel, getKernelsForBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
// The package's main entry also registers the 'cpu' backend: it is the reference and the fallback.
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { LibtorchBackend } from '../backend/backend_libtorch.js';
import { Args, BACKEND } from './utils/kernel.js';

let cpu: MathBackendCPU | undefined;
const used = new Set<string>();
let logger: (msg: string) => void = (msg) => process.stderr.write(msg + '\n');

/** Kernel names that have fallen back to the CPU so far in this process. */
export function fallbackKernelsUsed(): string[] {
  return [...used].sort();
}

/** Replaces the once-per-kernel fallback log (tests silence it). */
export function setFallbackLogger(f: (msg: string) => void): void {
  logger = f;
}

function toCpu(backend: LibtorchBackend, cpuBackend: MathBackendCPU, t: TensorInfo): TensorInfo {
  return { dataId: cpuBackend.write(backend.readSync(t.dataId), t.shape, t.dtype), shape: t.shape, dtype: t.dtype };
}

/** A kernel function that runs the CPU kernel `name` on copies of the inputs. */
export function cpuFallback(name: string): (args: Args<unknown, unknown>) => TensorInfo | TensorInfo[] {
  return (args: Args<unknown, unknown>) => {
    const cpuKernel = getKernel(name, 'cpu');
    if (!cpuKernel) throw new Error(`libtorch backend: kernel ${name} has neither a native nor a CPU implementation`);
    if (!used.has(name)) {
      used.add(name);
      logger(`[auraprune] libtorch backend: kernel ${name} runs on the CPU fallback`);
    }
    cpu ??= new MathBackendCPU();
    const { backend } = args;
    const made: TensorInfo[] = [];
    const copy = (t: TensorInfo): TensorInfo => {
      const c = toCpu(backend, cpu!, t);
      made.push(c);
      return c;
    };
    const inputs = Array.isArray(args.inputs)
      ? (args.inputs as TensorInfo[]).map(copy)
      : Object.fromEntries(Object.entries(args.inputs as Record<string, TensorInfo | null>).map(([k, v]) => [k, v == null ? v : copy(v)]));
    const out = cpuKernel.kernelFunc({ inputs: inputs as never, attrs: args.attrs as never, backend: cpu });
    const outs = Array.isArray(out) ? out : [out];
    const result = outs.map((o) => ({ dataId: backend.write(cpu!.readSync(o.dataId), o.shape, o.dtype), shape: o.shape, dtype: o.dtype }));
    for (const t of [...made, ...outs]) cpu.disposeData(t.dataId, true);
    return Array.isArray(out) ? result : result[0];
  };
}

/** Configs for every CPU kernel that has no native libtorch kernel yet. */
export function fallbackConfigs(nativeNames: Set<string>): KernelConfig[] {
  return getKernelsForBackend('cpu')
    .filter((k) => !nativeNames.has(k.kernelName) && getKernel(k.kernelName, BACKEND) === undefined)
    .map((k) => ({ kernelName: k.kernelName, backendName: BACKEND, kernelFunc: cpuFallback(k.kernelName) as unknown as KernelFunc }));
}
