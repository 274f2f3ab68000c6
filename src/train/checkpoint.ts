/**
 * Training checkpoints: model (tfjs format), optimizer velocity, RNG state, epoch and history,
 * written to a fresh directory and swapped in by renames, so a crash never leaves a half-written
 * checkpoint and the previous one survives until the new one is complete.
 */
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { loadModel, saveModel } from '../models/io.js';
import { writeFileAtomic } from '../util/atomic.js';

import type { OutputHead } from '../models/logits.js';
import { readJsonFile } from '../util/jsonl.js';

export interface TrainState {
  epoch: number; // epochs completed
  rngState: number;
  step: number;
  bestValAcc: number;
  bestEpoch: number;
  /** the softmax set aside for training on logits, put back on every saved model (models/logits.ts) */
  head?: OutputHead | null;
}

export interface OptimizerState {
  name: string;
  shape: number[];
  values: Float32Array;
}

export async function saveCheckpoint(dir: string, model: LayersModel, opt: OptimizerState[], state: TrainState): Promise<void> {
  const fresh = `${dir}.new`,
    old = `${dir}.old`;
  rmSync(fresh, { recursive: true, force: true });
  await saveModel(model, fresh);
  const manifest = opt.map(({ name, shape }) => ({ name, shape }));
  const bytes = new Uint8Array(opt.reduce((a, o) => a + o.values.byteLength, 0));
  let off = 0;
  for (const o of opt) {
    bytes.set(new Uint8Array(o.values.buffer, o.values.byteOffset, o.values.byteLength), off);
    off += o.values.byteLength;
  }
  writeFileAtomic(join(fresh, 'optimizer.bin'), bytes);
  writeFileAtomic(join(fresh, 'state.json'), JSON.stringify({ ...state, optimizer: manifest }, null, 1));
  rmSync(old, { recursive: true, force: true });
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(fresh, dir);
  rmSync(old, { recursive: true, force: true });
}

export async function loadCheckpoint(dir: string): Promise<{ model: LayersModel; opt: OptimizerState[]; state: TrainState } | null> {
  const use = existsSync(join(dir, 'state.json')) ? dir : existsSync(join(`${dir}.old`, 'state.json')) ? `${dir}.old` : null;
  if (!use) return null;
  const raw = readJsonFile(join(use, 'state.json')) as TrainState & {
    optimizer: Array<{ name: string; shape: number[] }>;
  };
  const bin = readFileSync(join(use, 'optimizer.bin'));
  const floats = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
  let off = 0;
  const opt = raw.optimizer.map(({ name, shape }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = floats.slice(off, off + n);
    off += n;
    return { name, shape, values };
  });
  if (off !== floats.length) throw new Error(`checkpoint ${use} is corrupt (optimizer state size mismatch); delete it to restart`);
  const { epoch, rngState, step, bestValAcc, bestEpoch, head } = raw;
  return { model: await loadModel(use), opt, state: { epoch, rngState, step, bestValAcc, bestEpoch, ...(head ? { head } : {}) } };
}
