/**
 * Saving and loading tfjs LayersModels as the standard tfjs format (model.json + weights.bin), so
 * `tf.loadLayersModel('https://.../model.json')` loads them in a browser. Node has no file://
 * handler without tfjs-node, so these are small custom IOHandlers. Writes are atomic (temp + rename).
 */
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, dirname, join, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { writeFileAtomic } from '../util/atomic.js';
import './tfjs_fixes.js';
import { LAYER_RULES } from './layers.js';
import type { DataInfo } from '../data/dataset.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

function concat(data: ArrayBuffer | ArrayBuffer[]): Uint8Array {
  if (!Array.isArray(data)) return new Uint8Array(data);
  const out = new Uint8Array(data.reduce((a, b) => a + b.byteLength, 0));
  let o = 0;
  for (const b of data) {
    out.set(new Uint8Array(b), o);
    o += b.byteLength;
  }
  return out;
}

/** Saves `model` into `dir` (created) as model.json + weights.bin; returns the artifact sizes. */
export async function saveModel(model: tfl.LayersModel, dir: string, metadata?: Record<string, unknown>): Promise<{ bytes: number }> {
  mkdirSync(dir, { recursive: true });
  let bytes = 0;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const weights = concat(a.weightData as ArrayBuffer | ArrayBuffer[]);
      const json = {
        modelTopology: a.modelTopology,
        format: 'layers-model',
        generatedBy: `auraprune with TensorFlow.js tfjs-layers ${tfl.version_layers}`,
        convertedBy: null,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: a.weightSpecs }],
        ...(metadata ? { userDefinedMetadata: metadata } : {}),
      };
      // weights first: a model.json never points at weights that are not fully written
      writeFileAtomic(join(dir, WEIGHTS_BIN), weights);
      const text = JSON.stringify(json);
      writeFileAtomic(join(dir, MODEL_JSON), text);
      bytes = weights.byteLength + text.length;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
    }),
  );
  return { bytes };
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };
/** Largest model we load: far beyond any CIFAR CNN, small enough to never exhaust memory. */
export const MAX_WEIGHT_BYTES = 2 ** 31;

/**
 * Resolves a weights path named by an untrusted model.json: a plain file name (no separators, no
 * '..', not absolute) naming a regular file inside the model directory (after symlinks). Throws a
 * one-line error naming the model file otherwise.
 */
function weightsFile(dir: string, name: unknown, jsonPath: string): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || name.includes('..'))
    throw new Error(
      `${jsonPath} names weights file ${JSON.stringify(name)}: only plain file names inside the model directory are accepted`,
    );
  const f = join(dir, name);
  if (!existsSync(f)) throw new Error(`weights file ${f} named by ${jsonPath} is missing`);
  const real = realpathSync(f),
    realDir = realpathSync(dir);
  if (!real.startsWith(realDir + sep) || lstatSync(real).isSymbolicLink() || !statSync(real).isFile())
    throw new Error(`weights file ${f} named by ${jsonPath} is not a regular file inside ${dir}; refusing to read it`);
  return real;
}

/** Byte size of a weight spec, validated (positive integer dims, known dtype, bounded size). */
function specBytes(s: tf.io.WeightsManifestEntry, jsonPath: string): number {
  const per = DTYPE_BYTES[s.dtype ?? 'float32'];
  if (!per || !Array.isArray(s.shape) || !s.shape.every((d) => Number.isInteger(d) && d >= 0) || s.quantization)
    throw new Error(`${jsonPath}: weight ${s.name} has an unsupported spec (dtype ${s.dtype}, shape ${JSON.stringify(s.shape)})`);
  const n = s.shape.reduce((x, y) => x * y, 1) * per;
  if (!(n <= MAX_WEIGHT_BYTES)) throw new Error(`${jsonPath}: weight ${s.name} declares ${n} bytes, more than this tool loads`);
  return n;
}

/** Largest model.json read: a topology is far smaller (weights live in their own files). */
const MAX_JSON_BYTES = 64 * 2 ** 20;

/**
 * model.json as text: a regular file inside the model directory (a link may point only inside it),
 * opened once and read with a byte cap that does not trust the size the file system reports (a FIFO
 * or a device reports 0 and never ends).
 */
