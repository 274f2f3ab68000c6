/**
 * The coupling graph of a tfjs LayersModel for channel pruning (after Torch-Pruning's dependency
 * graph, Fang et al., CVPR 2023): which channels must be removed together, which layers' weights
 * follow each choice, and which channels must stay.
 *
 * Every layer output is described channel by channel: output channel i of layer L is an element,
 * and elements that must be removed together are joined (union-find). A producer (Conv2D,
 * SeparableConv2D, Conv2DTranspose, Dense) creates fresh elements, one per filter or unit;
 * channel-wise layers (BN, activations, pooling, padding, dropout) pass their input's elements on;
 * a depthwise conv with multiplier m repeats each input element m times; Flatten repeats them once
 * per spatial position; Concatenate lays its inputs' elements side by side; an element-wise join
 * (Add, Multiply, Average, Maximum, ...) joins its inputs' elements position by position, so every
 * conv feeding one ResNet stage's residual stream, and a squeeze-excitation branch's last conv,
 * land in one group with the channels they meet. A group (`PruningUnit`) is a connected set of
 * producers; its channels are the element classes, and removing channel c removes every element of
 * that class: a filter of each producer, the matching slices of every channel-wise layer, and the
 * matching input rows of every consumer (at their offsets inside a concatenation).
 *
 * A group stays whole, with a reason, when any of its elements reaches the model's output or input,
 * a frozen producer, a layer that is shared, or a layer whose channel semantics are unknown or mixed
 * (a softmax over channels, a batch norm over another axis, a reshape that moves channels): the rest
 * of the model is still pruned. The per-layer-type knowledge lives in src/models/layers.ts.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { channelMap, LAYER_RULES, Layer, ruleOf } from '../../models/layers.js';

/** A group of coupled channels, pruned as one (a single conv and its consumers is the common case). */
export interface PruningUnit {
  /** The group's key in reports and score files: its first producer in topological order. */
  conv: string;
  /** Channels of the group (the filters of a lone conv). */
  filters: number;
  /** Producers whose output channels are the group's, each with the group channel of each of its filters. */
  members: Array<{ layer: string; channels: number[] }>;
  /** Channel-wise layers whose channels are sliced with the group (BN, activations, pooling, joins, ...). */
  followers: string[];
  /** Layers whose input channels (or flattened rows) are sliced. */
  consumers: string[];
  /**
   * The layer whose output holds the group's channels once each, in group order: the producer for a
   * lone conv, the first join where coupled producers meet (a residual Add) otherwise. Activation
   * taps read here (then through BN / activation, taps.ts).
   */
  tap: string;
  /** The first layer consuming the tap's channels: a producer (for MI criteria), or the classifier. */
  consumer: string;
  consumerKind: 'conv' | 'dense-flatten' | 'dense-global' | 'dense' | 'none';
  /** Class of the consumer (Conv2D, SeparableConv2D, Conv2DTranspose, Dense). */
  consumerClass: string;
  /** For dense-flatten: spatial positions per channel (H*W before Flatten). */
  spatial: number;
  /** Pooling factor between the tap's output and the consumer's input lattice (for map alignment). */
  poolFactor: number;
}

/** A producer that pruning leaves intact, and why (reported by `prune` and in prune-report.json). */
export interface IntactConv {
  conv: string;
  reason: string;
}

export function consumersOf(model: LayersModel): Map<string, Layer[]> {
  const map = new Map<string, Layer[]>();
  for (const layer of model.layers) {
    for (const node of layer.inboundNodes) {
      for (const inbound of node.inboundLayers) {
        const list = map.get(inbound.name) ?? [];
        if (!list.includes(layer)) list.push(layer);
        map.set(inbound.name, list);
      }
    }
  }
  return map;
}

/** Layer types with no pruning rule: such a layer keeps its input channels and is listed, not refused. */
export function unsupportedLayers(model: LayersModel): string[] {
  return model.layers.filter((l) => !LAYER_RULES[l.getClassName()]).map((l) => `${l.name} (${l.getClassName()})`);
}

/** Channel layout of one layer output: group and group channel of each channel (-1: fixed). */
export interface ChannelLayout {
  unit: Int32Array;
  chan: Int32Array;
}

/** The analysed model: groups, what stays intact, and each layer's input/output channel layout. */
export interface ChannelGraph {
  /** Every group that can be pruned under the options given. */
  units: PruningUnit[];
  intact: IntactConv[];
  /** Layout of each layer's output (and, for layers that slice input channels, of their first input). */
  out: Map<string, ChannelLayout>;
  inp: Map<string, ChannelLayout>;
}

