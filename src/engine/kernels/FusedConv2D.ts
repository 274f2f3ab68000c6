/**
 * Conv + bias + activation in one native call (tfjs-layers' Conv2D uses tf.fused.conv2d). The bias
 * goes into libtorch's convolution when it has one value per output channel; other broadcastable
 * biases are added afterwards.
 */
import { backend_util, TensorInfo, util } from '@tensorflow/tfjs-core';
import { ACTIVATION_CODE } from '../native/native.js';
import type { LibtorchBackend } from '../backend/backend_libtorch.js';
import { convGeometry } from './utils/conv_params.js';
import { inferenceOp, kernel } from './utils/kernel.js';
import { cpuFallback } from './fallback.js';
import type { ConvAttrs } from './Conv2D.js';
import { depthwiseInfo } from './DepthwiseConv2dNative.js';

interface FusedInputs {
  x: TensorInfo;
  filter: TensorInfo;
  bias?: TensorInfo;
  preluActivationWeights?: TensorInfo;
}
interface FusedAttrs extends ConvAttrs {
  activation: string;
  leakyreluAlpha?: number;
}

function activationCode(name: string): number {
  const c = ACTIVATION_CODE[name];
  if (c === undefined) throw new Error(`libtorch backend: fused activation ${name} is not supported`);
  return c;
}

export function fusedConv(
  backend: LibtorchBackend,
  op: string,
  inputs: FusedInputs,
  attrs: FusedAttrs,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const { bias, preluActivationWeights } = inputs;
  const act = activationCode(attrs.activation ?? 'linear');
  const alpha = attrs.leakyreluAlpha ?? 0;
  if (!bias || util.sizeFromShape(bias.shape) === info.outChannels) {
    return backend.run(
      inferenceOp(op),
      [inputs.x, inputs.filter, bias ?? null, preluActivationWeights ?? null],
      [...convGeometry(info), act, alpha],
    );
  }
  const y = backend.run(op, [inputs.x, inputs.filter], [...convGeometry(info), 0, 0]);
  const withBias = backend.run('Add', [y, bias]);
  backend.disposeIntermediateTensorInfo(y);
  if (act === 0) return withBias;
  const out =
    act === ACTIVATION_CODE.prelu
      ? backend.run('Prelu', [withBias, preluActivationWeights!])
      : act === ACTIVATION_CODE.leakyrelu
        ? backend.run('LeakyRelu', [withBias], [alpha])
        : backend.run(['', 'Relu', 'Relu6', 'Elu', 'Sigmoid'][act], [withBias]);
  backend.disposeIntermediateTensorInfo(withBias);
  return out;
}

export const fusedConv2DConfig = kernel<FusedInputs, FusedAttrs>('FusedConv2D', (args) => {
  const { inputs, backend, attrs } = args;
  if (attrs.dataFormat === 'NCHW') return cpuFallback('FusedConv2D')(args) as TensorInfo;
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
  return fusedConv(backend, 'Conv2D', inputs, attrs, info);
});

export const fusedDepthwiseConv2DConfig = kernel<FusedInputs, FusedAttrs>('FusedDepthwiseConv2D', ({ inputs, backend, attrs }) => {
  const info = depthwiseInfo(
    inputs.x.shape as [number, number, number, number],
    inputs.filter.shape as [number, number, number, number],
    attrs,
  );
  return fusedConv(backend, 'DepthwiseConv2dNative', inputs, attrs, info);
});
