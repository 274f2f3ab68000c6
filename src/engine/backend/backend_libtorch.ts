/**
 * The tensor-resident `libtorch` tfjs backend: every tfjs dataId maps to a native libtorch tensor
 * (possibly a strided view), so data reaches JS only when read. Modelled on tfjs-node's
 * NodeJSKernelBackend. Storage, refcounts and disposal live here; kernels live in ../kernels.
 */
import { BackendTimingInfo, BackendValues, DataId, DataStorage, DataType, KernelBackend, TensorInfo, engine } from '@tensorflow/tfjs-core';
import { CODE_DTYPE, DTYPE_CODE, NativeAddon } from '../native/native.js';

interface TensorData {
  handle: number;
  refCount: number;
}

export type OpInput = TensorInfo | null | undefined;

export class LibtorchBackend extends KernelBackend {
  readonly data: DataStorage<TensorData>;
  private readonly codes: Record<string, number>;

  constructor(readonly native: NativeAddon) {
    super();
    this.data = new DataStorage<TensorData>(this, engine());
    this.codes = native.opCodes();
  }

  /** Native op code for `name`; throws if the addon lacks it (a build/version mismatch). */
  code(name: string): number {
    const c = this.codes[name];
    if (c === undefined)
      throw new Error(`libtorch backend: native op ${name} missing from the addon; rebuild it (npx auraprune build-native)`);
    return c;
  }

  handle(t: TensorInfo): number {
    return this.data.get(t.dataId).handle;
  }

  /** Wraps a fresh native handle as a tfjs TensorInfo (shape and dtype read from libtorch). */
  wrap(handle: number): TensorInfo {
    const info = this.native.info(handle);
    const dtype = CODE_DTYPE[info[0]];
    if (dtype === undefined) throw new Error(`libtorch backend: op produced an unsupported dtype code ${info[0]}`);
    const dataId = {};
    this.data.set(dataId, { handle, refCount: 1 });
    return { dataId, shape: info.slice(1), dtype };
  }

  /** Runs a native op: inputs by TensorInfo (null = absent optional), numeric attrs. */
  run(name: string, inputs: OpInput[], attrs: number[] = []): TensorInfo {
    const h = this.native.op(
      this.code(name),
      inputs.map((t) => (t ? this.handle(t) : -1)),
      attrs,
    );
    if (typeof h !== 'number') throw new Error(`libtorch backend: ${name} returned several outputs`);
    return this.wrap(h);
  }

  runMulti(name: string, inputs: OpInput[], attrs: number[] = []): TensorInfo[] {
    const h = this.native.op(
      this.code(name),
      inputs.map((t) => (t ? this.handle(t) : -1)),
      attrs,
    );
    return (typeof h === 'number' ? [h] : h).map((x) => this.wrap(x));
  }

  override write(values: BackendValues, shape: number[], dtype: DataType): DataId {
    const dataId = {};
    this.data.set(dataId, { handle: this.create(values, shape, dtype), refCount: 1 });
    return dataId;
  }

  override move(dataId: DataId, values: BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    this.data.set(dataId, { handle: this.create(values, shape, dtype), refCount });
  }

  makeTensorInfo(shape: number[], dtype: DataType, values?: BackendValues): TensorInfo {
    const v =
      values ??
      (dtype === 'float32'
        ? new Float32Array(sizeOf(shape))
        : dtype === 'int32'
          ? new Int32Array(sizeOf(shape))
          : new Uint8Array(sizeOf(shape)));
    return { dataId: this.write(v, shape, dtype), shape, dtype };
  }

  private create(values: BackendValues, shape: number[], dtype: DataType): number {
    if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') {
      throw new Error(`libtorch backend: dtype ${dtype} is not supported (float32, int32 and bool are)`);
    }
    return this.native.create(asTyped(values, dtype), shape, DTYPE_CODE[dtype]);
  }

  override readSync(dataId: DataId): BackendValues {
    return this.native.read(this.data.get(dataId).handle);
  }

  override read(dataId: DataId): Promise<BackendValues> {
    return Promise.resolve(this.readSync(dataId));
  }

  override disposeData(dataId: DataId, force = false): boolean {
    if (!this.data.has(dataId)) return true;
    const d = this.data.get(dataId);
    d.refCount--;
    if (!force && d.refCount > 0) return false;
    this.native.free(d.handle);
    this.data.delete(dataId);
    return true;
  }

  /** Frees an intermediate TensorInfo made inside a kernel. */
  disposeIntermediateTensorInfo(t: TensorInfo): void {
    this.disposeData(t.dataId);
  }

  override refCount(dataId: DataId): number {
    return this.data.has(dataId) ? this.data.get(dataId).refCount : 0;
  }

  override incRef(dataId: DataId): void {
    this.data.get(dataId).refCount++;
  }

  override numDataIds(): number {
    return this.data.numDataIds();
  }

  override memory(): { unreliable: boolean; numBytesInNative: number; numNativeTensors: number } {
    const m = this.native.memory();
    return { unreliable: false, numBytesInNative: m.bytes, numNativeTensors: m.tensors };
  }

  override timerAvailable(): boolean {
    return true;
  }

  // Kernels are synchronous, so wall time around f is the kernel time.
  override async time(f: () => void): Promise<BackendTimingInfo> {
    const t0 = performance.now();
    f();
    return { kernelMs: performance.now() - t0 };
  }

  override floatPrecision(): 32 {
    return 32;
  }

  override epsilon(): number {
    return 1e-7;
  }

  override dispose(): void {
    // Native tensors are freed by disposeData; nothing global to release.
  }
}

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function asTyped(values: BackendValues, dtype: 'float32' | 'int32' | 'bool'): Float32Array | Int32Array | Uint8Array {
  if (dtype === 'float32') return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
  if (dtype === 'int32') return values instanceof Int32Array ? values : Int32Array.from(values as ArrayLike<number>);
  return values instanceof Uint8Array ? values : Uint8Array.from(values as ArrayLike<number>);
}
