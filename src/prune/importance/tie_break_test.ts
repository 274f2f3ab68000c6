import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../util/rng.js';
import { breakTies } from './types.js';
import { mintImportance } from './mint.js';

const order = (s: Float64Array) => Array.from(s.keys()).sort((a, b) => s[a] - s[b]);

test('breakTies keeps the order of distinct scores and orders tied filters by the seed, not by index', () => {
  // filters 0-3 tie at 1, 4-7 tie at 2, filter 8 is alone at 1.5 (smallest gap 0.5)
  const raw = Float64Array.from([1, 1, 1, 1, 2, 2, 2, 2, 1.5]);
  const orders = new Set<string>();
  for (let seed = 1; seed <= 20; seed++) {
    const { scores, distinct } = breakTies(raw, new Rng(seed));
    assert.equal(distinct, 3);
    const o = order(scores);
    // by hand: the four 1s, then filter 8, then the four 2s, whatever the seed
    assert.deepEqual(new Set(o.slice(0, 4)), new Set([0, 1, 2, 3]));
    assert.equal(o[4], 8);
    assert.deepEqual(new Set(o.slice(5)), new Set([4, 5, 6, 7]));
    for (let i = 0; i < raw.length; i++) assert.ok(scores[i] >= raw[i] && scores[i] < raw[i] + 0.25, 'jitter below half the gap');
    orders.add(o.join());
    assert.deepEqual(order(breakTies(raw, new Rng(seed)).scores), o, 'the same seed gives the same order');
  }
  // 4! x 4! orders are possible; index order (0,1,2,3,8,4,...) would be the only one without the tie-break
  assert.ok(orders.size >= 15, `seeds give different orders (${orders.size} of 20)`);
  // all equal: still a strict order, and distinct 1
  const flat = breakTies(new Float64Array(6).fill(0.3), new Rng(4));
  assert.equal(flat.distinct, 1);
  assert.equal(new Set(flat.scores).size, 6);
  // no ties: the order is the raw one
  const free = Float64Array.from([3, 1, 2]);
  assert.deepEqual(order(breakTies(free, new Rng(9)).scores), order(free));
});

test('grouped MINT: filters of a group share a score, and which of them go first is seeded', async () => {
  // two groups of four filters; the group's score is MINT's estimate, every filter inherits it
  const n = 40,
    rng = new Rng(11);
  const means = new Float64Array(8 * n).map(() => rng.next());
  const child = new Float64Array(2 * n).map(() => rng.next());
  const store = {
    n,
    means: new Map([
      ['p', means],
      ['c', child],
    ]),
  };
  const score = (seed: number) =>
    mintImportance({ groups: 2 }).score({
      units: [{ conv: 'p', filters: 8 }],
      taps: [{ self: 'p', child: 'c' }],
      store,
      seed,
    } as never) as Array<{ scores: Float64Array; distinct?: number }>;
  const a = score(1)[0],
    b = score(2)[0];
  assert.equal(a.distinct, 2, 'two groups, two raw scores');
  assert.equal(new Set(a.scores).size, 8, 'ties broken');
  // under every seed one whole group goes first (the tie-break never mixes groups); inside it the order is seeded
  for (const r of [a, b]) {
    const first = order(r.scores).slice(0, 4).sort();
    assert.ok(first.join() === '0,1,2,3' || first.join() === '4,5,6,7', `first four are one group: ${first}`);
  }
  const orders = new Set([1, 2, 3, 4, 5, 6].map((s) => order(score(s)[0].scores).slice(0, 4).join()));
  assert.ok(orders.size > 1, 'seeds reorder the tied filters');
});
