/**
 * Everything filter pruning knows about a Keras layer type, in one table (as Torch-Pruning keeps its
 * per-layer pruners in one registry): its role on the path from a pruned conv to the layer that
 * consumes its channels, how its weights are sliced when output or input channels go, how removed
 * channels are zeroed (the reference surgery is tested against), its cost terms (parameters and
 * multiply-adds, and which of them scale with the kept input / output channels), and what taps and
 * batch-norm folding need. The coupling graph (graph.ts), surgery (rebuild.ts), the analytic cost
 * model (select/cost.ts), FLOPs counting (eval/complexity.ts), activation taps and BN folding all
 * read it. Supporting a layer type is one entry here plus its case in the equivalence test.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import './tfjs_fixes.js';

export type Layer = LayersModel['layers'][number];

/**
 * - producer: convolution whose output filters can be removed; it also consumes (slices) input channels.
 * - channelwise: output channel c depends on input channel c only (BN, activations, pooling, padding,
 *   dropout, depthwise conv), so it follows a pruned conv's channels; `keeps(layer)` can refuse per
 *   config (with `why`), `expand` repeats each channel (depthwise depth multiplier).
 * - flatten: channels become the rows of a vector (Flatten: H*W rows per channel; global pooling: one).
 * - dense: consumes a vector (its input rows are sliced) and produces units, which can be removed too.
 * - join: merges same-shaped inputs channel by channel (Add, Multiply, ...): couples their channels.
 * - concat: lays its inputs' channels side by side (Concatenate on the channel axis).
 * - other: supported but opaque to channels (the input, a softmax over channels): channels reaching
 *   it stay.
 */
export type Role = 'producer' | 'channelwise' | 'flatten' | 'dense' | 'join' | 'concat' | 'other';

/** A share of a layer's cost that scales with the kept fraction of its input and/or output channels. */
export interface CostTerm {
  params: number;
  flops: number;
  in: boolean;
  out: boolean;
}

export interface LayerRule {
  role: Role;
  /** channelwise layers: false when this instance's config breaks the one-to-one channel map */
  keeps?: (layer: Layer) => boolean;
  /** why `keeps` refused (completes "its channels reach L, which ...") */
  why?: string;
  /** channelwise layers: each input channel becomes this many consecutive output channels */
  expand?: (layer: Layer) => number;
  /** spatial layers that move pixels (padding, cropping, upsampling): taps cannot align maps across them */
  moves?: boolean;
  /** where a producer's filters sit: weight index and axis (the l1 criterion reads them) */
  filterAxis?: { weight: number; axis: number };
  /** zeroes the input channels (rows) where `mask` is 0: the reference pruned models are tested against */
  zeroIn?: (ws: tf.Tensor[], mask: tf.Tensor1D, layer: Layer) => tf.Tensor[];
  /** the saved (toJSON, snake_case) config of this layer with `n` output channels (producers: filters / units; Reshape: target_shape) */
  resize?: (config: Record<string, unknown>, n: number) => void;
  /** weights with output channels `out` and/or input channels (rows) `inp` kept */
  slice?: (ws: tf.Tensor[], sel: { out?: number[]; inp?: number[] }, layer: Layer) => tf.Tensor[];
  /** cost terms per example; default: the trainable parameters, scaling with the output channels */
  cost?: (layer: Layer) => CostTerm[];
  /** taps: an activation (reading after it is what the next layer sees) / a normalisation */
  activation?: boolean;
  normalization?: boolean;
  /** pooling: BN folding may look across it (max pooling only when every BN multiplier is >= 0) */
  pooling?: 'max' | 'average';
  /** latency allocation: builds a lone copy of the layer from its config, to time it */
  make?: (config: Record<string, unknown>) => tfl.layers.Layer;
}

const size = (s: readonly (number | null)[]) => s.reduce((a: number, b) => a * (b ?? 1), 1);
const outShape = (l: Layer) => {
  const s = l.outputShape as unknown;
  return ((Array.isArray(s) && Array.isArray(s[0]) ? s[0] : s) as Array<number | null>).map((d) => d ?? 1);
};
const inShape = (l: Layer) => ((Array.isArray(l.input) ? l.input[0] : l.input).shape as Array<number | null>).map((d) => d ?? 1);
/** Trainable size of the weight whose name ends in `suffix` (0 when frozen or absent). */
const trainable = (l: Layer, suffix: string) => {
  const w = l.trainableWeights.find((v) => v.originalName.endsWith(`/${suffix}`));
  return w ? size(w.shape) : 0;
};
const perChannel = (ws: tf.Tensor[], out?: number[]) => ws.map((w) => (out ? tf.gather(w, out, 0) : w));
/** Reshapes a channel mask to broadcast along `axis` of a rank-`rank` tensor. */
const along = (m: tf.Tensor1D, rank: number, axis: number) =>
  tf.reshape(
    m,
    Array.from({ length: rank }, (_, i) => (i === axis ? -1 : 1)),
  );