export interface GraphOptions {
  /**
   * false: groups with more than one producer (residual streams, squeeze-excitation) stay intact,
   * as before coupled groups existed (block-internal convs only). Default true.
   */
  coupled?: boolean;
}

class UnionFind {
  parent: number[] = [];
  add(): number {
    this.parent.push(this.parent.length);
    return this.parent.length - 1;
  }
  find(a: number): number {
    while (this.parent[a] !== a) a = this.parent[a] = this.parent[this.parent[a]];
    return a;
  }
  union(a: number, b: number): void {
    const x = this.find(a),
      y = this.find(b);
    if (x !== y) this.parent[Math.max(x, y)] = Math.min(x, y);
  }
}

const lastDim = (s: unknown): number => {
  const shape = (Array.isArray(s) && Array.isArray(s[0]) ? s[0] : s) as Array<number | null>;
  return shape[shape.length - 1] ?? 1;
};

/**
 * Analyses `model` (cached per model and options): its coupled channel groups, the producers left
 * intact and why, and each layer's channel layout (surgery and the cost model read these).
 */
export function channelGraph(model: LayersModel, o: GraphOptions = {}): ChannelGraph {
  const key = o.coupled === false ? 'internal' : 'coupled';
  let perModel = cache.get(model);
  if (!perModel) cache.set(model, (perModel = new Map()));
  const hit = perModel.get(key);
  if (hit && hit.layers === model.layers.length) return hit.graph;
  const graph = analyse(model, o);
  perModel.set(key, { layers: model.layers.length, graph });
  return graph;
}
const cache = new WeakMap<LayersModel, Map<string, { layers: number; graph: ChannelGraph }>>();

