import assert from 'node:assert/strict';
import { test } from 'node:test';
import { averageRanks, spearman, topKOverlap } from './ranking.js';

test('average ranks with ties; Spearman on hand cases; top-k overlap', () => {
  assert.deepEqual(Array.from(averageRanks([10, 20, 20, 5])), [2, 3.5, 3.5, 1]);
  assert.equal(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  // d = (0, 0, 1, -1): rho = 1 - 6*2/(4*15) = 0.8
  assert.ok(Math.abs(spearman([1, 2, 3, 4], [1, 2, 4, 3]) - 0.8) < 1e-12);
  assert.equal(topKOverlap([5, 4, 3, 2], [4, 5, 1, 3], 2), 1);
  assert.equal(topKOverlap([5, 4, 3, 2], [1, 2, 4, 3], 2), 0);
});
