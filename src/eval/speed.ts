/** Inference throughput of a model at a batch size, on the current backend (median of repeats). */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

export function inferenceSpeed(model: LayersModel, batch = 256, repeats = 5): number {
  const x = tf.randomNormal([batch, 32, 32, 3], 0, 1, 'float32', 1);
  const run = () => tf.tidy(() => (model.apply(x, { training: false }) as tf.Tensor).dataSync());
  run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  x.dispose();
  times.sort((a, b) => a - b);
  return batch / (times[Math.floor(times.length / 2)] / 1000);
}
