/**
 * Saving and loading tfjs LayersModels as the standard tfjs format (model.json + weights.bin), so
 * `tf.loadLayersModel('https://.../model.json')` loads them in a browser. Node has no file://
 * handler without tfjs-node, so these are small custom IOHandlers. Writes are atomic (temp + rename).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { writeFileAtomic } from '../util/atomic.js';

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

/** Loads a model saved by saveModel (or any single-shard tfjs layers model) from a directory or model.json path. */
export async function loadModel(pathOrDir: string): Promise<tfl.LayersModel> {
  const jsonPath = pathOrDir.endsWith('.json') ? pathOrDir : join(pathOrDir, MODEL_JSON);
  const dir = jsonPath.slice(0, jsonPath.lastIndexOf('/') + 1) || './';
  if (!existsSync(jsonPath))
    throw new Error(`no model at ${jsonPath}: pass a directory written by auraprune (train/prune) or a model.json path`);
  let json: { modelTopology?: unknown; weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }> };
  try {
    json = JSON.parse(readFileSync(jsonPath, 'utf8'));
  } catch (e) {
    throw new Error(`${jsonPath} is not valid JSON (${(e as Error).message}): the model file is corrupt; re-export or retrain it`, {
      cause: e,
    });
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest))
    throw new Error(`${jsonPath} is not a tfjs layers model (no modelTopology/weightsManifest)`);
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const parts = json.weightsManifest
    .flatMap((g) => g.paths)
    .map((p) => {
      const f = join(dir, p);
      if (!existsSync(f)) throw new Error(`weights file ${f} named by ${jsonPath} is missing`);
      return readFileSync(f);
    });
  const data = concat(parts.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer));
  const expected = specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1) * 4, 0);
  if (data.byteLength !== expected)
    throw new Error(
      `weights of ${jsonPath} hold ${data.byteLength} bytes, the manifest needs ${expected}: the model files are truncated or corrupt`,
    );
  return tfl.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology as object, weightSpecs: specs, weightData: data.buffer as ArrayBuffer }),
  );
}
