/** Learning-rate schedules as pure functions of the step (0-based) and the total step count. */

export type ScheduleName = 'cosine' | 'step' | 'onecycle' | 'constant';

export interface ScheduleOptions {
  /** Peak learning rate. */
  lr: number;
  schedule: ScheduleName;
  /** Linear warm-up steps from lr/10 (cosine, step, constant). Default 0. */
  warmupSteps?: number;
  /** For 'step': fractions of training at which lr is multiplied by `gamma`. Default [0.5, 0.75]. */
  milestones?: number[];
  gamma?: number;
  /** For 'onecycle': fraction of steps rising from lr/25 to lr. Default 0.25. Ends at lr/250. */
  pctStart?: number;
}

export function lrAt(step: number, total: number, o: ScheduleOptions): number {
  const warm = o.warmupSteps ?? 0;
  if (o.schedule !== 'onecycle' && step < warm) return o.lr * (0.1 + (0.9 * step) / warm);
  const t = Math.min(1, (step - (o.schedule === 'onecycle' ? 0 : warm)) / Math.max(1, total - (o.schedule === 'onecycle' ? 0 : warm)));
  switch (o.schedule) {
    case 'constant': return o.lr;
    case 'cosine': return 0.5 * o.lr * (1 + Math.cos(Math.PI * t));
    case 'step': return o.lr * (o.gamma ?? 0.1) ** (o.milestones ?? [0.5, 0.75]).filter((m) => t >= m).length;
    case 'onecycle': {
      const p = o.pctStart ?? 0.25;
      if (t < p) return o.lr / 25 + (o.lr - o.lr / 25) * (t / p);
      return o.lr / 250 + (o.lr - o.lr / 250) * (1 - (t - p) / (1 - p));
    }
  }
  throw new RangeError(`unknown schedule ${o.schedule as string}`);
}
