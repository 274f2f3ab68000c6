import { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import { convGeometry } from './utils/conv_params.js';
import { inferenceOp, kernel } from './utils/kernel.js';
import type { ConvAttrs } from './Conv2D.js';

type Shape4 = [number, number, number, number];

export function depthwiseInfo(xShape: Shape4, filterShape: Shape4, attrs: Partial<ConvAttrs>): backend_util.Conv2DInfo {
  return backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    attrs.strides ?? 1,
    attrs.dilations ?? 1,
    attrs.pad ?? 'valid',
    attrs.dimRoundingMode,
    true,
  );
}

export const depthwiseConv2dNativeConfig = kernel<{ x: TensorInfo; filter: TensorInfo }, ConvAttrs>(
  'DepthwiseConv2dNative',
  ({ inputs, backend, attrs }) => {
    const info = depthwiseInfo(inputs.x.shape as Shape4, inputs.filter.shape as Shape4, attrs);
    return backend.run(inferenceOp('DepthwiseConv2dNative'), [inputs.x, inputs.filter], [...convGeometry(info), 0, 0]);
  },
);

export const depthwiseConv2dNativeBackpropInputConfig = kernel<{ dy: TensorInfo; filter: TensorInfo }, ConvAttrs & { inputShape: Shape4 }>(
  'DepthwiseConv2dNativeBackpropInput',
  ({ inputs, backend, attrs }) => {
    const info = depthwiseInfo(attrs.inputShape, inputs.filter.shape as Shape4, attrs);
    return backend.run('DepthwiseConv2dNativeBackpropInput', [inputs.dy, inputs.filter], [...convGeometry(info), ...attrs.inputShape]);
  },
);

export const depthwiseConv2dNativeBackpropFilterConfig = kernel<{ x: TensorInfo; dy: TensorInfo }, ConvAttrs & { filterShape: Shape4 }>(
  'DepthwiseConv2dNativeBackpropFilter',
  ({ inputs, backend, attrs }) => {
    const info = depthwiseInfo(inputs.x.shape as Shape4, attrs.filterShape, attrs);
    return backend.run('DepthwiseConv2dNativeBackpropFilter', [inputs.x, inputs.dy], [...convGeometry(info), ...attrs.filterShape]);
  },
);