function readModelJson(jsonPath: string, dir: string): string {
  const realDir = realpathSync(dir);
  const real = realpathSync(jsonPath);
  if (real !== join(realDir, basename(real)) && !real.startsWith(realDir + sep))
    throw new Error(`${jsonPath} is a link to ${real}, outside the model directory ${dir}; refusing to read it`);
  const fd = openSync(real, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!fstatSync(fd).isFile()) throw new Error(`${jsonPath} is not a regular file; give a model.json file`);
    const chunks: Buffer[] = [];
    let n = 0;
    for (;;) {
      const chunk = Buffer.alloc(2 ** 20);
      const r = readSync(fd, chunk, 0, chunk.length, null);
      if (r <= 0) break;
      chunks.push(chunk.subarray(0, r));
      if ((n += r) > MAX_JSON_BYTES) throw new Error(`${jsonPath} is larger than 64 MB; a model topology is far smaller`);
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Layer types a model may hold: the pruning table's, plus a few weightless or checked ones. */
const LOADABLE = new Set([...Object.keys(LAYER_RULES), 'LayerNormalization', 'Embedding', 'Permute', 'RepeatVector', 'Masking']);

/** Largest activation of one example any layer may produce (values): 2^27, 512 MB of float32. */
export const MAX_ACTIVATION_VALUES = 2 ** 27;

/** Largest input we build a model for (values per image): 16 M, e.g. 2048 x 2048 x 4. */
export const MAX_INPUT_VALUES = 2 ** 24;

interface LayerJson {
  class_name?: string;
  config?: Record<string, unknown> & { layers?: LayerJson[]; name?: string };
}

/**
 * Checks an untrusted topology against its weights manifest before any layer is built: building
 * allocates every weight at the size the topology declares, so a topology declaring Dense(200000)
 * beside a 56-byte weights file would allocate gigabytes before the mismatch surfaced. Every
 * dimension a layer's config fixes (units, filters, kernel size) must match the manifest's shape of
 * that layer's kernel, and declared input shapes are bounded. A separable conv saved without its
 * depth multiplier (plain tfjs drops it) gets it back from its depthwise kernel's shape.
 */
export function checkTopology(topology: unknown, specs: tf.io.WeightsManifestEntry[], jsonPath: string): void {
  const shapes = new Map<string, number[][]>();
  for (const s of specs) {
    const parts = s.name.split('/');
    const layer = parts.length > 1 ? parts[parts.length - 2] : s.name;
    shapes.set(layer, [...(shapes.get(layer) ?? []), s.shape as number[]]);
  }
  const pair = (v: unknown): [number, number] | null =>
    typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number') ? [v[0], v[1]] : null;
  const visit = (l: LayerJson) => {
    const c = l.config ?? {};
    if (Array.isArray(c.layers)) c.layers.forEach(visit);
    const name = String(c.name ?? '?');
    const cls = l.class_name ?? '?';
    const have = shapes.get(name) ?? [];
    // building allocates every weight a layer declares: only types whose weights are checked here, or have none
    if (!Array.isArray(c.layers) && !LOADABLE.has(cls))
      throw new Error(
        `${jsonPath}: layer ${name} is a ${cls}, not a layer type auraprune loads (convolutional networks: ${[...LOADABLE].sort().join(', ')})`,
      );
    if (cls === 'UpSampling2D') {
      const size = pair(c.size) ?? [2, 2];
      if (!size.every((v) => Number.isInteger(v) && v >= 1 && v <= 64))
        throw new Error(`${jsonPath}: layer ${name} (UpSampling2D) scales by ${JSON.stringify(c.size)}; at most 64 per axis is loaded`);
    }
    const refuse = (what: string) => {
      throw new Error(
        `${jsonPath}: layer ${name} (${cls}) declares ${what}, which its weights manifest does not hold (${have.map((x) => JSON.stringify(x)).join(', ') || 'no weights'}); the topology and the weights do not belong together`,
      );
    };
    const shapeIn = c.batch_input_shape ?? c.batchInputShape ?? c.input_shape;
    if (Array.isArray(shapeIn)) {
      const dims = shapeIn.filter((d) => d !== null);
      if (
        !dims.every((d) => Number.isInteger(d) && (d as number) > 0) ||
        dims.reduce((a: number, d) => a * (d as number), 1) > MAX_INPUT_VALUES
      )
        throw new Error(
          `${jsonPath}: layer ${name} declares input shape ${JSON.stringify(shapeIn)}; more than ${MAX_INPUT_VALUES} values per example or not positive integers`,
        );
    }
    const k = pair(c.kernel_size);
    if (cls === 'Dense') {
      if (!have.some((s) => s.length === 2 && s[1] === c.units)) refuse(`${c.units} units`);
    } else if (cls === 'Conv2D' || cls === 'Conv2DTranspose') {
      const at = cls === 'Conv2D' ? 3 : 2;
      if (!k || !have.some((s) => s.length === 4 && s[0] === k[0] && s[1] === k[1] && s[at] === c.filters))
        refuse(`${c.filters} filters of size ${JSON.stringify(c.kernel_size)}`);
    } else if (cls === 'DepthwiseConv2D') {
      if (!k || !have.some((s) => s.length === 4 && s[0] === k[0] && s[1] === k[1] && s[3] === (c.depth_multiplier ?? 1)))
        refuse(`a ${JSON.stringify(c.kernel_size)} depthwise kernel`);
    } else if (cls === 'SeparableConv2D') {
      const dw = specs.find((x) => x.name.endsWith(`${name}/depthwise_kernel`))?.shape as number[] | undefined;
      if (dw?.length === 4 && dw[3] !== (c.depth_multiplier ?? 1)) {
        // plain tfjs 4.x saves separable convs without their depth multiplier: the weights say what it is
        if (c.depth_multiplier === undefined) c.depth_multiplier = dw[3];
        else
          throw new Error(
            `${jsonPath}: layer ${name} (SeparableConv2D) declares depth_multiplier ${c.depth_multiplier} but its depthwise kernel has shape ${JSON.stringify(dw)} (multiplier ${dw[3]}); set "depth_multiplier": ${dw[3]} in its config`,
          );
      }
      if (
        !k ||
        !have.some((s) => s.length === 4 && s[0] === k[0] && s[1] === k[1]) ||
        !have.some((s) => s.length === 4 && s[0] === 1 && s[3] === c.filters)
      )
        refuse(`${c.filters} filters of size ${JSON.stringify(c.kernel_size)}`);
    } else if (cls === 'BatchNormalization') {
      if (!have.length) refuse('batch-norm statistics');
      const n = have[0][0];
      if (!have.every((s) => s.length === 1 && s[0] === n)) refuse('per-channel vectors of one length');
    } else if (cls === 'Embedding') {
      if (!have.some((s) => s.length === 2 && s[0] === c.input_dim && s[1] === c.output_dim))
        refuse(`a ${c.input_dim} x ${c.output_dim} table`);
    }
  };
  const root = topology as LayerJson & { model_config?: LayerJson };
  visit(root.model_config ?? root);
}

/**
 * Loads a model saved by saveModel (or any tfjs layers model whose weights are float32/int32 files
 * in its directory) from a directory or model.json path. Model directories are treated as untrusted:
 * weights paths must be plain names inside the directory, file sizes are checked against the
 * manifest before anything is read, reads are bounded by the declared size, and non-finite weights
 * are refused with their names.
 */
export async function loadModel(pathOrDir: string): Promise<tfl.LayersModel> {
  const jsonPath = pathOrDir.endsWith('.json') ? pathOrDir : join(pathOrDir, MODEL_JSON);
  const dir = dirname(jsonPath);
  if (!existsSync(jsonPath))
    throw new Error(`no model at ${jsonPath}: pass a directory written by auraprune (train/prune) or a model.json path`);
  const text = readModelJson(jsonPath, dir);
  let json: { modelTopology?: unknown; weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }> };
  try {
    json = JSON.parse(text);
  } catch (e) {
    // the parser's message quotes the file's first bytes: say where it failed, not what it holds
    const at = /position (\d+)/.exec((e as Error).message)?.[1];
    throw new Error(`${jsonPath} is not valid JSON${at ? ` (at byte ${at})` : ''}: the model file is corrupt; re-export or retrain it`, {
      cause: e,
    });
  }
  if (
    !json.modelTopology ||
    !Array.isArray(json.weightsManifest) ||
    !json.weightsManifest.every((g) => Array.isArray(g?.paths) && Array.isArray(g?.weights))
  )
    throw new Error(`${jsonPath} is not a tfjs layers model (no modelTopology/weightsManifest)`);
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const expected = specs.reduce((a, s) => a + specBytes(s, jsonPath), 0);
  if (expected > MAX_WEIGHT_BYTES) throw new Error(`${jsonPath} declares ${expected} bytes of weights, more than this tool loads`);
  checkTopology(json.modelTopology, specs, jsonPath);
  const files = json.weightsManifest.flatMap((g) => g.paths).map((p) => weightsFile(dir, p, jsonPath));
  const sizes = files.map((f) => statSync(f).size);
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total !== expected)
    throw new Error(`weights of ${jsonPath} hold ${total} bytes, the manifest needs ${expected}: the model files are truncated or corrupt`);
  // read exactly the declared bytes (a file growing meanwhile cannot make us read more)
  const data = new Uint8Array(expected);
  let off = 0;
  files.forEach((f, i) => {
    const fd = openSync(f, 'r');
    try {
      let got = 0;
      while (got < sizes[i]) {
        const r = readSync(fd, data, off + got, sizes[i] - got, got);
        if (r <= 0) throw new Error(`weights file ${f} named by ${jsonPath} changed while being read`);
        got += r;
      }
    } finally {
      closeSync(fd);
    }
    off += sizes[i];
  });
  // non-finite weights make every downstream number meaningless: name them
  let at = 0;
  for (const s of specs) {
    const n = specBytes(s, jsonPath);
    if ((s.dtype ?? 'float32') === 'float32') {
      const v = new Float32Array(data.buffer, at, n / 4);
      let bad = 0;
      for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) bad++;
      if (bad) throw new Error(`${jsonPath}: weight ${s.name} holds ${bad} NaN/Inf values; the model diverged or is corrupt`);
    }
    at += n;
  }
  const model = await tfl.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology as object, weightSpecs: specs, weightData: data.buffer as ArrayBuffer }),
  );
  // shapes are known once built (no activation is allocated yet): a layer whose output for one example
  // would take more than the budget (a huge upsampling, a giant input) is refused before any forward pass
  for (const l of model.layers) {
    const shapes = (Array.isArray((l.outputShape as unknown[])[0]) ? l.outputShape : [l.outputShape]) as Array<Array<number | null>>;
    for (const sh of shapes) {
      const n = sh.slice(1).reduce((a: number, d) => a * (d ?? 1), 1);
      if (n > MAX_ACTIVATION_VALUES) {
        model.dispose();
        throw new Error(
          `${jsonPath}: layer ${l.name} (${l.getClassName()}) outputs ${JSON.stringify(sh.slice(1))} = ${n} values per example, more than the ${MAX_ACTIVATION_VALUES} this tool runs`,
        );
      }
    }
  }
  return model;
}