const conv: LayerRule = {
  role: 'producer',
  // kernel [h, w, in, out], bias [out]
  slice: (ws, { out, inp }) =>
    ws.map((w, i) => {
      let t = w;
      if (i === 0 && inp) t = tf.gather(t, inp, 2);
      if (out) t = tf.gather(t, out, i === 0 ? 3 : 0);
      return t;
    }),
  zeroIn: (ws, m) => ws.map((w, i) => (i === 0 ? tf.mul(w, along(m, 4, 2)) : w)),
  filterAxis: { weight: 0, axis: 3 },
  resize: (c, n) => void (c.filters = n),
  cost: (l) => {
    const k = l.getWeights()[0].shape as number[];
    const o = outShape(l);
    return [
      { params: trainable(l, 'kernel'), flops: o[1] * o[2] * o[3] * k[0] * k[1] * k[2], in: true, out: true },
      { params: trainable(l, 'bias'), flops: 0, in: false, out: true },
    ];
  },
  make: (c) => tfl.layers.conv2d(c as never),
};

const convTranspose: LayerRule = {
  role: 'producer',
  // kernel [h, w, out, in], bias [out]
  slice: (ws, { out, inp }) =>
    ws.map((w, i) => {
      let t = w;
      if (i === 0 && inp) t = tf.gather(t, inp, 3);
      if (out) t = tf.gather(t, out, i === 0 ? 2 : 0);
      return t;
    }),
  zeroIn: (ws, m) => ws.map((w, i) => (i === 0 ? tf.mul(w, along(m, 4, 3)) : w)),
  filterAxis: { weight: 0, axis: 2 },
  resize: (c, n) => void (c.filters = n),
  cost: (l) => {
    // every input pixel scatters a k x k x filters patch, one multiply-add per input channel
    const k = l.getWeights()[0].shape as number[];
    const i = inShape(l);
    return [
      { params: trainable(l, 'kernel'), flops: i[1] * i[2] * k[0] * k[1] * k[2] * k[3], in: true, out: true },
      { params: trainable(l, 'bias'), flops: 0, in: false, out: true },
    ];
  },
};

/** Input channel c of a depthwise stage with multiplier m feeds rows c*m .. c*m+m-1 of the next stage. */
const expand = (inp: number[], m: number) => inp.flatMap((c) => Array.from({ length: m }, (_, j) => c * m + j));

const separable: LayerRule = {
  role: 'producer',
  // depthwise [h, w, in, mult], pointwise [1, 1, in*mult, out], bias [out]
  slice: (ws, { out, inp }) => {
    const mult = (ws[0].shape as number[])[3];
    return ws.map((w, i) => {
      let t = w;
      if (inp && i === 0) t = tf.gather(t, inp, 2);
      if (inp && i === 1) t = tf.gather(t, expand(inp, mult), 2);
      if (out && i === 1) t = tf.gather(t, out, 3);
      if (out && i === 2) t = tf.gather(t, out, 0);
      return t;
    });
  },
  // the depthwise stage's input channel c feeds pointwise rows c*m .. c*m+m-1 only
  zeroIn: (ws, m) => ws.map((w, i) => (i === 0 ? tf.mul(w, along(m, 4, 2)) : w)),
  filterAxis: { weight: 1, axis: 3 },
  resize: (c, n) => void (c.filters = n),
  cost: (l) => {
    const [dw, pw] = l.getWeights().map((w) => w.shape as number[]);
    const o = outShape(l);
    return [
      // the depthwise stage scales with the input channels, the pointwise with input x output
      { params: trainable(l, 'depthwise_kernel'), flops: o[1] * o[2] * dw[0] * dw[1] * dw[2] * dw[3], in: true, out: false },
      { params: trainable(l, 'pointwise_kernel'), flops: o[1] * o[2] * pw[2] * pw[3], in: true, out: true },
      { params: trainable(l, 'bias'), flops: 0, in: false, out: true },
    ];
  },
};

