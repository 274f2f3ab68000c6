/** Shape and data-movement kernels; reshape/transpose/slice are libtorch views (no copy). */
import { backend_util, KernelConfig, slice_util, TensorInfo, util } from '@tensorflow/tfjs-core';
import { DTYPE_CODE, NativeDType } from '../native/native.js';
import { kernel, normAxes } from './utils/kernel.js';
import { cpuFallback } from './fallback.js';

const reshape = kernel<{ x: TensorInfo }, { shape: number[] }>('Reshape', ({ inputs, backend, attrs }) => {
  const shape = util.inferFromImplicitShape(attrs.shape, util.sizeFromShape(inputs.x.shape));
  return backend.run('Reshape', [inputs.x], shape);
});

const expandDims = kernel<{ input: TensorInfo }, { dim: number }>('ExpandDims', ({ inputs, backend, attrs }) => {
  const shape = inputs.input.shape.slice();
  const rank = shape.length;
  const dim = attrs.dim < 0 ? rank + 1 + attrs.dim : attrs.dim;
  shape.splice(dim, 0, 1);
  return backend.run('Reshape', [inputs.input], shape);
});

const transpose = kernel<{ x: TensorInfo }, { perm: number[] }>('Transpose', ({ inputs, backend, attrs }) =>
  backend.run('Transpose', [inputs.x], attrs.perm),
);

const slice = kernel<{ x: TensorInfo }, { begin: number | number[]; size: number | number[] }>('Slice', ({ inputs, backend, attrs }) => {
  const [begin, size] = slice_util.parseSliceParams(inputs.x, attrs.begin, attrs.size);
  slice_util.assertParamsValid(inputs.x, begin, size);
  return backend.run('Slice', [inputs.x], [...begin, ...size]);
});

const concat = kernel<TensorInfo[], { axis: number }>('Concat', ({ inputs, backend, attrs }) => {
  const axis = util.parseAxisParam(attrs.axis, inputs[0].shape)[0];
  return backend.run('Concat', inputs, [axis]);
});

const pack = kernel<TensorInfo[], { axis: number }>('Pack', ({ inputs, backend, attrs }) =>
  backend.run('Pack', inputs, normAxes(attrs.axis, inputs[0].shape.length + 1)),
);

const unpack = kernel<{ value: TensorInfo }, { axis: number }>('Unpack', ({ inputs, backend, attrs }) =>
  backend.runMulti('Unpack', [inputs.value], normAxes(attrs.axis, inputs.value.shape.length)),
);

const splitV = kernel<{ x: TensorInfo }, { numOrSizeSplits: number | number[]; axis: number }>('SplitV', ({ inputs, backend, attrs }) => {
  const axis = util.parseAxisParam(attrs.axis, inputs.x.shape)[0];
  const sizes = backend_util.prepareSplitSize(inputs.x, attrs.numOrSizeSplits, axis);
  return backend.runMulti('SplitV', [inputs.x], [axis, ...sizes]);
});

const pad = kernel<{ x: TensorInfo }, { paddings: Array<[number, number]>; constantValue: number }>('PadV2', ({ inputs, backend, attrs }) =>
  backend.run('PadV2', [inputs.x], [attrs.constantValue, ...attrs.paddings.flat()]),
);

const tile = kernel<{ x: TensorInfo }, { reps: number[] }>('Tile', ({ inputs, backend, attrs }) =>
  backend.run('Tile', [inputs.x], attrs.reps),
);

const reverse = kernel<{ x: TensorInfo }, { dims: number | number[] }>('Reverse', ({ inputs, backend, attrs }) =>
  backend.run('Reverse', [inputs.x], util.parseAxisParam(attrs.dims, inputs.x.shape)),
);

const gather = kernel<{ x: TensorInfo; indices: TensorInfo }, { axis: number; batchDims: number }>('GatherV2', (args) => {
  const { inputs, backend, attrs } = args;
  // Batched gather is rare in CNNs; the CPU kernel handles it exactly.
  if ((attrs.batchDims ?? 0) !== 0) return cpuFallback('GatherV2')(args);
  const axis = util.parseAxisParam(attrs.axis, inputs.x.shape)[0];
  return backend.run('GatherV2', [inputs.x, inputs.indices], [axis]);
});

const oneHot = kernel<{ indices: TensorInfo }, { depth: number; onValue: number; offValue: number; dtype: string }>(
  'OneHot',
  ({ inputs, backend, attrs }) =>
    backend.run('OneHot', [inputs.indices], [attrs.depth, attrs.onValue, attrs.offValue, DTYPE_CODE[attrs.dtype as NativeDType]]),
);

const fill = kernel<object, { shape: number[]; value: number; dtype: string }>('Fill', ({ backend, attrs }) =>
  backend.run('Fill', [], [DTYPE_CODE[(attrs.dtype ?? 'float32') as NativeDType], Number(attrs.value), ...attrs.shape]),
);

export const shapeConfigs: KernelConfig[] = [
  reshape,
  expandDims,
  transpose,
  slice,
  concat,
  pack,
  unpack,
  splitV,
  pad,
  tile,
  reverse,
  gather,
  oneHot,
  fill,
];
