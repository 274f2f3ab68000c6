/** Worker body for parallelSpatialMIMatrix: computes the rows it is given. */
import { parentPort, workerData } from 'node:worker_threads';
import { spatialMIMatrix, LabelStack } from './spatial_mi.js';
import type { AuraOptions } from './aura.js';
import type { EdgeSampling } from './spatial_mi.js';

const { X, Y, rows, opts } = workerData as { X: LabelStack; Y: LabelStack; rows: number[]; opts: AuraOptions & EdgeSampling };
const { mi, updates } = spatialMIMatrix(X, Y, { ...opts, rows });
const out = new Float64Array(rows.length * Y.channels);
rows.forEach((r, k) => out.set(mi.subarray(r * Y.channels, (r + 1) * Y.channels), k * Y.channels));
parentPort!.postMessage({ out, updates }, [out.buffer]);
