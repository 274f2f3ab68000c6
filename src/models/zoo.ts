/** The model zoo by name: what `--model` accepts. */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { buildAirbench } from './airbench.js';
import { buildResNet } from './resnet.js';
import { buildResNet9 } from './resnet9.js';
import { buildMobileNetV2 } from './mobilenetv2.js';
import { buildVgg16 } from './vgg.js';

export const MODEL_NAMES = ['airbench', 'vgg16', 'resnet20', 'resnet32', 'resnet56', 'resnet9', 'fast', 'mobilenetv2'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/**
 * Builds a zoo model. `airbench` is the default preset's network (its whitening filters are set from
 * data by `initWhitening` before training); `fast` is ResNet-9 at width 0.5.
 */
export interface ZooOptions {
  width?: number;
  seed?: number;
  /** the data set's image shape [h, w, c] (default CIFAR's [32, 32, 3]) */
  inputShape?: [number, number, number];
  /** the data set's class count (default 10) */
  classes?: number;
}

export function buildModel(name: string, opts: ZooOptions = {}): LayersModel {
  switch (name) {
    case 'airbench':
      return buildAirbench(opts);
    case 'vgg16':
      return buildVgg16(opts);
    case 'resnet20':
      return buildResNet({ ...opts, depth: 20 });
    case 'resnet32':
      return buildResNet({ ...opts, depth: 32 });
    case 'resnet56':
      return buildResNet({ ...opts, depth: 56 });
    case 'resnet9':
    case 'fast':
      return buildResNet9(opts);
    case 'mobilenetv2':
      return buildMobileNetV2(opts);
  }
  throw new RangeError(`unknown model ${name}; choose one of ${MODEL_NAMES.join(', ')}`);
}
