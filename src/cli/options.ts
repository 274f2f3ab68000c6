/** Shared CLI argument parsers and backend set-up (the only place that picks the backend). */
import { InvalidArgumentError } from 'commander';
import { useBestBackend } from '../engine/backend/index.js';
import { SPARSITY_KINDS, SparsityOptions } from '../train/loop.js';

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

/** `--sparsity KIND --sparsity-lambda L [--sparsity-schedule S]` as a TrainConfig part (checked together). */
export function sparsityOption(o: { sparsity?: string; sparsityLambda?: number; sparsitySchedule?: string }): {
  sparsity?: SparsityOptions;
} {
  if (o.sparsity === undefined) {
    if (o.sparsityLambda !== undefined) throw new Error('--sparsity-lambda needs --sparsity bn-l1 or group-l2');
    return {};
  }
  if (!(SPARSITY_KINDS as readonly string[]).includes(o.sparsity))
    throw new Error(`--sparsity must be one of ${SPARSITY_KINDS.join(', ')}, got ${o.sparsity}`);
  if (!(typeof o.sparsityLambda === 'number' && o.sparsityLambda > 0))
    throw new Error('--sparsity needs --sparsity-lambda L > 0 (e.g. 1e-4)');
  const schedule = o.sparsitySchedule ?? 'constant';
  if (schedule !== 'constant' && schedule !== 'growing')
    throw new Error(`--sparsity-schedule must be constant or growing, got ${schedule}`);
  return { sparsity: { kind: o.sparsity as SparsityOptions['kind'], lambda: o.sparsityLambda, schedule } };
}
