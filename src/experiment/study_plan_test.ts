/** The study plan: seeds per budget and which criteria each budget compares. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CRITERIA } from '../prune/importance/registry.js';
import { implementationOf, studyCells, VARIANTS } from './study.js';
import { FULL_SEEDS, MAIN, SEEDS, studyPlan } from './study_plan.js';

test('10 seeds for the cheap budgets, 5 for the recovery fine-tune; every main criterion, Taylor included, at every budget', () => {
  const plan = studyPlan(false);
  assert.equal(plan.seeds.length, 10);
  assert.ok(MAIN.includes('taylor') && MAIN.includes('mint') && MAIN.includes('label-mi'));
  for (const v of MAIN) assert.ok(VARIANTS[v] && CRITERIA.includes(VARIANTS[v].criterion as never), `${v} is a known criterion`);
  const cells = studyCells(plan).map(([, c]) => c);
  const count = (f: (c: (typeof cells)[number]) => boolean) => cells.filter(f).length;
  // by hand: none 50% uniform 8 x 10, epoch 8 x 10, none 20%/70% 2 x 8 x 10, sensitivity 8 x 10,
  // ablations 10 x 10, full (8 + aura-max, aura-L4) x 5
  assert.equal(cells.length, 80 + 80 + 160 + 80 + 100 + 50);
  for (const v of ['aura-max', 'aura-L4'])
    assert.deepEqual(
      cells.filter((c) => c.budget === 'full' && c.variant === v).map((c) => c.seed),
      FULL_SEEDS,
    );
  for (const budget of ['epoch', 'full'] as const)
    for (const v of MAIN) {
      const seeds = cells.filter((c) => c.budget === budget && c.variant === v).map((c) => c.seed);
      assert.deepEqual(seeds, budget === 'full' ? FULL_SEEDS : SEEDS, `${budget} ${v}`);
    }
  assert.equal(
    count((c) => c.budget === 'full' && c.seed > 5),
    0,
  );
  // --quick: one seed, the first two stages
  assert.equal(studyCells(studyPlan(true)).length, 2 * MAIN.length);
});

test("the plan times aura in per-filter MINT's implementation (TypeScript, one thread), without cells of its own", () => {
  const plan = studyPlan(false);
  assert.deepEqual(plan.costs?.variants, ['aura-ts1']);
  assert.ok(
    studyCells(plan).every(([, c]) => c.variant !== 'aura-ts1'),
    'a timing-only variant has no accuracy cells',
  );
  assert.equal(implementationOf(VARIANTS['aura-ts1']!), 'TypeScript, 1 thread');
  assert.equal(implementationOf(VARIANTS.mint!), 'TypeScript, 1 thread');
  // aura itself: the native kernel on every core when the addon is built, else the TypeScript loop
  assert.match(implementationOf(VARIANTS.aura!), /^(native kernel|TypeScript), \d+ threads?$/);
  assert.equal(studyPlan(true).costs, undefined, '--quick times nothing extra');
});
