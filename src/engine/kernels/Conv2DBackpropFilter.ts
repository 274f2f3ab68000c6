import { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import { convGeometry } from './utils/conv_params.js';
import { kernel } from './utils/kernel.js';
import { cpuFallback } from './fallback.js';
import type { ConvAttrs } from './Conv2D.js';

export const conv2DBackpropFilterConfig = kernel<
  { x: TensorInfo; dy: TensorInfo },
  ConvAttrs & { filterShape: [number, number, number, number] }
>('Conv2DBackpropFilter', (args) => {
  const { inputs, backend, attrs } = args;
  if (attrs.dataFormat === 'NCHW') return cpuFallback('Conv2DBackpropFilter')(args) as TensorInfo;
  const info = backend_util.computeConv2DInfo(
    inputs.x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  return backend.run('Conv2DBackpropFilter', [inputs.x, inputs.dy], [...convGeometry(info), ...attrs.filterShape]);
});