const multiplier = (l: Layer) => (l.getConfig() as { depthMultiplier?: number }).depthMultiplier ?? 1;
const depthwise: LayerRule = {
  role: 'channelwise',
  // output channels c*m .. c*m+m-1 are input channel c filtered alone (m: depth multiplier)
  expand: multiplier,
  // kernel [h, w, C, m], bias [C*m]
  slice: (ws, { out, inp }) => ws.map((w, i) => (i === 0 ? (inp ? tf.gather(w, inp, 2) : w) : out ? tf.gather(w, out, 0) : w)),
  cost: (l) => {
    const k = l.getWeights()[0].shape as number[];
    const o = outShape(l);
    return [
      { params: trainable(l, 'depthwise_kernel'), flops: o[1] * o[2] * o[3] * k[0] * k[1], in: false, out: true },
      { params: trainable(l, 'bias'), flops: 0, in: false, out: true },
    ];
  },
};

const batchNorm: LayerRule = {
  role: 'channelwise',
  // channels last only: a BN over another axis does not follow the conv's filters
  keeps: (l) => {
    const a = (l.getConfig() as { axis?: number | number[] }).axis;
    const ax = Array.isArray(a) ? a : [a ?? -1];
    return ax.length === 1 && (ax[0] === -1 || ax[0] === 3);
  },
  why: 'normalises over another axis than channels',
  slice: (ws, { out }) => perChannel(ws, out),
  normalization: true,
};

const activationOf = (l: Layer) => (l.getConfig() as { activation?: string }).activation;
const act = (make?: LayerRule['make']): LayerRule => ({ role: 'channelwise', activation: true, make });
/** Shape- and channel-neutral layers without weights (noise and dropout are identities at inference). */
const neutral: LayerRule = { role: 'channelwise' };
/** Channel-neutral layers that move pixels. */
const moves: LayerRule = { role: 'channelwise', moves: true };
const join: LayerRule = { role: 'join' };
const axisIsLast = (l: Layer) => {
  const a = (l.getConfig() as { axis?: number }).axis ?? -1;
  return a === -1 || a === outShape(l).length - 1;
};
/** A Reshape keeps channels when its target's last axis is the input's last axis (e.g. [C] -> [1, 1, C]). */
const reshapeKeeps = (l: Layer) => {
  const t = (l.getConfig() as { targetShape: number[] }).targetShape;
  const i = inShape(l);
  return t[t.length - 1] === i[i.length - 1];
};

export const LAYER_RULES: Record<string, LayerRule> = {
  Conv2D: conv,
  Conv2DTranspose: convTranspose,
  SeparableConv2D: separable,
  DepthwiseConv2D: depthwise,
  BatchNormalization: { ...batchNorm, make: (c) => tfl.layers.batchNormalization(c as never) },
  // ReLU with maxValue (ReLU6) is still channel-wise with f(0) = 0
  ReLU: act((c) => tfl.layers.reLU(c as never)),
  LeakyReLU: act((c) => tfl.layers.leakyReLU(c as never)),
  ELU: act(),
  ThresholdedReLU: act(),
  // per-channel slopes [.., C] (or shared: one slope for every channel)
  PReLU: {
    ...act(),
    slice: (ws, { out }) => ws.map((w) => (out && w.shape[w.rank - 1] > 1 ? tf.gather(w, out, w.rank - 1) : w)),
  },
  // a softmax over channels mixes them: not channel-wise
  Activation: {
    ...act((c) => tfl.layers.activation(c as never)),
    keeps: (l) => activationOf(l) !== 'softmax',
    why: 'mixes channels (softmax)',
  },
  MaxPooling2D: { role: 'channelwise', pooling: 'max', make: (c) => tfl.layers.maxPooling2d(c as never) },
  AveragePooling2D: { role: 'channelwise', pooling: 'average', make: (c) => tfl.layers.averagePooling2d(c as never) },
  Dropout: neutral,
  SpatialDropout1D: neutral,
  GaussianNoise: neutral,
  GaussianDropout: neutral,
  AlphaDropout: neutral,
  // scalar scale and offset: channel-wise
  Rescaling: neutral,
  ZeroPadding2D: moves,
  Cropping2D: moves,
  UpSampling2D: moves,
  Resizing: moves,
  CenterCrop: moves,
  Reshape: {
    role: 'channelwise',
    moves: true,
    keeps: reshapeKeeps,
    why: 'moves channels to another axis',
    // the saved (snake_case) config
    resize: (c, n) => {
      const t = [...(c.target_shape as number[])];
      t[t.length - 1] = n;
      c.target_shape = t;
    },
  },
  Flatten: { role: 'flatten' },
  GlobalAveragePooling2D: { role: 'flatten' },
  GlobalMaxPooling2D: { role: 'flatten' },
  Dense: {
    role: 'dense',
    // kernel [in, out], bias [out]: input rows follow the channels feeding it, columns are its units
    slice: (ws, { out, inp }) =>
      ws.map((w, i) => {
        let t = w;
        if (i === 0 && inp) t = tf.gather(t, inp, 0);
        if (out) t = tf.gather(t, out, i === 0 ? 1 : 0);
        return t;
      }),
    zeroIn: (ws, m) => ws.map((w, i) => (i === 0 ? tf.mul(w, along(m, 2, 0)) : w)),
    filterAxis: { weight: 0, axis: 1 },
    resize: (c, n) => void (c.units = n),
    cost: (l) => {
      const k = l.getWeights()[0].shape as number[];
      const i = inShape(l);
      // a Dense on [N, H, W, C] is applied at every position
      const positions = i.slice(1, -1).reduce((a, b) => a * b, 1);
      return [
        { params: trainable(l, 'kernel'), flops: positions * k[0] * k[1], in: true, out: true },
        { params: trainable(l, 'bias'), flops: 0, in: false, out: true },
      ];
    },
    make: (c) => tfl.layers.dense(c as never),
  },
  Add: join,
  Multiply: join,
  Average: join,
  Maximum: join,
  Minimum: join,
  Concatenate: { role: 'concat', keeps: axisIsLast, why: 'concatenates along another axis than channels' },
  InputLayer: { role: 'other' },
  Softmax: { role: 'other', why: 'mixes channels (softmax)' },
};

