/** Information core: quantisation, aura matrices/entropy, spatial MI and MI estimators (pure numeric). */
export * from './quantize.js';
export * from './aura.js';
export * from './spatial_mi.js';
export * from './binned.js';
export * from './ksg.js';
export * from './mint_geometric.js';
export { digamma } from './special.js';
