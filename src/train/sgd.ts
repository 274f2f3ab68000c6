/**
 * SGD with momentum, optional Nesterov, and weight decay (coupled L2 or decoupled), on tfjs
 * variables. Batch-norm parameters and biases are not decayed. The velocity buffers are plain
 * named tensors, so they checkpoint and restore exactly.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SGD_UPDATE, SgdUpdateAttrs } from '../engine/kernels/grad_kernels.js';

export interface SgdOptions {
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  /** 'l2': add wd * w to the gradient (classic SGD); 'decoupled': w -= lr * wd * w. Default 'l2'. */
  decay?: 'l2' | 'decoupled';
  /**
   * Per-parameter groups (PyTorch's param groups): a learning-rate multiplier and the L2 coefficient
   * for the parameter with this key, or null to freeze it. `epoch` is 1-based. When absent, every
   * parameter has lr x1 and kernels get `weightDecay`.
   */
  rule?: (key: string, epoch: number) => ParamRule | null;
}

export interface ParamRule {
  lrScale: number;
  l2: number;
}

/** Kernels are decayed; biases, BN gamma/beta are not. */
export function decays(name: string): boolean {
  return /kernel(_\d+)?$/.test(name);
}

/** A trainable variable with a stable key (the layer weight's original name, e.g. 'conv1/kernel'). */
export interface Param {
  key: string;
  variable: tf.Variable;
}

export class Sgd {
  readonly velocity = new Map<string, tf.Variable>();

  constructor(readonly o: SgdOptions) {}

  /** The group rule of `key` at `epoch` (null: frozen). */
  ruleOf(key: string, epoch: number): ParamRule | null {
    return this.o.rule ? this.o.rule(key, epoch) : { lrScale: 1, l2: decays(key) ? this.o.weightDecay : 0 };
  }

  apply(params: Param[], grads: tf.NamedTensorMap, lr: number, epoch = 1): void {
    const fused = tf.getBackend() === 'libtorch';
    tf.tidy(() => {
      for (const { key, variable: v } of params) {
        let g = grads[v.name];
        const r = this.ruleOf(key, epoch);
        if (!g || !r) continue;
        const wd = r.l2;
        const plr = lr * r.lrScale;
        let vel = this.velocity.get(key);
        if (!vel) {
          vel = tf.variable(tf.zerosLike(v), false);
          this.velocity.set(key, vel);
        }
        // the decay is either coupled (added to the gradient) or decoupled (shrinks the weight)
        const l2 = wd && (this.o.decay ?? 'l2') === 'l2' ? wd : 0;
        const decoupled = wd && this.o.decay === 'decoupled' ? wd : 0;
        if (fused) {
          // the same arithmetic in one native pass (src/engine/native/csrc/ops_grad.cc)
          const attrs: SgdUpdateAttrs = {
            lr: plr,
            momentum: this.o.momentum,
            nesterov: this.o.nesterov,
            l2,
            decoupled,
          };
          const [w, nv] = tf.engine().runKernel(SGD_UPDATE, { w: v, velocity: vel, g }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
          vel.assign(nv);
          v.assign(w);
          continue;
        }
        if (l2) g = tf.add(g, tf.mul(v, l2));
        const next = tf.add(tf.mul(vel, this.o.momentum), g);
        vel.assign(next);
        const step = this.o.nesterov ? tf.add(g, tf.mul(next, this.o.momentum)) : next;
        let w = tf.sub(v, tf.mul(step, plr));
        if (decoupled) w = tf.sub(w, tf.mul(v, plr * decoupled));
        v.assign(w);
      }
    });
  }

  /** Velocity buffers as name -> values (for checkpoints). */
  state(): Array<{ name: string; shape: number[]; values: Float32Array }> {
    return [...this.velocity].map(([name, t]) => ({ name, shape: t.shape, values: t.dataSync() as Float32Array }));
  }

  restore(state: Array<{ name: string; shape: number[]; values: Float32Array }>): void {
    this.dispose();
    for (const s of state) this.velocity.set(s.name, tf.variable(tf.tensor(s.values, s.shape), false));
  }

  dispose(): void {
    for (const v of this.velocity.values()) v.dispose();
    this.velocity.clear();
  }
}
