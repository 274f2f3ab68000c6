/**
 * Lookahead / EMA of all model weights (the airbench recipe): a slow copy `ema` that every few
 * steps moves towards the fast weights, after which the fast weights restart from it. Batch-norm
 * moving statistics are weights too and are averaged alike.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { OptimizerState } from './checkpoint.js';

export class Lookahead {
  /** Checkpoint entries of this state are named PREFIX + the weight's original name. */
  static readonly PREFIX = 'lookahead:';
  private readonly pairs: Array<{ key: string; w: tf.Variable; ema: tf.Variable }>;

  constructor(model: LayersModel, restore?: OptimizerState[]) {
    const saved = new Map(
      (restore ?? []).filter((o) => o.name.startsWith(Lookahead.PREFIX)).map((o) => [o.name.slice(Lookahead.PREFIX.length), o]),
    );
    this.pairs = model.weights.map((lw) => {
      const w = (lw as unknown as { read(): tf.Variable }).read();
      const s = saved.get(lw.originalName);
      const ema = tf.variable(s ? tf.tensor(s.values, s.shape) : w.clone(), false);
      return { key: lw.originalName, w, ema };
    });
  }

  /** ema <- ema + (1 - decay) * (w - ema); w <- ema. decay 1 copies the average into the model. */
  update(decay: number): void {
    tf.tidy(() => {
      for (const { w, ema } of this.pairs) {
        if (decay !== 1) ema.assign(tf.add(ema, tf.mul(tf.sub(w, ema), 1 - decay)));
        w.assign(ema);
      }
    });
  }

  state(): OptimizerState[] {
    return this.pairs.map(({ key, ema }) => ({ name: Lookahead.PREFIX + key, shape: ema.shape, values: ema.dataSync() as Float32Array }));
  }

  dispose(): void {
    for (const { ema } of this.pairs) ema.dispose();
  }
}
