import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { beginInvocation, invocationsText, readInvocations } from './invocations.js';

const dir = mkdtempSync(join(tmpdir(), 'auraprune-inv-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('invocations: each start joined with its end; a killed one (no end line) is counted, not timed', async () => {
  const a = beginInvocation(dir, { command: 'study A', machine: 'm1' });
  await new Promise((r) => setTimeout(r, 30));
  a.end({ newCells: 4, complete: false });
  a.end({ newCells: 99 }); // a second end is ignored
  beginInvocation(dir, { command: 'study B', machine: 'm2' }); // killed: never ends
  const c = beginInvocation(dir, { command: 'study C', machine: 'm1' });
  c.end({ error: 'disk full' });
  assert.equal(readFileSync(join(dir, 'invocations.jsonl'), 'utf8').trim().split('\n').length, 5);
  const inv = readInvocations(dir);
  assert.deepEqual(
    inv.map((i) => [i.command, i.machine, i.newCells, i.complete, i.error]),
    [
      ['study A', 'm1', 4, false, undefined],
      ['study B', 'm2', undefined, undefined, undefined],
      ['study C', 'm1', undefined, undefined, 'disk full'],
    ],
  );
  assert.ok(inv[0].wallMinutes! >= 0.025 / 60 && inv[0].wallMinutes! < 1, `A took ${inv[0].wallMinutes} min`);
  assert.equal(inv[1].wallMinutes, undefined);
  const total = inv[0].wallMinutes! + inv[2].wallMinutes!;
  const text = invocationsText(inv);
  assert.match(text, /^3 invocations /);
  assert.ok(text.includes(`${total.toFixed(1)} min recorded in all`), text);
  assert.match(text, /1 ended without a record/);
  assert.equal(invocationsText([]), '');
});
