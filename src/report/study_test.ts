/** The study's headline table: criteria by budget, intervals against random rendered as the verdict says. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StudyRow } from '../experiment/study.js';
import { cellMachines, fasterText, headlineTable, intervalText, machineText, StudyDoc, studyHtml } from './study.js';

const row = (variant: string, measure: StudyRow['measure'], mean: number, vs?: [number, number, number, string]): StudyRow => ({
  measure,
  allocation: 'uniform',
  target: 0.5,
  variant,
  seeds: [1, 2, 3],
  flopsRemoved: 0.5,
  mean,
  sd: 0.01,
  vsRandom: vs && { mean: vs[0], lo: vs[1], hi: vs[2], n: 3, verdict: vs[3] },
});
const doc = (rows: StudyRow[]): StudyDoc => ({
  base: { testAcc: 0.9, params: 1, flops: 1 },
  rows,
  stability: [],
  costs: [],
  settings: {},
  machine: 'm',
  command: 'c',
});

test('one row per criterion, random last, a column per budget present; ahead in bold, covering zero says no evidence of a difference', () => {
  const t = headlineTable(
    doc([
      row('random', 'raw', 0.2),
      row('aura', 'raw', 0.56, [0.36, 0.25, 0.48, 'ahead']),
      row('aura', 'full', 0.8845, [-0.0027, -0.0074, 0.0019, 'no evidence of a difference']),
      row('l1', 'raw', 0.15, [-0.05, -0.08, -0.02, 'behind']),
      { ...row('aura', 'raw', 0.1), target: 0.7 },
    ]),
  );
  assert.equal(t[2], '| criterion | right after pruning (no fine-tune) | after the recovery fine-tune |');
  assert.deepEqual(t.slice(4), [
    '| aura | 56.00 +- 1.00, **+36.00 [25.00, 48.00]** | 88.45 +- 1.00, -0.27 [-0.74, 0.19] no evidence of a difference |',
    '| l1 | 15.00 +- 1.00, -5.00 [-8.00, -2.00] behind | not in the plan |',
    '| random | 20.00 +- 1.00 | not in the plan |',
  ]);
  assert.deepEqual(headlineTable(doc([])), []);
});

test('the noisy-test column shows every criterion, behind included; the interval paragraph counts the intervals', () => {
  const full = (variant: string, mean: number, noisy: number, vs?: [number, number, number, string]): StudyRow => ({
    ...row(variant, 'full', mean),
    noisy: { mean: noisy, sd: 0.02 },
    noisyVsRandom: vs && { mean: vs[0], lo: vs[1], hi: vs[2], n: 5, verdict: vs[3], method: 't' },
  });
  const d = doc([full('aura', 0.88, 0.7, [-0.0436, -0.0503, -0.0371, 'behind']), full('random', 0.88, 0.74)]);
  const t = headlineTable(d);
  assert.equal(t[2], '| criterion | after the recovery fine-tune | on noisy test images, after the recovery fine-tune |');
  assert.equal(t[4], '| aura | 88.00 +- 1.00 | 70.00 +- 2.00, -4.36 [-5.03, -3.71] behind |');
  assert.equal(t[5], '| random | 88.00 +- 1.00 | 74.00 +- 2.00 |');
  // one interval in the document: 0.05 expected to exclude zero by chance; t intervals described
  const text = intervalText(d);
  assert.match(text, /holds 1 intervals; .* about 0\.1 of them would still exclude zero by chance/);
  assert.match(text, /t intervals over the per-seed differences/);
  // records analysed before t intervals say what their intervals were
  assert.match(intervalText(doc([row('aura', 'raw', 0.5, [0.1, 0.05, 0.15, 'ahead'])])), /percentile-bootstrap .* about 76%/);
});

test('the HTML report renders bold table cells as <strong>, never as literal asterisks', async () => {
  const html = await studyHtml(doc([row('random', 'raw', 0.2), row('aura', 'raw', 0.56, [0.36, 0.25, 0.48, 'ahead'])]));
  assert.match(html, /<strong>\+36\.00 \[25\.00, 48\.00\]<\/strong>/);
  assert.doesNotMatch(html, /\*\*/);
});

test('machine line: the cells recorded machines, not the machine the report is rebuilt on', () => {
  const lines = [{ machine: 'A' }, { machine: 'A' }, { machine: 'B' }, {}];
  assert.deepEqual(cellMachines(lines), [
    { machine: 'A', cells: 2 },
    { machine: 'B', cells: 1 },
    { machine: '', cells: 1 },
  ]);
  assert.equal(
    machineText({ machine: 'HERE', cellMachines: cellMachines(lines) }),
    'Cells ran on A (2 cells); B (1 cell); 1 cell recorded no machine. Document built on HERE.',
  );
  assert.equal(
    machineText({ machine: 'HERE', cellMachines: cellMachines([{}, {}]) }),
    'Machine: HERE (this document was built there; the cells did not record theirs).',
  );
  assert.equal(machineText({ machine: 'HERE' }), 'Machine: HERE.');
});

test('scoring cost: each ratio names its two sides and implementations; like for like only when aura was timed in TypeScript', () => {
  const c = (variant: string, s: number, implementation?: string) => ({
    variant,
    images: 500,
    scoringSeconds: { mean: s, sd: 0 },
    activationSeconds: { mean: 0.5, sd: 0 },
    ...(implementation ? { implementation } : {}),
  });
  const d = {
    costs: [
      c('aura', 1.25, 'native kernel, 2 threads'),
      c('aura-ts1', 16, 'TypeScript, 1 thread'),
      c('mint', 64, 'TypeScript, 1 thread'),
      c('mint-g8', 1.3, 'TypeScript, 1 thread'),
      c('l1', 0.03, 'tensor ops (libtorch or tfjs backend)'),
    ],
  };
  const t = fasterText(d);
  // 64 / 16 = 4.0 (like for like), 64 / 1.25 = 51.2 (fastest forms), 1.3 / 1.25 within 10%
  assert.match(
    t,
    /like for like, aura 16\.0 s \(TypeScript, 1 thread\) against per-filter MINT 64\.0 s \(TypeScript, 1 thread\): aura 4\.0x faster/,
  );
  assert.match(
    t,
    /fastest form here, aura 1\.25 s \(native kernel, 2 threads\) against per-filter MINT 64\.0 s \(TypeScript, 1 thread\): aura 51\.2x faster \(implementations differ/,
  );
  assert.match(t, /grouped setting \(8 groups\) 1\.30 s \(TypeScript, 1 thread\): aura about the same cost/);
  assert.match(t, /the other criteria l1 0\.03 s/);
  // without the TypeScript timing there is no like-for-like claim, and unnamed implementations are said to be unknown
  const old = fasterText({ costs: [c('aura', 2, undefined), c('mint', 1, undefined)] });
  assert.doesNotMatch(old, /like for like/);
  assert.match(old, /aura 2\.0x slower \(these records do not name the implementations/);
});
