import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ResultLine } from '../experiment/grid.js';
import { buildReport, buildTrainingReport, summaryParagraph } from './html.js';

const line = (criterion: string, target: number, seed: number, testAcc: number): ResultLine => ({
  key: `${criterion}|${target}|${seed}`,
  criterion,
  target,
  by: 'flops',
  seed,
  params: 1,
  flops: 1,
  paramsRemoved: target,
  flopsRemoved: target,
  valAccPruned: 0.5,
  valAcc: testAcc,
  testAcc,
  bestEpoch: 1,
  scoringSeconds: 1,
  activationSeconds: 1,
  finetuneSeconds: 1,
  keptPerLayer: { c: 4 },
});

test('the first paragraph names the base accuracy, the best criterion per target, and says when random is as good', async () => {
  const results = [
    line('aura', 0.5, 1, 0.9),
    line('aura', 0.5, 2, 0.91),
    line('random', 0.5, 1, 0.905),
    line('random', 0.5, 2, 0.89),
    line('aura', 0.7, 1, 0.85),
    line('random', 0.7, 1, 0.8),
  ];
  const base = { valAcc: 0.93, testAcc: 0.92, params: 1e6, flops: 1e8 };
  const p = summaryParagraph({ title: 't', base, results });
  assert.match(p, /base model with 92\.00% test accuracy/);
  assert.match(
    p,
    /At 50%: aura 90\.50%, random 89\.75% do not differ beyond run-to-run noise \(their seeds' ranges overlap\), so no criterion is ranked/,
  );
  // one seed each on 10,000 images: 5 pt apart is far outside two standard errors (about 1.1 pt)
  assert.match(p, /At 70%: aura is ahead with 85\.00% \(-7\.00 pt against the base\), beyond run-to-run noise; random reaches 80\.00%\./);
  assert.match(await buildReport({ title: 't', base, results }), /<p id="summary">This report compares 2 filter-selection criteria/);
});

test('one seed on 2,000 test images: criteria within a point are not ranked, and a pruned model above its base is explained', () => {
  const results = [line('aura', 0.5, 1, 0.7455), line('l1', 0.5, 1, 0.7405), line('random', 0.5, 1, 0.737), line('aura', 0.7, 1, 0.6)];
  const base = { valAcc: 0.74, testAcc: 0.735, params: 1e6, flops: 1e8, testImages: 2000 };
  const p = summaryParagraph({ title: 't', base, results, config: { settings: { finetune: { epochs: 2 } } } });
  assert.match(
    p,
    /At 50%: aura 74\.55%, l1 74\.05%, random 73\.70% do not differ beyond run-to-run noise \(one seed: differences under 2\.8 pt on 2000 test images are inside the noise\), so no criterion is ranked/,
  );
  assert.match(p, /the best is 1\.05 pt from the base\. At 70%: only aura was run, 60\.00% \(-13\.50 pt against the base\)\./);
  assert.doesNotMatch(p, /is (best|ahead)/);
  assert.match(
    p,
    /Pruned models above the unpruned base are not a gain from pruning: each was fine-tuned for 2 more epochs after the base's own training/,
  );
});

test('a run report links its browser comparison page when one was laid out', async () => {
  const m = [{ epoch: 1, trainAcc: 0.5, valAcc: 0.5, trainLoss: 1, valLoss: 1, lr: 0.1, seconds: 1 }];
  assert.match(
    await buildTrainingReport('t', m, undefined, undefined, 'web/index.html'),
    /<p id="web-link">In the browser: <a href="web\/index.html">/,
  );
  assert.doesNotMatch(await buildTrainingReport('t', m), /web-link/);
});

test('a fine-tune report shows the model before and after fine-tuning beside the original', async () => {
  const m = [{ epoch: 1, trainAcc: 0.5, valAcc: 0.8, trainLoss: 1, valLoss: 1, lr: 0.1, seconds: 1 }];
  const side = { valAcc: 0.9, testAcc: 0.9282, params: 1972480, flops: 118147360, bytesOnDisk: 1 };
  const html = await buildTrainingReport('t', m, undefined, undefined, undefined, {
    prunedBeforeFinetuneValAcc: 0.7968,
    finetuneSeconds: 1146,
    pruned: { ...side, valAcc: 0.915, testAcc: 0.9218, params: 944274, flops: 59105652 },
    original: side,
    speedup: 1.547,
    latencySpeedup: 1.918,
  });
  assert.match(html, /went from 79\.68% to 91\.50% validation accuracy in 19\.1 min/);
  assert.match(html, /its test accuracy is 92\.18% against the original's 92\.82% \(0\.64 points lower\)/);
  assert.match(html, /1\.55x the original's images\/s at batch 128, 1\.92x its batch-1 latency/);
  assert.match(html, /<tr><td>FLOPs \(M\)<\/td><td>118\.1<\/td><td>59\.1<\/td><td>59\.1<\/td><\/tr>/);
});

test('a robustness-only report opens with its own summary and has no empty pruning sections', async () => {
  const robustness = ['aura', 'l1'].flatMap((criterion) =>
    [0, 0.1].map((sigma) => ({ criterion, sigma, where: 'input' as const, spearman: sigma ? 0.9 : 1, topK: 1, perLayer: [] })),
  );
  const html = await buildReport({ title: 't', results: [], robustness });
  assert.match(html, /<p id="summary">This report shows how stable each criterion's filter ranking is/);
  assert.doesNotMatch(html, /Accuracy after fine-tuning|Cost of scoring|id="results"/);
  assert.match(html, /id="chart-robustness"/);
});
