/** Learning-rate schedules as pure functions of the step (0-based) and the total step count. */

export type ScheduleName = 'cosine' | 'step' | 'onecycle' | 'constant' | 'linear';
export const SCHEDULES: readonly ScheduleName[] = ['cosine', 'step', 'onecycle', 'constant', 'linear'];

export interface ScheduleOptions {
  /** Peak learning rate. */
  lr: number;
  schedule: ScheduleName;
  /** Linear warm-up steps from lr/10 (cosine, step, constant). Default 0. */
  warmupSteps?: number;
  /** For 'step': fractions of training at which lr is multiplied by `gamma`. Default [0.5, 0.75]. */
  milestones?: number[];
  gamma?: number;
  /**
   * For 'onecycle': fraction of steps rising from lr/25 to lr (default 0.25; ends at lr/250).
   * For 'linear': fraction rising linearly from lr * 0.2 to lr, then falling linearly to lr * 0.07
   * (default 0.23; the airbench recipe's shape).
   */
  pctStart?: number;
}

export function lrAt(step: number, total: number, o: ScheduleOptions): number {
  if (o.schedule === 'linear') {
    const w = Math.floor(total * (o.pctStart ?? 0.23));
    if (step < w) return o.lr * (0.2 + 0.8 * (step / w));
    return o.lr * (1 - 0.93 * Math.min(1, (step - w) / Math.max(1, total - w)));
  }
  const warm = o.warmupSteps ?? 0;
  if (o.schedule !== 'onecycle' && step < warm) return o.lr * (0.1 + (0.9 * step) / warm);
  const t = Math.min(1, (step - (o.schedule === 'onecycle' ? 0 : warm)) / Math.max(1, total - (o.schedule === 'onecycle' ? 0 : warm)));
  switch (o.schedule) {
    case 'constant':
      return o.lr;
    case 'cosine':
      return 0.5 * o.lr * (1 + Math.cos(Math.PI * t));
    case 'step':
      return o.lr * (o.gamma ?? 0.1) ** (o.milestones ?? [0.5, 0.75]).filter((m) => t >= m).length;
    case 'onecycle': {
      const p = o.pctStart ?? 0.25;
      if (t < p) return o.lr / 25 + (o.lr - o.lr / 25) * (t / p);
      return o.lr / 250 + (o.lr - o.lr / 250) * (1 - (t - p) / (1 - p));
    }
  }
  throw new RangeError(`unknown schedule ${o.schedule as string}`);
}
