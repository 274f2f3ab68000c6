/**
 * `bench mi --model` on a small untrained airbench: one row per layer pair with a child, every
 * estimator timed, the update count equal to the lattice's neighbour pairs, and the default sampling
 * exact (Spearman 1) wherever the lattice has at most 256 neighbour pairs per image.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setFallbackLogger, useBestBackend } from '../src/engine/backend/index.js';
import { buildAirbench } from '../src/models/airbench.js';
import { saveModel } from '../src/models/io.js';
import { benchMiOnModel } from '../src/cli/bench/mi.js';
import { CIFAR_DIR, NEEDS_CIFAR } from './helpers/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'auraprune-benchmi-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
});

test('bench mi --model: every layer pair, every estimator, sampling exact on small lattices', NEEDS_CIFAR, async () => {
  const dir = join(tmp, 'm');
  const net = buildAirbench({ width: 0.125, seed: 2 });
  // as in a trained base: the data-derived whitening filters are frozen, so not pruned
  net.getLayer('whiten').trainable = false;
  await saveModel(net, dir);
  const r = (await benchMiOnModel(dir, { perClass: 3, levels: 8, seed: 1, data: CIFAR_DIR, mintPairs: 2, edges: [0.5], ts: true })) as {
    images: number;
    pairs: Array<{ lattice: string; filters: [number, number]; updates: number; spearman: Record<string, number>; aura_ts_s: number }>;
    whole_model_s: Record<string, number>;
  };
  assert.equal(r.images, 30);
  // airbench: six convs in three blocks, so five parent -> child pairs (the last conv scores against the label)
  assert.equal(r.pairs.length, 5);
  for (const p of r.pairs) {
    const [h, w] = p.lattice.split('x').map(Number);
    const edges = h * (w - 1) + (h - 1) * w;
    assert.equal(p.updates, 2 * p.filters[0] * p.filters[1] * 30 * edges, p.lattice);
    assert.ok(p.aura_ts_s >= 0);
    if (edges <= 256) assert.equal(p.spearman['256'], 1, `${p.lattice}: ${edges} pairs per image are counted exactly`);
    // sampled (420 pairs on 15x15): agreement with exact is measured, not fixed, on an untrained net
    else assert.ok(Math.abs(p.spearman['256']) <= 1, `${p.lattice}: sampled`);
  }
  for (const k of ['aura_exact_native', 'aura_edges_256', 'aura_edges_0.5', 'mint_g8', 'aura_descriptor'])
    assert.ok(r.whole_model_s[k] >= 0, k);
});
