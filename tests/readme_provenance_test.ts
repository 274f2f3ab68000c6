/**
 * Every figure in the README's result sections comes from somewhere a reader can check: a line of
 * BENCHMARKS.md (commands and raw JSON) or a committed record under docs/ (the study's JSON and
 * tables). A number typed into the README alone fails this test.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const root = resolve(import.meta.dirname, '..');
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.(json|jsonl|md)$/.test(f) ? [p] : [];
  });

test('README result figures (%, x, pt) all appear in BENCHMARKS.md or a committed record', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const sources = [join(root, 'BENCHMARKS.md'), ...files(join(root, 'docs'))].map((f) => readFileSync(f, 'utf8')).join('\n');
  const from = readme.indexOf('## Results');
  const to = readme.indexOf('## How it works');
  assert.ok(from > 0 && to > from, 'the README keeps its result sections');
  const figures = new Set(readme.slice(from, to).match(/\d+\.\d+(?:%|x| pt)/g) ?? []);
  assert.ok(figures.size > 15, `only ${figures.size} figures found: the pattern no longer matches the README`);
  const missing = [...figures].filter((f) => {
    const v = f.replace(/(%|x| pt)$/, '').replace('.', '\\.');
    // the bare number, not inside a longer one (0.5 must not match 10.5 or 0.55)
    return !new RegExp(`(?<![\\d.])${v}(?!\\d)`).test(sources);
  });
  assert.deepEqual(missing, [], `README figures with no source in BENCHMARKS.md or docs/: ${missing.join(', ')}`);
});
