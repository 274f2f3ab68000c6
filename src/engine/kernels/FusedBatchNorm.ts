import { TensorInfo } from '@tensorflow/tfjs-core';
import { kernel } from './utils/kernel.js';

export const fusedBatchNormConfig = kernel<
  { x: TensorInfo; mean: TensorInfo; variance: TensorInfo; offset?: TensorInfo; scale?: TensorInfo },
  { varianceEpsilon: number }
>('FusedBatchNorm', ({ inputs, backend, attrs }) =>
  backend.run(
    'FusedBatchNorm',
    [inputs.x, inputs.mean, inputs.variance, inputs.offset ?? null, inputs.scale ?? null],
    [attrs.varianceEpsilon ?? 0.001],
  ),
);
