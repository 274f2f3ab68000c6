import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import '@tensorflow/tfjs-backend-cpu';
import { modelFingerprint, saveModel } from '../models/io.js';
import { buildModel } from '../models/zoo.js';
import { pruningUnits } from './graph/graph.js';
import { MAX_SCORES_BYTES, readScoresFile } from './scores_file.js';

const dir = mkdtempSync(join(tmpdir(), 'auraprune-scores-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a scores file is keyed by its model: another model or other weights are refused; malformed files name the problem', async () => {
  const a = buildModel('fast', { width: 0.125, seed: 1 });
  await saveModel(a, join(dir, 'a'));
  // same architecture, other weights: the file must not be reused
  await saveModel(buildModel('fast', { width: 0.125, seed: 2 }), join(dir, 'b'));
  const fa = modelFingerprint(join(dir, 'a'));
  const fb = modelFingerprint(join(dir, 'b'));
  assert.notEqual(fa, fb);
  const units = pruningUnits(a).map((u) => ({
    conv: u.conv,
    filters: u.filters,
    scores: Array.from({ length: u.filters }, (_, i) => i),
    seconds: 0,
  }));
  const doc = { criterion: 'l1', units, activationSeconds: 0, scoringSeconds: 0, model: 'a', modelSha256: fa };
  const write = (name: string, body: unknown) => {
    const p = join(dir, name);
    writeFileSync(p, typeof body === 'string' ? body : JSON.stringify(body));
    return p;
  };
  const good = write('good.json', doc);
  assert.deepEqual(readScoresFile(good, fa).units, units);
  assert.throws(
    () => readScoresFile(good, fb),
    new RegExp(`good\\.json: computed for another model \\(a, sha256 ${fa}; this model's is ${fb}\\)`),
  );

  const bad: Array<[string, unknown, RegExp]> = [
    ['torn.json', JSON.stringify(doc).slice(0, 100), /torn\.json: not valid JSON/],
    ['other.json', { hello: 1 }, /other\.json: not a scores file/],
    ['count.json', { ...doc, units: [{ ...units[0], scores: [1, 2] }] }, /count\.json: .*: 2 scores for \d+ filters/],
    [
      'nan.json',
      { ...doc, units: [{ ...units[0], scores: units[0].scores.map(() => 'x') }] },
      /nan\.json: .*a score is not a finite number/,
    ],
    ['shape.json', { ...doc, units: [42] }, /shape\.json: units\[0\] is not/],
  ];
  for (const [name, body, re] of bad) assert.throws(() => readScoresFile(write(name, body), fa), re, name);
  // size is checked before reading: a sparse file larger than the bound is refused without loading it
  const huge = write('huge.json', '');
  truncateSync(huge, MAX_SCORES_BYTES + 1);
  assert.throws(() => readScoresFile(huge, fa), /huge\.json: \d+ bytes, more than a scores file can hold/);
  assert.throws(() => readScoresFile(join(dir, 'none.json'), fa), /none\.json: no such file/);
});
