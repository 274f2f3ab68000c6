/** Stability rows from cached score files: layer means within a seed, a t interval over seeds. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tQuantile } from '../eval/bootstrap.js';
import { restabilise, stabilityFromScores } from './study.js';

const out = mkdtempSync(join(tmpdir(), 'auraprune-stability-'));
after(() => rmSync(out, { recursive: true, force: true }));
mkdirSync(join(out, 'scores'));
const put = (name: string, layers: number[][]) =>
  writeFileSync(
    join(out, 'scores', name),
    JSON.stringify({ criterion: 'aura', units: layers.map((scores, i) => ({ conv: `c${i}`, filters: scores.length, scores })) }),
  );
const up = [1, 2, 3, 4],
  down = [4, 3, 2, 1];
// seed 1: layer 0 ranks the same on both samples (Spearman 1, top-half overlap 1), layer 1 reversed
// (-1, 0): seed means 0 and 0.5. Seeds 2 and 3: both layers the same: 1 and 1.
put('aura-s1-stabA50.json', [up, up]);
put('aura-s1-stabB50.json', [up, down]);
put('aura-s2-stabA50.json', [up, up]);
put('aura-s2-stabB50.json', [up, up]);
put('aura-s3-stabA50.json', [up, down]);
put('aura-s3-stabB50.json', [up, down]);

test('each seed averages its layers; the interval is t over the seed means (hand-computed)', () => {
  const r = stabilityFromScores(out, 'aura', 50, { kind: 'disjoint', param: 50 }, [1, 2, 3])!;
  assert.deepEqual(r.perSeed, { spearman: [0, 1, 1], topHalf: [0.5, 1, 1] });
  // seed means 0, 1, 1: mean 2/3, sd sqrt(1/3), half-width t(0.975, 2) * sd / sqrt(3)
  const h = (tQuantile(0.975, 2) * Math.sqrt(1 / 3)) / Math.sqrt(3);
  assert.ok(Math.abs(r.spearman.mean - 2 / 3) < 1e-12 && Math.abs(r.spearman.lo - (2 / 3 - h)) < 1e-9, JSON.stringify(r.spearman));
  assert.equal(r.spearman.hi, 1, 'cut at the largest Spearman there is (2/3 + h > 1)');
  assert.equal(r.topHalf.hi, 1);
  assert.equal(r.spearman.n, 3, 'n counts seeds, not (seed, layer) values');
  assert.equal(stabilityFromScores(out, 'aura', 50, { kind: 'disjoint', param: 50 }, [1, 2, 4]), null, 'a missing seed: no row');
});

test('restabilise brings a pooled-bootstrap row of an older run up to date and keeps rows without files', () => {
  const old = { mean: 0.6, lo: 0.55, hi: 0.65, n: 8 };
  writeFileSync(
    join(out, 'stability.json'),
    JSON.stringify([
      { variant: 'aura', kind: 'disjoint', param: 50, spearman: old, topHalf: old },
      { variant: 'l1', kind: 'noise', param: 0.1, spearman: old, topHalf: old },
    ]),
  );
  const rows = restabilise(out, { perClass: 50 }, [1, 2]);
  assert.equal(rows[0].spearman.n, 2);
  assert.deepEqual(rows[0].perSeed!.spearman, [0, 1]);
  assert.deepEqual(rows[1].spearman, old, 'no score files for l1: the row stays as recorded');
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'stability.json'), 'utf8')), rows, 'written back');
});
