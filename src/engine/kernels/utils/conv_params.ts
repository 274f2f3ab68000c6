/**
 * tfjs Conv2DInfo -> the native geometry attrs [strideH, strideW, top, bottom, left, right,
 * dilationH, dilationW]. Padding comes from tfjs's own computeConv2DInfo (never recomputed here),
 * including TensorFlow's asymmetric 'same' padding, which the addon applies explicitly.
 */
import { backend_util } from '@tensorflow/tfjs-core';

export function convGeometry(info: backend_util.Conv2DInfo): number[] {
  const p = info.padInfo;
  return [info.strideHeight, info.strideWidth, p.top, p.bottom, p.left, p.right, info.dilationHeight, info.dilationWidth];
}

/** Pooling geometry [kH, kW, sH, sW, top, bottom, left, right]; pooling dilations must be 1. */
export function poolGeometry(info: backend_util.Conv2DInfo): number[] {
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) throw new Error('libtorch backend: pooling with dilation is not supported');
  const p = info.padInfo;
  return [info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, p.top, p.bottom, p.left, p.right];
}
