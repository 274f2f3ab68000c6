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
  const b = beginInvocation(dir, { command: 'study B', machine: 'm2' }); // killed after two cells: never ends
  b.tick(1);
  await new Promise((r) => setTimeout(r, 30));
  b.tick(2);
  beginInvocation(dir, { command: 'study D', machine: 'm2' }); // killed before its first cell
  const c = beginInvocation(dir, { command: 'study C', machine: 'm1' });
  c.end({ error: 'disk full' });
  assert.equal(readFileSync(join(dir, 'invocations.jsonl'), 'utf8').trim().split('\n').length, 8);
  const inv = readInvocations(dir);
  assert.deepEqual(
    inv.map((i) => [i.command, i.machine, i.newCells, i.complete, i.error]),
    [
      ['study A', 'm1', 4, false, undefined],
      ['study B', 'm2', 2, undefined, undefined],
      ['study D', 'm2', undefined, undefined, undefined],
      ['study C', 'm1', undefined, undefined, 'disk full'],
    ],
  );
  assert.ok(inv[0].wallMinutes! >= 0.025 / 60 && inv[0].wallMinutes! < 1, `A took ${inv[0].wallMinutes} min`);
  // B counts to its last tick: at least the 30 ms between its ticks
  assert.equal(inv[1].stopped, true);
  assert.ok(inv[1].wallMinutes! >= 0.025 / 60 && inv[1].wallMinutes! < 1, `B ran ${inv[1].wallMinutes} min`);
  assert.equal(inv[2].wallMinutes, undefined);
  const total = inv[0].wallMinutes! + inv[1].wallMinutes! + inv[3].wallMinutes!;
  const text = invocationsText(inv);
  assert.match(text, /^4 invocations \(/);
  assert.match(text, /; at least \d+\.\d min, 2 cells, stopped from outside;/);
  assert.ok(text.includes(`${total.toFixed(1)} min recorded in all (1 stopped from outside counted to its last finished cell)`), text);
  assert.match(text, /1 ended without a record/);
  // none timed: no empty parentheses
  assert.equal(
    invocationsText([inv[2]]),
    '1 invocation, 0.0 min recorded in all; 1 ended without a record (stopped before finishing a cell).',
  );
  assert.equal(invocationsText([]), '');
});
