import { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import { convGeometry } from './utils/conv_params.js';
import { kernel } from './utils/kernel.js';
import { cpuFallback } from './fallback.js';
import type { ConvAttrs } from './Conv2D.js';

export const conv2DBackpropInputConfig = kernel<
  { dy: TensorInfo; filter: TensorInfo },
  ConvAttrs & { inputShape: [number, number, number, number] }
>('Conv2DBackpropInput', (args) => {
  const { inputs, backend, attrs } = args;
  if (attrs.dataFormat === 'NCHW') return cpuFallback('Conv2DBackpropInput')(args) as TensorInfo;
  const info = backend_util.computeConv2DInfo(
    attrs.inputShape,
    inputs.filter.shape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  return backend.run('Conv2DBackpropInput', [inputs.dy, inputs.filter], [...convGeometry(info), ...attrs.inputShape]);
});
