/**
 * The README's study section is the text generated from the committed study documents alone
 * (src/report/study_readme.ts): a figure typed or left stale there fails here. After a study changes,
 * `npm run readme:study` regenerates it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { committedStudies, replaceStudyBlock, studyBlock, studyReadme } from '../src/report/study_readme.js';

const root = resolve(import.meta.dirname, '..');

test("the README's study block equals the text generated from docs/study*/study.json", () => {
  const nets = committedStudies(root);
  assert.ok(nets.length >= 1, 'no committed study document (docs/study/study.json)');
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = studyBlock(readme);
  assert.ok(block !== null, 'README has no <!-- study:begin --> ... <!-- study:end --> block');
  assert.equal(block, studyReadme(nets), 'README study block is stale: run `npm run readme:study`');
});

test('the block names every headline figure of each network from its rows, and replacing it keeps the rest', () => {
  const nets = committedStudies(root);
  const text = studyReadme(nets);
  for (const n of nets)
    for (const r of n.doc.rows.filter((x) => x.allocation === 'uniform' && Math.abs(x.target - 0.5) < 1e-9 && x.variant === 'aura'))
      assert.ok(text.includes(`${(100 * r.mean).toFixed(2)} +- ${(100 * r.sd).toFixed(2)}`), `${n.name} aura ${r.measure} missing`);
  const fake = 'head\n<!-- study:begin -->\nold\n<!-- study:end -->\ntail\n';
  const swapped = replaceStudyBlock(fake, 'new\ntext');
  assert.equal(swapped, 'head\n<!-- study:begin -->\nnew\ntext\n<!-- study:end -->\ntail\n');
  assert.equal(studyBlock(swapped), 'new\ntext');
  assert.throws(() => replaceStudyBlock('no markers', 'x'), /study:begin/);
});
