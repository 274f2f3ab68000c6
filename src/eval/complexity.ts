/**
 * Parameter and FLOP counts of a tfjs LayersModel, in the pruning literature's convention (HRank):
 * FLOPs are multiply-adds counted once, for convolutions and dense layers (bias adds, batch norm,
 * activations and pooling are not counted); parameters are the trainable weights (batch-norm
 * moving statistics are buffers, not parameters).
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';

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

function shapeOf(s: unknown): number[] {
  const a = (Array.isArray(s) && Array.isArray(s[0]) ? s[0] : s) as Array<number | null>;
  return a.map((d) => d ?? 1);
}

export function countComplexity(model: LayersModel): Complexity {
  const layers: LayerComplexity[] = [];
  for (const layer of model.layers) {
    const params = layer.trainableWeights.reduce((a, w) => a + w.shape.reduce((x: number, y) => x * (y ?? 1), 1), 0);
    const cls = layer.getClassName();
    let flops = 0;
    if (cls === 'Conv2D' || cls === 'DepthwiseConv2D') {
      const out = shapeOf(layer.outputShape); // [N, H, W, C]
      const kernel = layer.getWeights()[0].shape as number[]; // HWIO or [h, w, in, mult]
      const perOut = kernel[0] * kernel[1] * (cls === 'Conv2D' ? kernel[2] : 1);
      flops = out[1] * out[2] * out[3] * perOut;
    } else if (cls === 'SeparableConv2D') {
      // depthwise k x k on every input channel (x multiplier), then a 1x1 conv to the filters
      const out = shapeOf(layer.outputShape);
      const [dw, pw] = layer.getWeights().map((w) => w.shape as number[]); // [h, w, in, mult], [1, 1, in*mult, filters]
      flops = out[1] * out[2] * (dw[2] * dw[3] * dw[0] * dw[1] + pw[2] * pw[3]);
    } else if (cls === 'Conv2DTranspose') {
      // every input pixel scatters a k x k x filters patch, one multiply-add per input channel
      const inp = shapeOf((Array.isArray(layer.input) ? layer.input[0] : layer.input).shape);
      const kernel = layer.getWeights()[0].shape as number[]; // [h, w, filters, in]
      flops = inp[1] * inp[2] * kernel[0] * kernel[1] * kernel[2] * kernel[3];
    } else if (cls === 'Dense') {
      const k = layer.getWeights()[0].shape as number[];
      flops = k[0] * k[1];
    }
    layers.push({ name: layer.name, className: cls, params, flops });
  }
  return { params: layers.reduce((a, l) => a + l.params, 0), flops: layers.reduce((a, l) => a + l.flops, 0), layers };
}
