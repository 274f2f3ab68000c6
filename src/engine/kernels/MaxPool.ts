import { backend_util, engine, TensorInfo } from '@tensorflow/tfjs-core';
import { poolGeometry } from './utils/conv_params.js';
import { kernel } from './utils/kernel.js';

export interface PoolAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export function poolInfo(xShape: number[], attrs: PoolAttrs): backend_util.Conv2DInfo {
  return backend_util.computePool2DInfo(
    xShape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
}

// Under a gradient tape the pool keeps its argmax positions for MaxPoolGrad (native cache keyed by the
// output); inference does not pay for them.
export const maxPoolConfig = kernel<{ x: TensorInfo }, PoolAttrs>('MaxPool', ({ inputs, backend, attrs }) =>
  backend.run(engine().state.gradientDepth > 0 ? 'MaxPoolTrain' : 'MaxPool', [inputs.x], poolGeometry(poolInfo(inputs.x.shape, attrs))),
);
