import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readJsonFile, readJsonLines, repairJsonLines } from './jsonl.js';

const dir = mkdtempSync(join(tmpdir(), 'auraprune-jsonl-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a torn last line is skipped with a warning naming the file, and repaired so the next append stands alone', () => {
  const p = join(dir, 'results.jsonl');
  writeFileSync(p, '{"key":"a","v":1}\n{"key":"b","v":2}\n{"key":"c","v"');
  const warnings: string[] = [];
  assert.deepEqual(
    readJsonLines<{ key: string }>(p, { warn: (m) => warnings.push(m) }).map((e) => e.key),
    ['a', 'b'],
  );
  assert.match(warnings[0], /results\.jsonl: line 3 is not valid JSON/);
  const kept = repairJsonLines<{ key: string }>(p);
  assert.deepEqual(
    kept.map((e) => e.key),
    ['a', 'b'],
  );
  appendFileSync(p, JSON.stringify({ key: 'c', v: 3 }) + '\n');
  assert.deepEqual(
    readJsonLines<{ key: string }>(p).map((e) => e.key),
    ['a', 'b', 'c'],
  );
  assert.equal(readFileSync(p, 'utf8').split('\n').length, 4);
});

test('a valid file is left byte-identical by the repair', () => {
  const p = join(dir, 'ok.jsonl');
  const text = '{"a": 1}\n{"b":  2}\n';
  writeFileSync(p, text);
  repairJsonLines(p);
  assert.equal(readFileSync(p, 'utf8'), text);
});

test('readJsonFile: a corrupt record fails with one line naming the file and the fix', () => {
  const d = mkdtempSync(join(tmpdir(), 'auraprune-json-'));
  try {
    writeFileSync(join(d, 'config.json'), '{"seed": 1, "epochs": 3}');
    assert.deepEqual(readJsonFile(join(d, 'config.json')), { seed: 1, epochs: 3 });
    writeFileSync(join(d, 'config.json'), '{"seed": 1, "epo');
    assert.throws(
      () => readJsonFile(join(d, 'config.json')),
      (e: Error) =>
        e.message.startsWith(`${join(d, 'config.json')} is not valid JSON`) &&
        /record is corrupt; restore it/.test(e.message) &&
        !e.message.includes('\n'),
    );
    // a file that is not ours (a linked /etc/passwd, say) is named, its text never printed
    writeFileSync(join(d, 'config.json'), 'root:x:0:0:root:/root:/bin/bash');
    assert.throws(
      () => readJsonFile(join(d, 'config.json')),
      (e: Error) => /config\.json is not valid JSON: the record is corrupt/.test(e.message) && !e.message.includes('root:x'),
    );
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
