/** Reductions, arg-reductions and softmax (tables over the native ops of the same name). */
import { KernelConfig, TensorInfo, util } from '@tensorflow/tfjs-core';
import { kernel, normAxes } from './utils/kernel.js';

const REDUCTIONS = ['Sum', 'Mean', 'Max', 'Min', 'Prod', 'All', 'Any'];

function reduction(name: string): KernelConfig {
  // tfjs names the reduced-axes attr `axis` for Sum/Mean/Prod/All/Any and `reductionIndices` for Max/Min.
  // A null axis means every axis (parseAxisParam's convention).
  return kernel<{ x: TensorInfo }, { axis?: number | number[] | null; reductionIndices?: number | number[] | null; keepDims: boolean }>(
    name,
    ({ inputs, backend, attrs }) => {
      const axis = 'reductionIndices' in attrs ? attrs.reductionIndices : attrs.axis;
      const axes = util.parseAxisParam(axis ?? (null as unknown as number[]), inputs.x.shape);
      // a 4-D mean over H and W is global average pooling (MeanHW keeps blocked inference blocked)
      const hw = name === 'Mean' && inputs.x.shape.length === 4 && inputs.x.dtype === 'float32' && [...axes].sort().join() === '1,2';
      return backend.run(hw ? 'MeanHW' : name, [inputs.x], [attrs.keepDims ? 1 : 0, ...axes]);
    },
  );
}

function argReduction(name: string): KernelConfig {
  return kernel<{ x: TensorInfo }, { axis: number }>(name, ({ inputs, backend, attrs }) =>
    backend.run(name, [inputs.x], normAxes(attrs.axis, inputs.x.shape.length)),
  );
}

const softmax = kernel<{ logits: TensorInfo }, { dim: number }>('Softmax', ({ inputs, backend, attrs }) =>
  backend.run('Softmax', [inputs.logits], normAxes(attrs.dim, inputs.logits.shape.length)),
);

export const reduceConfigs: KernelConfig[] = [...REDUCTIONS.map(reduction), argReduction('ArgMax'), argReduction('ArgMin'), softmax];
