import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../util/rng.js';
import { auraWork, parallelSpatialMIMatrix } from './parallel.js';
import { LabelStack, spatialMIMatrix } from './spatial_mi.js';

function stack(rng: Rng, channels: number, n: number, h: number, G = 4): LabelStack {
  return { labels: Uint8Array.from({ length: channels * n * h * h }, () => rng.int(G)), channels, n, h, w: h, levels: G };
}

test('worker-thread aura MI matrix equals the single-threaded one exactly', async () => {
  const rng = new Rng(1);
  const X = stack(rng, 5, 6, 8),
    Y = stack(rng, 3, 6, 8);
  const one = spatialMIMatrix(X, Y, { neighbourhood: '8' });
  const par = await parallelSpatialMIMatrix(X, Y, { neighbourhood: '8', threads: 2, minWork: 0 });
  assert.deepEqual(Array.from(par.mi), Array.from(one.mi));
  assert.equal(par.updates, one.updates);
  assert.equal(auraWork(X, Y, { neighbourhood: '8' }), one.updates);
});