export function ruleOf(layer: Layer): LayerRule | undefined {
  return LAYER_RULES[layer.getClassName()];
}

/** A channel-wise layer that really keeps channels one to one in this configuration. */
export function isChannelwise(layer: Layer): boolean {
  const r = ruleOf(layer);
  return r?.role === 'channelwise' && (r.keeps?.(layer) ?? true);
}

/** The layer's cost terms (the default: its trainable parameters, scaling with its output channels). */
export function costTerms(layer: Layer): CostTerm[] {
  const r = ruleOf(layer);
  if (r?.cost) return r.cost(layer);
  const params = layer.trainableWeights.reduce((a, w) => a + size(w.shape), 0);
  return params ? [{ params, flops: 0, in: false, out: true }] : [];
}

/** How a layer's output channels derive from its inputs' (`ins`: element ids per input channel). */
export type ChannelMap = { kind: 'source' } | { kind: 'join' } | { kind: 'opaque'; why: string } | { kind: 'map'; out: Int32Array };

export function channelMap(layer: Layer, ins: Int32Array[]): ChannelMap {
  const r = ruleOf(layer);
  if (!r || r.role === 'other') return { kind: 'opaque', why: r?.why ?? 'does not keep channels one to one' };
  if (r.role === 'producer' || r.role === 'dense') return { kind: 'source' };
  if (r.keeps && !r.keeps(layer)) return { kind: 'opaque', why: r.why ?? 'does not keep channels one to one in this configuration' };
  if (r.role === 'join') return { kind: 'join' };
  if (r.role === 'concat') {
    const out = new Int32Array(ins.reduce((a, e) => a + e.length, 0));
    let off = 0;
    for (const e of ins) out.set(e, (off += e.length) - e.length);
    return { kind: 'map', out };
  }
  const x = ins[0];
  if (r.role === 'flatten') {
    // Flatten of [N, H, W, C]: row p*C + c is channel c at position p; global pooling: one row per channel
    const s = inShape(layer);
    const positions = layer.getClassName() === 'Flatten' ? s.slice(1, -1).reduce((a, b) => a * b, 1) : 1;
    const out = new Int32Array(positions * x.length);
    for (let p = 0; p < positions; p++) out.set(x, p * x.length);
    return { kind: 'map', out };
  }
  const m = r.expand?.(layer) ?? 1;
  if (m === 1) return { kind: 'map', out: x };
  const out = new Int32Array(x.length * m);
  for (let c = 0; c < x.length; c++) for (let j = 0; j < m; j++) out[c * m + j] = x[c];
  return { kind: 'map', out };
}

/**
 * The axis along which weight `index` of `layer` holds one value set per output channel (a
 * producer's kernel on its filter axis, its bias, a batch norm's vectors), or null when it does not.
 */
export function weightChannelAxis(layer: Layer, index: number): number | null {
  const rule = ruleOf(layer);
  const weights = layer.weights;
  const rank = weights[index].shape.length;
  if (rule?.filterAxis) {
    if (index === rule.filterAxis.weight) return rule.filterAxis.axis;
    // biases are the last weight and one value per filter
    return rank === 1 && index === weights.length - 1 ? 0 : null;
  }
  return rule?.normalization && rank === 1 ? 0 : null;
}

/** Every batch-norm scale (gamma) of the model, one array per batch norm that has them. */
export function bnScales(model: LayersModel): Float32Array[] {
  return model.weights.filter((w) => /\/gamma$/.test(w.originalName)).map((w) => w.read().dataSync() as Float32Array);
}