/** Refuses a model whose input is not one image (N x H x W x C, channels last), naming the source. */
export function checkImageInput(model: tfl.LayersModel, source: string): void {
  const shape = model.inputs.length === 1 ? model.inputs[0].shape : null;
  if (!shape || shape.length !== 4 || (shape[3] ?? 0) < 1)
    throw new Error(
      `${source}: the model takes inputs of shape ${JSON.stringify(model.inputs.map((i) => i.shape.slice(1)))}; auraprune feeds one image per example (height, width, channels last): give the model one [H, W, C] input`,
    );
}

/** The model's input image shape [h, w, c]; a free (null) height or width is taken from `data`. */
export function inputShape(model: tfl.LayersModel, data?: [number, number, number]): [number, number, number] {
  const s = model.inputs[0].shape;
  return [s[1] ?? data?.[0] ?? NaN, s[2] ?? data?.[1] ?? NaN, s[3] ?? data?.[2] ?? NaN];
}

/** Units of the model's (single) output: its class count. */
export function outputUnits(model: tfl.LayersModel): number {
  const s = model.outputs[0].shape;
  return s[s.length - 1] ?? NaN;
}

/**
 * Refuses a model that does not take the data set's images or predict its classes: one line naming
 * both shapes and the fix (`--resize HxW` for a size mismatch).
 */
