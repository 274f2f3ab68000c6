import { TensorInfo } from '@tensorflow/tfjs-core';
import { poolGeometry } from './utils/conv_params.js';
import { kernel } from './utils/kernel.js';
import { PoolAttrs, poolInfo } from './MaxPool.js';

// The forward output is not needed: libtorch recomputes the argmax positions from the input.
export const maxPoolGradConfig = kernel<{ dy: TensorInfo; input: TensorInfo; output: TensorInfo }, PoolAttrs>(
  'MaxPoolGrad',
  ({ inputs, backend, attrs }) => backend.run('MaxPoolGrad', [inputs.dy, inputs.input], poolGeometry(poolInfo(inputs.input.shape, attrs))),
);