function analyse(model: LayersModel, o: GraphOptions): ChannelGraph {
  const el = new UnionFind();
  /** element -> source layer index (producers and opaque outputs create elements) */
  const sourceOf: number[] = [];
  /** source layer -> why its group must stay whole ('' when it may be pruned) */
  const pins = new Map<number, string>();
  const outEl = new Map<string, Int32Array>();
  const inEl = new Map<string, Int32Array>();
  const layers = model.layers;
  const index = new Map(layers.map((l, i) => [l.name, i]));
  const fresh = (src: number, n: number) => Int32Array.from({ length: n }, () => (sourceOf.push(src), el.add()));
  const pinned: Array<{ els: Int32Array; reason: string; layer?: string }> = [];
  const pin = (els: Int32Array | undefined, reason: string, layer?: string) => els && pinned.push({ els, reason, layer });
  const outputs = new Set(model.outputs.map((t) => t.sourceLayer.name));

  for (const [i, layer] of layers.entries()) {
    const cls = layer.getClassName();
    const rule = ruleOf(layer);
    // a Sequential model's input layer is not among model.layers: its channels are the model input
    const ins = layer.inboundNodes
      .flatMap((n) => n.inboundLayers)
      .map((l) => {
        let e = outEl.get(l.name);
        if (!e) {
          outEl.set(l.name, (e = fresh(-1 - i, lastDim(l.outputShape))));
          pin(e, 'its channels are the model input');
        }
        return e;
      });
    const C = lastDim(layer.outputShape);
    const opaque = (reason: string) => {
      for (const e of ins) pin(e, reason);
      const out = fresh(i, C);
      pins.set(i, reason);
      outEl.set(layer.name, out);
    };
    if (layer.inboundNodes.length > 1) {
      opaque(`${layer.name} is applied more than once (a shared layer)`);
      continue;
    }
    if (cls === 'InputLayer') {
      const out = fresh(i, C);
      pin(out, 'its channels are the model input');
      outEl.set(layer.name, out);
      continue;
    }
    if (!rule) {
      opaque(`its channels reach ${layer.name} (${cls}), a layer type pruning does not know`);
      continue;
    }
    const m = channelMap(layer, ins);
    if (m.kind === 'opaque') {
      opaque(`its channels reach ${layer.name} (${cls}), which ${m.why}`);
      continue;
    }
    if (m.kind === 'source') {
      inEl.set(layer.name, ins[0]);
      const out = fresh(i, C);
      if (!layer.trainable) pin(out, `frozen (trainable: false)`, layer.name);
      outEl.set(layer.name, out);
      continue;
    }
    if (m.kind === 'join') {
      const full = ins.filter((e) => e.length === C);
      for (const e of full.slice(1)) for (let c = 0; c < C; c++) el.union(full[0][c], e[c]);
      outEl.set(layer.name, full[0]);
      continue;
    }
    // a pure re-indexing of the input elements (identity, expansion, flatten, concatenation)
    outEl.set(layer.name, m.out);
    if (rule.slice) inEl.set(layer.name, ins[0]);
  }
  for (const l of outputs) pin(outEl.get(l), 'its channels are a model output');

  // groups: sources joined by any element they share
  const src = new UnionFind();
  const srcNode = new Map<number, number>();
  const nodeOf = (s: number) => {
    let n = srcNode.get(s);
    if (n === undefined) srcNode.set(s, (n = src.add()));
    return n;
  };
  const firstSrcOfClass = new Map<number, number>();
  for (let e = 0; e < sourceOf.length; e++) {
    const r = el.find(e);
    const s = nodeOf(sourceOf[e]);
    const f = firstSrcOfClass.get(r);
    if (f === undefined) firstSrcOfClass.set(r, s);
    else src.union(f, s);
  }
  const groupOfEl = (e: number) => src.find(nodeOf(sourceOf[e]));
  const groupReason = new Map<number, { reason: string; layer?: string }>();
  const why = (g: number, reason: string, layer?: string) => groupReason.has(g) || groupReason.set(g, { reason, layer });
  for (const { els, reason, layer } of pinned) for (const e of els) why(groupOfEl(e), reason, layer);
  for (const [s, reason] of pins) why(src.find(nodeOf(s)), reason);

  // per group: its producers, classes and the layer whose output holds its classes once each
  const producersOf = new Map<number, number[]>();
  for (const [i, layer] of layers.entries()) {
    const els = outEl.get(layer.name);
    if (!els?.length || !isSource(layer)) continue;
    const g = groupOfEl(els[0]);
    producersOf.set(g, [...(producersOf.get(g) ?? []), i]);
  }
  const consumers = consumersOf(model);
  const units: PruningUnit[] = [];
  const intact: IntactConv[] = [];
  const unitOfGroup = new Map<number, number>();
  const classIndex = new Map<number, Map<number, number>>();
  for (const [g, prods] of [...producersOf].sort((a, b) => a[1][0] - b[1][0])) {
    const names = prods.map((p) => layers[p].name);
    const classes = new Set<number>();
    for (const p of prods) for (const e of outEl.get(layers[p].name)!) classes.add(el.find(e));
    const pinnedBy = groupReason.get(g);
    let reason = pinnedBy?.reason;
    const tap = reason ? null : representative(layers, outEl, el, classes, prods, groupOfEl, g);
    if (!reason && !tap) reason = 'its channels never meet in one activation map';
    const coupledOnly = !reason && o.coupled === false && prods.length > 1;
    if (coupledOnly) reason = `coupled with ${names.slice(1).join(', ')} through ${tap}: pruned only with coupled groups`;
    if (reason) {
      for (const n of names) {
        let r = reason;
        if (pinnedBy?.layer && n !== pinnedBy.layer) r = `coupled with ${pinnedBy.layer}, which is ${reason}`;
        else if (coupledOnly && n !== names[0]) r = `coupled with ${names[0]}: pruned only with coupled groups`;
        intact.push({ conv: n, reason: r });
      }
      continue;
    }
    const order = new Map<number, number>();
    for (const e of outEl.get(tap!)!) if (!order.has(el.find(e))) order.set(el.find(e), order.size);
    classIndex.set(g, order);
    unitOfGroup.set(g, units.length);
    const members = prods.map((p) => ({
      layer: layers[p].name,
      channels: Array.from(outEl.get(layers[p].name)!, (e) => order.get(el.find(e))!),
    }));
    const followers: string[] = [],
      cons: string[] = [];
    for (const layer of layers) {
      if (names.includes(layer.name)) continue;
      const out = outEl.get(layer.name),
        inp = inEl.get(layer.name);
      if (isSource(layer) && inp?.some((e) => groupOfEl(e) === g)) cons.push(layer.name);
      else if (!isSource(layer) && out?.some((e) => groupOfEl(e) === g)) followers.push(layer.name);
    }
    units.push({
      conv: names[0],
      filters: order.size,
      members,
      followers,
      consumers: cons,
      tap: tap!,
      ...childOf(layers, consumers, tap!, index),
    });
  }
  // layouts: every layer output (and sliced input) as (unit, channel) per position
  const layout = (els: Int32Array): ChannelLayout => {
    const unit = new Int32Array(els.length),
      chan = new Int32Array(els.length);
    els.forEach((e, k) => {
      const g = groupOfEl(e);
      const u = unitOfGroup.get(g);
      unit[k] = u ?? -1;
      chan[k] = u === undefined ? -1 : classIndex.get(g)!.get(el.find(e))!;
    });
    return { unit, chan };
  };
  const out = new Map([...outEl].filter(([n]) => index.has(n)).map(([n, e]) => [n, layout(e)]));
  const inp = new Map([...inEl].map(([n, e]) => [n, layout(e)]));
  return { units, intact, out, inp };
}

