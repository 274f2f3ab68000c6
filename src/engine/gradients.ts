/**
 * tfjs-core's Node bundle does not register the gradient functions; tfjs-layers' bundle does, into
 * the same global registry. Importing it here makes `tf.grads` work for core-only users too.
 */
import '@tensorflow/tfjs-layers';
