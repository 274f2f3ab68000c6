/**
 * The invocations of a long, resumable job (a study runs over several sessions): one line when an
 * invocation starts and one when it ends, in DIR/invocations.jsonl, so the wall time of the whole
 * job is a sum of records rather than the last invocation's clock. A session's end kills a long
 * invocation without warning, so each finished cell also appends a tick (wall time so far, cells so
 * far): a killed invocation counts up to its last finished cell. One killed before its first cell
 * leaves its start line only; the report counts it as such.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { readJsonLines } from '../util/jsonl.js';

interface StartLine {
  event: 'start';
  id: string;
  started: string;
  command: string;
  machine: string;
}
interface EndLine {
  event: 'end';
  id: string;
  finished: string;
  wallMinutes: number;
  newCells?: number;
  complete?: boolean;
  error?: string;
}

interface TickLine {
  event: 'tick';
  id: string;
  at: string;
  wallMinutes: number;
  newCells: number;
}

/**
 * A start line joined with its end line's figures; for an invocation killed from outside, its last
 * tick's (`stopped`: the wall time runs to its last finished cell); neither when killed before one.
 */
export type Invocation = Omit<StartLine, 'event' | 'id'> & Partial<Omit<EndLine, 'event' | 'id' | 'finished'>> & { stopped?: boolean };

const fileOf = (dir: string) => join(dir, 'invocations.jsonl');

/** Records the start; call `tick` after each finished cell and `end` when the invocation finishes (also after an error). */
export function beginInvocation(
  dir: string,
  meta: { command: string; machine: string },
): { tick(newCells: number): void; end(o: Omit<EndLine, 'event' | 'id' | 'finished' | 'wallMinutes'>): void } {
  const id = randomUUID();
  const t0 = performance.now();
  const start: StartLine = { event: 'start', id, started: new Date().toISOString(), ...meta };
  appendFileSync(fileOf(dir), JSON.stringify(start) + '\n');
  let ended = false;
  const minutes = () => (performance.now() - t0) / 60000;
  return {
    tick(newCells) {
      if (ended) return;
      const line: TickLine = { event: 'tick', id, at: new Date().toISOString(), wallMinutes: minutes(), newCells };
      appendFileSync(fileOf(dir), JSON.stringify(line) + '\n');
    },
    end(o) {
      if (ended) return;
      ended = true;
      const line: EndLine = { event: 'end', id, finished: new Date().toISOString(), wallMinutes: minutes(), ...o };
      appendFileSync(fileOf(dir), JSON.stringify(line) + '\n');
    },
  };
}

/** Every invocation of the job in DIR, oldest first, each start joined with its end line. */
export function readInvocations(dir: string): Invocation[] {
  const lines = readJsonLines<StartLine | EndLine | TickLine>(fileOf(dir));
  const ends = new Map(lines.filter((l): l is EndLine => l.event === 'end').map((l) => [l.id, l]));
  // the last tick of each invocation (lines are in time order)
  const ticks = new Map(lines.filter((l): l is TickLine => l.event === 'tick').map((l) => [l.id, l]));
  return lines
    .filter((l): l is StartLine => l.event === 'start')
    .map((s) => {
      const e = ends.get(s.id),
        t = ticks.get(s.id);
      return {
        started: s.started,
        command: s.command,
        machine: s.machine,
        ...(e
          ? { wallMinutes: e.wallMinutes, newCells: e.newCells, complete: e.complete, error: e.error }
          : t
            ? { wallMinutes: t.wallMinutes, newCells: t.newCells, stopped: true }
            : {}),
      };
    });
}

/** One sentence: how many invocations, their recorded wall time, and how many left no record. */
export function invocationsText(inv: Invocation[]): string {
  if (!inv.length) return '';
  const timed = inv.filter((i) => i.wallMinutes !== undefined);
  const total = timed.reduce((a, i) => a + i.wallMinutes!, 0);
  const killed = inv.length - timed.length;
  const stopped = timed.filter((i) => i.stopped).length;
  const part = (i: Invocation) =>
    `${i.stopped ? 'at least ' : ''}${i.wallMinutes!.toFixed(1)} min${i.newCells !== undefined ? `, ${i.newCells} cells` : ''}${i.stopped ? ', stopped from outside' : ''}`;
  return (
    `${inv.length} invocation${inv.length > 1 ? 's' : ''}${timed.length ? ` (${timed.map(part).join('; ')})` : ''}, ` +
    `${total.toFixed(1)} min recorded in all` +
    (stopped ? ` (${stopped} stopped from outside counted to ${stopped > 1 ? 'their' : 'its'} last finished cell)` : '') +
    (killed ? `; ${killed} ended without a record (stopped before finishing a cell)` : '') +
    '.'
  );
}
