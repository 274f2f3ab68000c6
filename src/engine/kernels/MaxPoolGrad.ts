import { TensorInfo } from '@tensorflow/tfjs-core';
import { poolGeometry } from './utils/conv_params.js';
import { kernel } from './utils/kernel.js';
import { PoolAttrs, poolInfo } from './MaxPool.js';

// The forward output identifies the argmax positions its pool kept (MaxPool.ts); without them the
// native op recomputes them from the input.
export const maxPoolGradConfig = kernel<{ dy: TensorInfo; input: TensorInfo; output: TensorInfo }, PoolAttrs>(
  'MaxPoolGrad',
  ({ inputs, backend, attrs }) =>
    backend.run('MaxPoolGrad', [inputs.dy, inputs.input, inputs.output ?? null], poolGeometry(poolInfo(inputs.input.shape, attrs))),
);
