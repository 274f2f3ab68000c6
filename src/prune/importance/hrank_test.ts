/**
 * HRank's tie-break: mean ranks of full-rank small maps tie, and a tied layer must not fall back to
 * filter order. Checked on hand-made mean ranks against what the jitter may and may not do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { breakTies } from './types.js';
import { keepTopK } from '../allocate/allocate.js';
import { Rng } from '../../util/rng.js';

/** HRank's scores from its mean ranks (simple.ts hrankImportance). */
const hrankScores = (ranks: number[], rng: Rng) => breakTies(Float64Array.from(ranks), rng);
import { tiedScores } from '../../report/study.js';

test('hrank: distinct raw scores counted, distinct values keep their order, ties broken by the seed', () => {
  // 500 images: mean ranks move in steps of 1/500; 12 filters with only 3 distinct mean ranks
  const ranks = [3, 3, 3, 3, 2.998, 2.998, 2.998, 2.998, 1, 1, 1, 1];
  const a = hrankScores(ranks, new Rng(1)),
    b = hrankScores(ranks, new Rng(2));
  assert.equal(a.distinct, 3);
  for (const { scores } of [a, b])
    for (let i = 0; i < ranks.length; i++)
      for (let j = 0; j < ranks.length; j++) if (ranks[i] < ranks[j]) assert.ok(scores[i] < scores[j], `${i} < ${j} kept`);
  // keep 2 of the 4 top-ranked filters: which two depends on the seed, not on the index
  const pick = (s: Float64Array) => keepTopK([s], [2])[0];
  const picks = new Set(Array.from({ length: 8 }, (_, k) => pick(hrankScores(ranks, new Rng(k + 1)).scores).join(',')));
  assert.ok(picks.size > 1, `seeds choose different tied filters: ${[...picks].join(' | ')}`);
  for (const p of picks) for (const f of p.split(',').map(Number)) assert.ok(f < 4, 'only the top mean rank is kept');
  // the same seed gives the same scores (a study rerun picks the same filters)
  assert.deepEqual(hrankScores(ranks, new Rng(1)).scores, a.scores);
});

test('reports name a criterion whose layers have fewer distinct scores than half their filters', () => {
  const cost = (variant: string, distinct: number[], tieBreak: 'seeded' | 'index' = 'seeded') => ({
    variant,
    tieBreak,
    images: 500,
    scoringSeconds: { mean: 1, sd: 0 },
    activationSeconds: { mean: 1, sd: 0 },
    distinct: distinct.map((d, i) => ({ conv: `conv${i + 1}`, filters: 32, distinct: d })),
  });
  const lines = tiedScores({
    base: { testAcc: 0.9, params: 1, flops: 1 },
    rows: [],
    stability: [],
    costs: [cost('hrank', [3, 1, 32]), cost('l1', [32, 32, 32]), cost('mint', [4, 32, 32], 'index')],
    settings: {},
    machine: 'm',
    command: 'c',
  });
  assert.equal(lines.length, 3);
  assert.match(
    lines[1],
    /^Degenerate scores: hrank has fewer distinct scores than half the filters in 2 layer\(s\) \(conv1 3 of 32, conv2 1 of 32\); .*a seeded random order\.$/,
  );
  // records from before the seeded tie-break say what decided then
  assert.match(lines[2], /^Degenerate scores: mint .* \(conv1 4 of 32\); .*tie-break: filter index\.$/);
});
