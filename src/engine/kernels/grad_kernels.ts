/**
 * libtorch-only kernels behind auraprune's custom gradients and fused GELU (../gradients.ts). They have no CPU
 * version on purpose: on other backends the gradients fall back to tfjs's own definitions.
 */
import { TensorInfo } from '@tensorflow/tfjs-core';
import { kernel } from './utils/kernel.js';

export const RELU_GRAD = 'AurapruneReluGrad';
export const CLIP_GRAD = 'AurapruneClipGrad';
export const EXPAND_TO = 'AurapruneExpandTo';
export const BATCH_NORM_GRAD = 'AurapruneBatchNormGrad';
export const GELU = 'AurapruneGelu';
export const GELU_GRAD = 'AurapruneGeluGrad';

export const geluConfig = kernel<{ x: TensorInfo }, object>(GELU, ({ inputs, backend }) => backend.run('Gelu', [inputs.x]));

export const geluGradConfig = kernel<{ dy: TensorInfo; x: TensorInfo }, object>(GELU_GRAD, ({ inputs, backend }) =>
  backend.run('GeluGrad', [inputs.dy, inputs.x]),
);

export const reluGradConfig = kernel<{ dy: TensorInfo; x: TensorInfo }, object>(RELU_GRAD, ({ inputs, backend }) =>
  backend.run('ReluGrad', [inputs.dy, inputs.x]),
);

/** ClipByValue's (bounds included) or, with relu6, Relu6's gradient in one native pass. */
export const clipGradConfig = kernel<{ dy: TensorInfo; x: TensorInfo }, { lo: number; hi: number; relu6: boolean }>(
  CLIP_GRAD,
  ({ inputs, backend, attrs }) => backend.run('ClipGrad', [inputs.dy, inputs.x], [attrs.lo, attrs.hi, attrs.relu6 ? 1 : 0]),
);

export const expandToConfig = kernel<{ x: TensorInfo }, { shape: number[] }>(EXPAND_TO, ({ inputs, backend, attrs }) =>
  backend.run('ExpandTo', [inputs.x], attrs.shape),
);

export const batchNormGradConfig = kernel<
  { dy: TensorInfo; x: TensorInfo; mean: TensorInfo; variance: TensorInfo; scale?: TensorInfo },
  { varianceEpsilon: number }
>(BATCH_NORM_GRAD, ({ inputs, backend, attrs }) =>
  backend.runMulti('BatchNormGrad', [inputs.dy, inputs.x, inputs.mean, inputs.variance, inputs.scale ?? null], [attrs.varianceEpsilon]),
);

export const SGD_UPDATE = 'AurapruneSgdUpdate';

export interface SgdUpdateAttrs {
  lr: number;
  momentum: number;
  nesterov: boolean;
  l2: number;
  decoupled: number;
}

export const sgdUpdateConfig = kernel<{ w: TensorInfo; velocity: TensorInfo; g: TensorInfo }, SgdUpdateAttrs>(
  SGD_UPDATE,
  ({ inputs, backend, attrs }) =>
    backend.runMulti(
      'SgdUpdate',
      [inputs.w, inputs.velocity, inputs.g],
      [attrs.lr, attrs.momentum, attrs.nesterov ? 1 : 0, attrs.l2, attrs.decoupled],
    ),
);

export const BATCH_NORM_TRAIN = 'AurapruneBatchNormTrain';
export const BATCH_NORM_TRAIN_GRAD = 'AurapruneBatchNormTrainGrad';

export const batchNormTrainConfig = kernel<{ x: TensorInfo; scale?: TensorInfo; offset?: TensorInfo }, { varianceEpsilon: number }>(
  BATCH_NORM_TRAIN,
  ({ inputs, backend, attrs }) =>
    backend.runMulti('BatchNormTrain', [inputs.x, inputs.scale ?? null, inputs.offset ?? null], [attrs.varianceEpsilon]),
);

export const batchNormTrainGradConfig = kernel<
  { dy: TensorInfo; x: TensorInfo; mean: TensorInfo; variance: TensorInfo; scale?: TensorInfo },
  { varianceEpsilon: number }
>(BATCH_NORM_TRAIN_GRAD, ({ inputs, backend, attrs }) =>
  backend.runMulti(
    'BatchNormTrainGrad',
    [inputs.dy, inputs.x, inputs.mean, inputs.variance, inputs.scale ?? null],
    [attrs.varianceEpsilon],
  ),
);
