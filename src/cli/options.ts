/** Shared CLI argument parsers and backend set-up (the only place that picks the backend). */
import { InvalidArgumentError } from 'commander';
import { useBestBackend } from '../engine/backend/index.js';

export function int(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('Not an integer.');
  return n;
}

export function num(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('Not a number.');
  return n;
}

export async function setupBackend(o: { backend?: string; threads?: number }): Promise<string> {
  return useBestBackend({ backend: o.backend ?? 'auto', threads: o.threads });
}
