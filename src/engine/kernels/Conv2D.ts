import { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import { convGeometry } from './utils/conv_params.js';
import { inferenceOp, kernel } from './utils/kernel.js';
import { cpuFallback } from './fallback.js';

export interface ConvAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export const conv2DConfig = kernel<{ x: TensorInfo; filter: TensorInfo }, ConvAttrs>('Conv2D', (args) => {
  const { inputs, backend, attrs } = args;
  if (attrs.dataFormat === 'NCHW') return cpuFallback('Conv2D')(args) as TensorInfo;
  const info = backend_util.computeConv2DInfo(
    inputs.x.shape as [number, number, number, number],
    inputs.filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  // attrs: geometry, activation = linear, leaky alpha
  return backend.run(inferenceOp('Conv2D'), [inputs.x, inputs.filter], [...convGeometry(info), 0, 0]);
});
