/**
 * spatialMIMatrix split across worker threads by parent rows. Results are identical to the
 * single-threaded version (same arithmetic per pair). Measured on the 2-core VM: no gain at 1.5e8
 * updates (0.89x: worker start-up, cloning the label stacks and cold JIT), so only problems above
 * 1e9 updates (~3 s single-threaded) are split; whether it pays there is not yet measured.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { AuraOptions } from './aura.js';
import { halfDisplacements } from './aura.js';
import { EdgeSampling, LabelStack, sampledEdgeCount, spatialMIMatrix } from './spatial_mi.js';

/** Ordered neighbour-pair updates a full matrix needs (for deciding whether threads pay). */
export function auraWork(X: LabelStack, Y: LabelStack, opts: AuraOptions & EdgeSampling = {}): number {
  const total = halfDisplacements(opts).reduce((a, [dy, dx]) => a + Math.max(0, X.h - dy) * Math.max(0, X.w - Math.abs(dx)), 0);
  return X.channels * Y.channels * X.n * 2 * sampledEdgeCount(total, opts.edges);
}

export async function parallelSpatialMIMatrix(
  X: LabelStack,
  Y: LabelStack,
  opts: AuraOptions & EdgeSampling & { threads?: number; minWork?: number } = {},
): Promise<{ mi: Float64Array; updates: number }> {
  const threads = Math.min(opts.threads ?? availableParallelism(), X.channels);
  if (threads <= 1 || auraWork(X, Y, opts) < (opts.minWork ?? 1e9)) return spatialMIMatrix(X, Y, opts);
  // From TypeScript sources (tests, tsx) the worker needs tsx's loader too; from dist/ it is plain JS.
  const fromTs = import.meta.url.endsWith('.ts');
  const url = new URL(`./mi_worker${fromTs ? '.ts' : '.js'}`, import.meta.url);
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
  const chunks = Array.from({ length: threads }, (_, t) =>
    Array.from({ length: X.channels }, (_, r) => r).filter((r) => r % threads === t),
  );
  const aura = {
    neighbourhood: opts.neighbourhood,
    radius: opts.radius,
    edges: opts.edges,
    edgeSeed: opts.edgeSeed,
    millerMadow: opts.millerMadow,
  };
  const parts = await Promise.all(
    chunks.map(
      (rows) =>
        new Promise<{ rows: number[]; out: Float64Array; updates: number }>((resolve, reject) => {
          const w = fromTs
            ? new Worker(boot, { eval: true, workerData: { X, Y, rows, opts: aura } })
            : new Worker(url, { workerData: { X, Y, rows, opts: aura } });
          w.once('message', (m: { out: Float64Array; updates: number }) => resolve({ rows, ...m }));
          w.once('error', reject);
          w.once('exit', (code) => {
            if (code !== 0) reject(new Error(`aura MI worker exited with code ${code}`));
          });
        }),
    ),
  );
  const mi = new Float64Array(X.channels * Y.channels);
  let updates = 0;
  for (const p of parts) {
    p.rows.forEach((r, k) => mi.set(p.out.subarray(k * Y.channels, (k + 1) * Y.channels), r * Y.channels));
    updates += p.updates;
  }
  return { mi, updates };
}
