/** The rerun check: prediction intervals by hand, which cells it picks, how a rerun is judged. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judge, pickCells, predictionInterval } from './recheck.js';
import type { StudyLine } from './study.js';
import { studyLineOf } from '../../tests/helpers/fixtures.js';

const line = (budget: StudyLine['budget'], variant: string, seed: number, acc: number): StudyLine => ({
  ...studyLineOf(budget, variant, seed),
  ...(budget === 'none' ? { testAccRaw: acc, testAccBn: acc + 0.1 } : { testAcc: acc }),
});

test('prediction interval: mean +- t(n-1) sd sqrt(1 + 1/n), by hand', () => {
  // 1, 2, 3: mean 2, sd 1; t(2, 0.975) = 4.302653; half-width 4.302653 * sqrt(4/3) = 4.968275
  const p = predictionInterval([1, 2, 3]);
  assert.equal(p.mean, 2);
  assert.ok(Math.abs(p.sd - 1) < 1e-12);
  assert.ok(Math.abs(p.hi - 6.968275) < 1e-5 && Math.abs(p.lo + 2.968275) < 1e-5, `${p.lo} ${p.hi}`);
  // 10 values: t(9) = 2.262157, sd of 1..10 = 3.027650, half-width 2.262157 * 3.027650 * sqrt(1.1) = 7.183314 (scipy)
  const q = predictionInterval([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.ok(Math.abs(q.hi - q.mean - 7.183314) < 1e-5, `${q.hi - q.mean}`);
  assert.ok(Number.isNaN(predictionInterval([0.5]).lo), 'one value has no interval');
});

test('picks budgets in turn (recovery first), only from rows of 3 or more seeds, seeded and without repeats', () => {
  const lines = [
    ...[1, 2, 3].map((s) => line('full', 'aura', s, 0.88)),
    ...[1, 2, 3].map((s) => line('epoch', 'l1', s, 0.8)),
    ...[1, 2, 3, 4].map((s) => line('none', 'random', s, 0.2)),
    ...[1, 2].map((s) => line('full', 'hrank', s, 0.88)), // two seeds: cannot be judged
  ];
  const p = pickCells(lines, 4, 1);
  assert.deepEqual(
    p.map((l) => l.budget),
    ['full', 'epoch', 'none', 'full'],
  );
  assert.ok(p.every((l) => l.variant !== 'hrank'));
  assert.equal(new Set(p.map((l) => l.key)).size, 4);
  assert.deepEqual(
    pickCells(lines, 4, 1).map((l) => l.key),
    p.map((l) => l.key),
    'same seed, same pick',
  );
  assert.equal(pickCells(lines, 20, 1).length, 10, 'at most every eligible cell');
});

test('a rerun inside its row is inside, far off is outside; a no-fine-tune cell is judged on both measures and for exactness', () => {
  const row = [0.88, 0.885, 0.89].map((a, i) => line('full', 'aura', i + 1, a));
  // row mean 0.885, sd 0.005, t(2) 4.3027: interval 0.885 +- 0.02484
  const [ok] = judge(row[0]!, { ...row[0]!, testAcc: 0.9 }, row);
  assert.equal(ok!.inside, true);
  const [bad] = judge(row[0]!, { ...row[0]!, testAcc: 0.86 }, row);
  assert.equal(bad!.inside, false);
  const raw = [0.3, 0.32, 0.34].map((a, i) => line('none', 'l1', i + 1, a));
  const j = judge(raw[1]!, { ...raw[1]! }, raw);
  assert.deepEqual(
    j.map((x) => [x.measure, x.exact, x.inside]),
    [
      ['raw', true, true],
      ['bn', true, true],
    ],
  );
  const off = judge(raw[1]!, { ...raw[1]!, testAccBn: 0.4201 }, raw);
  assert.equal(off[1]!.exact, false);
});
