/**
 * The invocations of a long, resumable job (a study runs over several sessions): one line when an
 * invocation starts and one when it ends, in DIR/invocations.jsonl, so the wall time of the whole
 * job is a sum of records rather than the last invocation's clock. An invocation killed outright
 * leaves its start line only; the report counts it as such (its cells carry their own seconds).
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

/** A start line joined with its end line's figures (absent when the invocation was killed). */
export type Invocation = Omit<StartLine, 'event' | 'id'> & Partial<Omit<EndLine, 'event' | 'id' | 'finished'>>;

const fileOf = (dir: string) => join(dir, 'invocations.jsonl');

/** Records the start; call `end` when the invocation finishes (also after an error). */
export function beginInvocation(
  dir: string,
  meta: { command: string; machine: string },
): { end(o: Omit<EndLine, 'event' | 'id' | 'finished' | 'wallMinutes'>): void } {
  const id = randomUUID();
  const t0 = performance.now();
  const start: StartLine = { event: 'start', id, started: new Date().toISOString(), ...meta };
  appendFileSync(fileOf(dir), JSON.stringify(start) + '\n');
  let ended = false;
  return {
    end(o) {
      if (ended) return;
      ended = true;
      const line: EndLine = { event: 'end', id, finished: new Date().toISOString(), wallMinutes: (performance.now() - t0) / 60000, ...o };
      appendFileSync(fileOf(dir), JSON.stringify(line) + '\n');
    },
  };
}

/** Every invocation of the job in DIR, oldest first, each start joined with its end line. */
export function readInvocations(dir: string): Invocation[] {
  const lines = readJsonLines<StartLine | EndLine>(fileOf(dir));
  const ends = new Map(lines.filter((l): l is EndLine => l.event === 'end').map((l) => [l.id, l]));
  return lines
    .filter((l): l is StartLine => l.event === 'start')
    .map((s) => {
      const e = ends.get(s.id);
      return {
        started: s.started,
        command: s.command,
        machine: s.machine,
        ...(e ? { wallMinutes: e.wallMinutes, newCells: e.newCells, complete: e.complete, error: e.error } : {}),
      };
    });
}

/** One sentence: how many invocations, their recorded wall time, and how many left no record. */
export function invocationsText(inv: Invocation[]): string {
  if (!inv.length) return '';
  const ended = inv.filter((i) => i.wallMinutes !== undefined);
  const total = ended.reduce((a, i) => a + i.wallMinutes!, 0);
  const killed = inv.length - ended.length;
  return (
    `${inv.length} invocation${inv.length > 1 ? 's' : ''} (${ended.map((i) => `${i.wallMinutes!.toFixed(1)} min${i.newCells !== undefined ? `, ${i.newCells} cells` : ''}`).join('; ')}), ` +
    `${total.toFixed(1)} min recorded in all` +
    (killed ? `; ${killed} ended without a record (stopped from outside; their finished cells carry their own seconds)` : '') +
    '.'
  );
}
