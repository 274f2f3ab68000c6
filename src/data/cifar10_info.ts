/** CIFAR-10's class names and published statistics: no Node imports, so the browser page can use them. */
import type { DataInfo } from './dataset.js';

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** CIFAR-10 as every run before data sets saw it. */
export const CIFAR10_INFO: DataInfo = {
  name: 'cifar10',
  format: 'cifar10',
  shape: [32, 32, 3],
  classNames: CIFAR10_CLASSES,
  mean: [0.4914, 0.4822, 0.4465],
  std: [0.247, 0.2435, 0.2616],
  stats: 'published',
};
