/** Registers every native libtorch kernel, then the CPU fallback for every kernel still missing. */
import { KernelConfig, registerKernel } from '@tensorflow/tfjs-core';
import { avgPoolConfig } from './AvgPool.js';
import { avgPoolGradConfig } from './AvgPoolGrad.js';
import { batchMatMulConfig, fusedMatMulConfig } from './BatchMatMul.js';
import { conv2DConfig } from './Conv2D.js';
import { conv2DBackpropFilterConfig } from './Conv2DBackpropFilter.js';
import { conv2DBackpropInputConfig } from './Conv2DBackpropInput.js';
import {
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  depthwiseConv2dNativeConfig,
} from './DepthwiseConv2dNative.js';
import { elementwiseConfigs } from './elementwise.js';
import { fallbackConfigs } from './fallback.js';
import { fusedBatchNormConfig } from './FusedBatchNorm.js';
import {
  batchNormGradConfig,
  batchNormTrainConfig,
  batchNormTrainGradConfig,
  clipGradConfig,
  expandToConfig,
  geluConfig,
  geluGradConfig,
  reluGradConfig,
  sgdUpdateConfig,
} from './grad_kernels.js';
import { fusedConv2DConfig, fusedDepthwiseConv2DConfig } from './FusedConv2D.js';
import { maxPoolConfig } from './MaxPool.js';
import { maxPoolGradConfig } from './MaxPoolGrad.js';
import { reduceConfigs } from './reduce.js';
import { shapeConfigs } from './shape.js';

export const nativeKernelConfigs: KernelConfig[] = [
  conv2DConfig,
  conv2DBackpropInputConfig,
  conv2DBackpropFilterConfig,
  depthwiseConv2dNativeConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  fusedConv2DConfig,
  fusedDepthwiseConv2DConfig,
  maxPoolConfig,
  maxPoolGradConfig,
  avgPoolConfig,
  avgPoolGradConfig,
  batchMatMulConfig,
  fusedMatMulConfig,
  fusedBatchNormConfig,
  reluGradConfig,
  clipGradConfig,
  expandToConfig,
  batchNormGradConfig,
  geluConfig,
  geluGradConfig,
  sgdUpdateConfig,
  batchNormTrainConfig,
  batchNormTrainGradConfig,
  ...elementwiseConfigs,
  ...reduceConfigs,
  ...shapeConfigs,
];

let registered = false;

export function registerAllKernels(): void {
  if (registered) return;
  registered = true;
  for (const k of nativeKernelConfigs) registerKernel(k);
  for (const k of fallbackConfigs(new Set(nativeKernelConfigs.map((k) => k.kernelName)))) registerKernel(k);
}
