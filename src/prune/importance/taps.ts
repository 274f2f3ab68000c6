/** Resolves where activations are read for each unit (its own filters and its consumer's). */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { consumersOf, PruningUnit } from '../graph/graph.js';
import { isChannelwise, ruleOf } from '../../models/layers.js';
import type { AxisWindow } from '../../info/spatial_mi.js';
import type { Pool, TapPoint, UnitTaps } from './types.js';

/**
 * The layer read for conv `name`: the conv, its BN, or the activation after it (falls back to what
 * exists). Pooling and dropout between them are followed, so 'relu' reads what the next layer sees
 * (airbench: conv -> pool -> BN -> GELU).
 */
export function tapOf(model: LayersModel, name: string, where: TapPoint): string {
  if (where === 'conv') return name;
  const consumers = consumersOf(model);
  let cur = name,
    tap = name;
  for (;;) {
    const next = consumers.get(cur) ?? [];
    if (next.length !== 1) return tap;
    const rule = ruleOf(next[0]);
    if (rule?.normalization && isChannelwise(next[0])) {
      tap = next[0].name;
      if (where === 'bn') return tap;
    } else if (rule?.activation && isChannelwise(next[0])) return next[0].name;
    // pooling and weightless neutral layers (dropout, noise) are looked through; padding, cropping
    // and upsampling move pixels, so the maps before them are read
    else if (!(rule?.pooling || (isChannelwise(next[0]) && !rule?.moves && next[0].getWeights().length === 0))) return tap;
    cur = next[0].name;
  }
}

function height(model: LayersModel, layer: string): number {
  return (model.getLayer(layer).outputShape as number[])[1];
}

interface Op {
  /** per axis (y, x): stride, first covered input pixel of output pixel 0, covered size */
  y: [number, number, number];
  x: [number, number, number];
}

/** One spatial op's mapping from output pixels to the input pixels they stand for. */
function spatialOp(layer: ReturnType<LayersModel['getLayer']>): Op | null {
  const cls = layer.getClassName();
  const c = layer.getConfig() as Record<string, unknown>;
  const inShape = (Array.isArray(layer.input) ? layer.input[0] : layer.input).shape as number[];
  const two = (v: unknown, d: number): [number, number] => (Array.isArray(v) ? [v[0], v[1]] : typeof v === 'number' ? [v, v] : [d, d]);
  const axis = (i: 0 | 1, k: number, st: number, dil: number, centre: boolean): [number, number, number] => {
    const n = inShape[1 + i];
    const reach = dil * (k - 1) + 1;
    const out = c.padding === 'same' ? Math.ceil(n / st) : Math.floor((n - reach) / st) + 1;
    const padTop = c.padding === 'same' ? Math.floor(Math.max((out - 1) * st + reach - n, 0) / 2) : 0;
    // a conv output pixel stands for its kernel's centre (two pixels when the centre falls between them)
    if (centre) return [st, Math.floor((dil * (k - 1)) / 2) - padTop, (dil * (k - 1)) % 2 === 1 ? 2 : 1];
    return [st, -padTop, k];
  };
  if (cls === 'MaxPooling2D' || cls === 'AveragePooling2D') {
    const k = two(c.poolSize, 2),
      st = two(c.strides ?? c.poolSize, k[0]);
    return { y: axis(0, k[0], st[0], 1, false), x: axis(1, k[1], st[1], 1, false) };
  }
  if (cls === 'Conv2D' || cls === 'DepthwiseConv2D' || cls === 'SeparableConv2D') {
    const k = two(c.kernelSize, 1),
      st = two(c.strides, 1),
      d = two(c.dilationRate, 1);
    return { y: axis(0, k[0], st[0], d[0], true), x: axis(1, k[1], st[1], d[1], true) };
  }
  return null;
}

/**
 * How the self tap's maps are brought onto the child tap's lattice, from the geometry of every
 * spatial op on the path (pooling windows, the child conv's stride, padding, dilation and kernel
 * centre): each child pixel takes the max over the parent pixels it stands for. A plain factor when
 * that is what the path amounts to; the height ratio when the path is not a simple chain.
 */
export function alignment(model: LayersModel, self: string, childConv: string, childTap: string): Pool {
  const consumers = consumersOf(model);
  const ops: Op[] = [];
  let cur = self,
    passedChild = false;
  for (let guard = 0; guard < 64 && cur !== childTap; guard++) {
    const next = consumers.get(cur) ?? [];
    if (next.length !== 1) return ratio(model, self, childTap);
    const l = next[0];
    const op = spatialOp(l);
    if (l.name === childConv) passedChild = true;
    if (op) ops.push(op);
    // any other layer on the path must keep the lattice and the channels (BN, activations, dropout);
    // padding, cropping and upsampling move it: the height ratio stands in
    else if (!isChannelwise(l) || ruleOf(l)?.moves) return ratio(model, self, childTap);
    cur = l.name;
  }
  if (cur !== childTap || !passedChild) return ratio(model, self, childTap);
  const compose = (a: 'y' | 'x', out: number): AxisWindow => {
    let S = 1,
      A = 0,
      B = 0;
    for (const op of [...ops].reverse()) {
      const [st, c0, k] = op[a];
      [S, A, B] = [S * st, A * st + c0, B * st + c0 + k - 1];
    }
    return { size: B - A + 1, stride: S, offset: A, out };
  };
  const shape = (name: string) => model.getLayer(name).outputShape as number[];
  const [H, W] = shape(self).slice(1, 3),
    [h, w] = shape(childTap).slice(1, 3);
  const y = compose('y', h),
    x = compose('x', w);
  const plain = (a: AxisWindow, n: number) => a.size === a.stride && a.offset === 0 && a.out === Math.floor(n / a.stride);
  if (plain(y, H) && plain(x, W) && y.stride === x.stride) return y.stride;
  return { y, x };
}

function ratio(model: LayersModel, self: string, child: string): number {
  return Math.max(1, Math.round(height(model, self) / height(model, child)));
}

export function unitTaps(model: LayersModel, units: PruningUnit[], where: TapPoint): UnitTaps[] {
  return units.map((u) => {
    const self = tapOf(model, u.tap, where);
    const child = u.consumerKind === 'conv' ? tapOf(model, u.consumer, where) : null;
    return { self, child, pool: child ? alignment(model, self, u.consumer, child) : 1 };
  });
}
