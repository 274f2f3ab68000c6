import { TensorInfo } from '@tensorflow/tfjs-core';
import { ACTIVATION_CODE } from '../native/native.js';
import { kernel } from './utils/kernel.js';

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

export const batchMatMulConfig = kernel<{ a: TensorInfo; b: TensorInfo }, MatMulAttrs>('BatchMatMul', ({ inputs, backend, attrs }) =>
  backend.run('MatMul', [inputs.a, inputs.b], [attrs.transposeA ? 1 : 0, attrs.transposeB ? 1 : 0, 0, 0]),
);

// tfjs-layers' Dense layer dispatches this: matmul + bias + activation in one native call.
export const fusedMatMulConfig = kernel<
  { a: TensorInfo; b: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo },
  MatMulAttrs & { activation: string; leakyreluAlpha?: number }
>('_FusedMatMul', ({ inputs, backend, attrs }) => {
  const act = ACTIVATION_CODE[attrs.activation ?? 'linear'];
  if (act === undefined) throw new Error(`libtorch backend: fused activation ${attrs.activation} is not supported`);
  return backend.run(
    'MatMul',
    [inputs.a, inputs.b, inputs.bias ?? null, inputs.preluActivationWeights ?? null],
    [attrs.transposeA ? 1 : 0, attrs.transposeB ? 1 : 0, act, attrs.leakyreluAlpha ?? 0],
  );
});