function isSource(layer: Layer): boolean {
  const r = ruleOf(layer);
  return r?.role === 'producer' || r?.role === 'dense';
}

/**
 * Where a group's channels are read: a lone producer's own output; for coupled producers the first
 * join whose output holds every channel of the group once (a ResNet stage's first Add).
 */
function representative(
  layers: Layer[],
  outEl: Map<string, Int32Array>,
  el: UnionFind,
  classes: Set<number>,
  prods: number[],
  groupOfEl: (e: number) => number,
  g: number,
): string | null {
  const covers = (name: string) => {
    const e = outEl.get(name);
    if (!e || e.length !== classes.size || !e.every((x) => groupOfEl(x) === g)) return false;
    return new Set(Array.from(e, (x) => el.find(x))).size === classes.size;
  };
  if (prods.length === 1) return covers(layers[prods[0]].name) ? layers[prods[0]].name : null;
  const joins = layers.filter((l) => ruleOf(l)?.role === 'join' && covers(l.name));
  if (joins.length) return joins[0].name;
  return layers.find((l) => covers(l.name))?.name ?? null;
}

/** The first consumer of the tap's channels, through channel-wise layers, joins and concatenations. */
function childOf(
  layers: Layer[],
  consumers: Map<string, Layer[]>,
  tap: string,
  index: Map<string, number>,
): Pick<PruningUnit, 'consumer' | 'consumerKind' | 'consumerClass' | 'spatial' | 'poolFactor'> {
  const seen = new Set<string>([tap]);
  let frontier = [tap];
  const found: Array<{ layer: Layer; via: Layer; flatten: Layer | null }> = [];
  const flat = new Map<string, Layer | null>([[tap, null]]);
  const via = new Map<string, Layer>([[tap, layers[index.get(tap)!]]]);
  while (frontier.length && !found.length) {
    const next: string[] = [];
    for (const name of frontier) {
      for (const c of consumers.get(name) ?? []) {
        if (seen.has(c.name)) continue;
        seen.add(c.name);
        const role = ruleOf(c)?.role;
        if (role === 'producer' || role === 'dense') found.push({ layer: c, via: via.get(name)!, flatten: flat.get(name) ?? null });
        else if (role === 'channelwise' || role === 'join' || role === 'concat' || role === 'flatten') {
          next.push(c.name);
          flat.set(c.name, role === 'flatten' ? c : (flat.get(name) ?? null));
          // the last layer before any flatten: its lattice is what the consumer sees
          via.set(c.name, role === 'flatten' || flat.get(name) ? via.get(name)! : c);
        }
      }
    }
    frontier = next;
  }
  if (!found.length) return { consumer: '', consumerKind: 'none', consumerClass: '', spatial: 1, poolFactor: 1 };
  found.sort((a, b) => index.get(a.layer.name)! - index.get(b.layer.name)!);
  const { layer: c, via: last, flatten } = found[0];
  const tapShape = layers[index.get(tap)!].outputShape as number[];
  const lastShape = last.outputShape as number[];
  const base = { consumer: c.name, consumerClass: c.getClassName() };
  if (tapShape.length !== 4) return { ...base, consumerKind: 'dense', spatial: 1, poolFactor: 1 };
  const poolFactor = Math.max(1, Math.round(tapShape[1] / lastShape[1]));
  if (ruleOf(c)?.role === 'producer') return { ...base, consumerKind: 'conv', spatial: 1, poolFactor };
  const isFlatten = flatten?.getClassName() === 'Flatten';
  return {
    ...base,
    consumerKind: isFlatten ? 'dense-flatten' : 'dense-global',
    spatial: isFlatten ? lastShape[1] * lastShape[2] : 1,
    poolFactor,
  };
}

/** The prunable groups of `model`; producers left whole are appended to `intact` with a reason. */
export function pruningUnits(model: LayersModel, intact: IntactConv[] = [], o: GraphOptions = {}): PruningUnit[] {
  const g = channelGraph(model, o);
  intact.push(...g.intact);
  return g.units;
}
