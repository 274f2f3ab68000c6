/**
 * Fixes for tfjs-layers 4.22 bugs that lose information this project needs, applied once on import
 * (tfjs is pinned; src/engine/tfjs_internals_test.ts checks each fix still applies and still matters).
 *
 * - SeparableConv2D.getConfig() omits `depthMultiplier`, so a separable conv with multiplier m != 1
 *   saved as model.json (or rebuilt from its topology, as surgery does) comes back with m = 1 and
 *   its weights no longer fit. The config now carries it.
 */
import * as tfl from '@tensorflow/tfjs-layers';

type WithConfig = { prototype: { getConfig(this: { depthMultiplier: number }): Record<string, unknown> } };
const Separable = tfl.layers.separableConv2d({ filters: 1, kernelSize: 1 }).constructor as unknown as WithConfig;
if (!Object.hasOwn(Separable.prototype, 'getConfig')) {
  const inherited = Separable.prototype.getConfig;
  Separable.prototype.getConfig = function () {
    const config = inherited.call(this);
    config.depthMultiplier ??= this.depthMultiplier;
    return config;
  };
}
