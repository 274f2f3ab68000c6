/**
 * The child process side of `auraprune worker` (BullMQ's sandboxed processor): sets up the backend
 * once, then runs each job's cell with processJob. Settings come from the parent's environment.
 */
import type { Job } from 'bullmq';
import { useBestBackend } from '../engine/backend/index.js';
import { processJob } from './queue.js';

// a parent killed with SIGKILL cannot stop its child: leave rather than finish a cell nobody collects.
// The child can take seconds to load this module (tsx, tfjs, the addon) and the parent may die
// meanwhile: its 'disconnect' has then already fired, so check the channel now, and poll it as well
// (the training loop yields to events every few batches, so the poll runs during a cell too)
const orphaned = () => !process.connected || process.ppid === 1;
if (orphaned()) process.exit(1);
process.on('disconnect', () => process.exit(1));
setInterval(() => orphaned() && process.exit(1), 1000).unref();

const env = process.env;
const ready = useBestBackend({
  backend: env.AURAPRUNE_WORKER_BACKEND ?? 'auto',
  threads: env.AURAPRUNE_WORKER_THREADS ? Number(env.AURAPRUNE_WORKER_THREADS) : undefined,
});

export default async function (job: Job<unknown>, _token?: string, signal?: AbortSignal) {
  // the worker cancels a cell whose job is gone (its lock could not be renewed: Redis restarted without
  // its data, or the job was removed): leave at the next pause in the work rather than finish it
  signal?.addEventListener('abort', () => process.exit(3), { once: true });
  await ready;
  return processJob(job, { root: env.AURAPRUNE_WORKER_ROOT, data: env.AURAPRUNE_WORKER_DATA });
}
