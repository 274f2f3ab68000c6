/**
 * Parameter and FLOP counts of a tfjs LayersModel, in the pruning literature's convention (HRank):
 * FLOPs are multiply-adds counted once, for convolutions and dense layers (bias adds, batch norm,
 * activations and pooling are not counted); parameters are the trainable weights (batch-norm
 * moving statistics are buffers, not parameters).
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { costTerms } from '../models/layers.js';

export interface LayerComplexity {
  name: string;
  className: string;
  params: number;
  flops: number;
}

export interface Complexity {
  params: number;
  flops: number;
  layers: LayerComplexity[];
}

export function countComplexity(model: LayersModel): Complexity {
  const layers: LayerComplexity[] = model.layers.map((layer) => ({
    name: layer.name,
    className: layer.getClassName(),
    params: layer.trainableWeights.reduce((a, w) => a + w.shape.reduce((x: number, y) => x * (y ?? 1), 1), 0),
    // multiply-adds from the layer type's cost terms (src/models/layers.ts)
    flops: costTerms(layer).reduce((a, t) => a + t.flops, 0),
  }));
  return { params: layers.reduce((a, l) => a + l.params, 0), flops: layers.reduce((a, l) => a + l.flops, 0), layers };
}
