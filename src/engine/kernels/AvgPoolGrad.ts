import { TensorInfo } from '@tensorflow/tfjs-core';
import { poolGeometry } from './utils/conv_params.js';
import { kernel } from './utils/kernel.js';
import { PoolAttrs, poolInfo } from './MaxPool.js';

export const avgPoolGradConfig = kernel<{ dy: TensorInfo; input: TensorInfo }, PoolAttrs>('AvgPoolGrad', ({ inputs, backend, attrs }) =>
  backend.run('AvgPoolGrad', [inputs.dy, inputs.input], poolGeometry(poolInfo(inputs.input.shape, attrs))),
);