export function checkModelFitsData(model: tfl.LayersModel, info: DataInfo, source: string): void {
  const s = model.inputs[0].shape;
  const [h, w, c] = info.shape;
  const fits = (d: number | null, v: number) => d === null || d === v;
  if (!fits(s[3], c))
    throw new Error(
      `${source}: the model takes ${s[3]}-channel images [${s.slice(1).join(', ')}] but ${info.name} has ${c}-channel images [${info.shape.join(', ')}]; give a model for ${c} channel(s) or data with ${s[3]}`,
    );
  if (!fits(s[1], h) || !fits(s[2], w))
    throw new Error(
      `${source}: the model takes [${s.slice(1).join(', ')}] images but ${info.name} has [${info.shape.join(', ')}]; pass --resize ${s[1]}x${s[2]} to resize the data to the model's input`,
    );
  const k = outputUnits(model);
  if (k !== info.classNames.length)
    throw new Error(
      `${source}: the model predicts ${k} classes but ${info.name} has ${info.classNames.length}; give a model with ${info.classNames.length} outputs (train one with --data)`,
    );
}

/** loadModel plus the image-input check; with `info`, also the data set check (checkModelFitsData). */
export async function loadImageModel(pathOrDir: string, info?: DataInfo): Promise<tfl.LayersModel> {
  const m = await loadModel(pathOrDir);
  checkImageInput(m, pathOrDir);
  if (info) checkModelFitsData(m, info, pathOrDir);
  return m;
}

/** sha256 (16 hex digits) of a model directory's model.json and weights files, for run settings. */
export function modelFingerprint(pathOrDir: string): string {
  const jsonPath = pathOrDir.endsWith('.json') ? pathOrDir : join(pathOrDir, MODEL_JSON);
  const h = createHash('sha256').update(readFileSync(jsonPath));
  const json = JSON.parse(readFileSync(jsonPath, 'utf8')) as { weightsManifest?: Array<{ paths: string[] }> };
  for (const p of (json.weightsManifest ?? []).flatMap((g) => g.paths)) h.update(readFileSync(weightsFile(dirname(jsonPath), p, jsonPath)));
  return h.digest('hex').slice(0, 16);
}
