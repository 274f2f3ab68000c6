/**
 * Element-wise kernels. They are one-liners over the native op of the same name, so they are
 * declared as tables here instead of one file each (tfjs's binary_utils pattern); kernels with
 * attributes or several inputs have their own small configs below.
 */
import { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { DTYPE_CODE, NativeDType } from '../native/native.js';
import { binaryKernel, kernel, unaryKernel } from './utils/kernel.js';

const UNARY = [
  'Abs',
  'Acos',
  'Acosh',
  'Asin',
  'Asinh',
  'Atan',
  'Atanh',
  'Ceil',
  'Cos',
  'Cosh',
  'Elu',
  'Erf',
  'Exp',
  'Expm1',
  'Floor',
  'IsNan',
  'IsInf',
  'IsFinite',
  'Log',
  'Log1p',
  'LogicalNot',
  'Neg',
  'Reciprocal',
  'Relu',
  'Relu6',
  'Round',
  'Rsqrt',
  'Selu',
  'Sigmoid',
  'Sign',
  'Sin',
  'Sinh',
  'Softplus',
  'Sqrt',
  'Square',
  'Tan',
  'Tanh',
  'Identity',
  'ZerosLike',
  'OnesLike',
];

const BINARY = [
  'Add',
  'Sub',
  'Multiply',
  'RealDiv',
  'Mod',
  'Maximum',
  'Minimum',
  'Pow',
  'Atan2',
  'SquaredDifference',
  'Equal',
  'NotEqual',
  'Less',
  'LessEqual',
  'Greater',
  'GreaterEqual',
  'LogicalAnd',
  'LogicalOr',
];

const step = kernel<{ x: TensorInfo }, { alpha: number }>('Step', ({ inputs, backend, attrs }) =>
  backend.run('Step', [inputs.x], [attrs.alpha ?? 0]),
);

const leakyRelu = kernel<{ x: TensorInfo }, { alpha: number }>('LeakyRelu', ({ inputs, backend, attrs }) =>
  backend.run('LeakyRelu', [inputs.x], [attrs.alpha]),
);

const clip = kernel<{ x: TensorInfo }, { clipValueMin: number; clipValueMax: number }>('ClipByValue', ({ inputs, backend, attrs }) =>
  backend.run('ClipByValue', [inputs.x], [attrs.clipValueMin, attrs.clipValueMax]),
);

const cast = kernel<{ x: TensorInfo }, { dtype: string }>('Cast', ({ inputs, backend, attrs }) => {
  const code = DTYPE_CODE[attrs.dtype as NativeDType];
  if (code === undefined) throw new Error(`libtorch backend: cast to ${attrs.dtype} is not supported`);
  return backend.run('Cast', [inputs.x], [code]);
});

const prelu = kernel<{ x: TensorInfo; alpha: TensorInfo }, object>('Prelu', ({ inputs, backend }) =>
  backend.run('Prelu', [inputs.x, inputs.alpha]),
);

const eluGrad = kernel<{ dy: TensorInfo; y: TensorInfo }, object>('EluGrad', ({ inputs, backend }) =>
  backend.run('EluGrad', [inputs.dy, inputs.y]),
);

// tfjs's FloorDiv returns int32 whatever the input dtype.
const floorDiv = kernel<{ a: TensorInfo; b: TensorInfo }, object>('FloorDiv', ({ inputs, backend }) => {
  const q = backend.run('FloorDiv', [inputs.a, inputs.b]);
  if (q.dtype === 'int32') return q;
  const out = backend.run('Cast', [q], [DTYPE_CODE.int32]);
  backend.disposeIntermediateTensorInfo(q);
  return out;
});

const addN = kernel<TensorInfo[], object>('AddN', ({ inputs, backend }) => backend.run('AddN', inputs));

const select = kernel<{ condition: TensorInfo; t: TensorInfo; e: TensorInfo }, object>('Select', ({ inputs, backend }) =>
  backend.run('Select', [inputs.condition, inputs.t, inputs.e]),
);

export const elementwiseConfigs: KernelConfig[] = [
  ...UNARY.map(unaryKernel),
  ...BINARY.map(binaryKernel),
  step,
  leakyRelu,
  clip,
  cast,
  prelu,
  eluGrad,
  floorDiv,
  addN,
  select,
];
