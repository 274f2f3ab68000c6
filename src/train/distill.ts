/**
 * Knowledge distillation (Hinton et al. 2015) from the unpruned model: the loss is
 * (1 - alpha) * CE(labels, student) + alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T)),
 * averaged over the batch. T^2 keeps the soft term's gradient scale independent of T.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface DistillOptions {
  temperature: number;
  alpha: number;
}

export function distillationLoss(
  student: tf.Tensor2D,
  teacher: tf.Tensor2D,
  oneHot: tf.Tensor2D,
  o: DistillOptions,
  labelSmoothing = 0,
): tf.Scalar {
  return tf.tidy(() => {
    const hard = tf.losses.softmaxCrossEntropy(oneHot, student, undefined, labelSmoothing) as tf.Scalar;
    const pt = tf.softmax(tf.div(teacher, o.temperature));
    const logPt = tf.logSoftmax(tf.div(teacher, o.temperature));
    const logPs = tf.logSoftmax(tf.div(student, o.temperature));
    const kl = tf.mean(tf.sum(tf.mul(pt, tf.sub(logPt, logPs)), 1));
    return tf.add(tf.mul(hard, 1 - o.alpha), tf.mul(kl, o.alpha * o.temperature ** 2)) as tf.Scalar;
  });
}
