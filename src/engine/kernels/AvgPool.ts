import { TensorInfo } from '@tensorflow/tfjs-core';
import { poolGeometry } from './utils/conv_params.js';
import { kernel } from './utils/kernel.js';
import { PoolAttrs, poolInfo } from './MaxPool.js';

export const avgPoolConfig = kernel<{ x: TensorInfo }, PoolAttrs>('AvgPool', ({ inputs, backend, attrs }) =>
  backend.run('AvgPool', [inputs.x], poolGeometry(poolInfo(inputs.x.shape, attrs))),
);
