import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../util/rng.js';
import { mutualInfoBinned } from './binned.js';
import { mutualInfoKSG } from './ksg.js';
import { mintConditionalMI } from './mint_geometric.js';
import { digamma } from './special.js';

function gaussian(n: number, rho: number, seed: number): { x: Float64Array; y: Float64Array } {
  const rng = new Rng(seed);
  const x = new Float64Array(n),
    y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = rng.normal(),
      b = rng.normal();
    x[i] = a;
    y[i] = rho * a + Math.sqrt(1 - rho * rho) * b;
  }
  return { x, y };
}
const truth = (rho: number) => -0.5 * Math.log(1 - rho * rho);

describe('MI estimators on bivariate Gaussians (closed form -0.5 ln(1 - rho^2))', () => {
  test('digamma matches known values', () => {
    assert.ok(Math.abs(digamma(1) + 0.5772156649015329) < 1e-10);
    assert.ok(Math.abs(digamma(0.5) - (-0.5772156649015329 - 2 * Math.LN2)) < 1e-10);
    assert.ok(Math.abs(digamma(10) - 2.251752589066721) < 1e-10);
  });
  for (const rho of [0, 0.5, 0.9]) {
    test(`KSG within 0.03 nats at n=5000, rho=${rho}`, () => {
      const { x, y } = gaussian(5000, rho, 11);
      const mi = mutualInfoKSG(x, y);
      assert.ok(Math.abs(mi - truth(rho)) < 0.03, `KSG ${mi} vs ${truth(rho)}`);
    });
    test(`binned (Miller-Madow) within 0.05 nats at n=5000, rho=${rho}`, () => {
      // Equal-width bins lose information in the tails: a wider tolerance than KSG, stated here.
      const { x, y } = gaussian(5000, rho, 12);
      const mi = mutualInfoBinned(x, y);
      assert.ok(Math.abs(mi - truth(rho)) < 0.05, `binned ${mi} vs ${truth(rho)}`);
    });
  }
  test("MINT's geometric estimator ranks rho 0 < 0.5 < 0.9", () => {
    const s = [0, 0.5, 0.9].map((rho) => {
      const { x, y } = gaussian(1500, rho, 13);
      return mintConditionalMI({ data: x, n: 1500, d: 1 }, { data: y, n: 1500, d: 1 }, null, { seed: 1 });
    });
    assert.ok(s[0] < s[1] && s[1] < s[2], `scores ${s}`);
    assert.ok(Math.abs(s[0]) < 0.1, `independent score ${s[0]} near 0`);
  });
  test('MINT conditional: X and Y dependent only through Z score lower than directly dependent', () => {
    const rng = new Rng(14);
    const n = 1500;
    const z = Float64Array.from({ length: n }, () => rng.normal());
    const x = z.map((v) => v + 0.3 * rng.normal());
    const yViaZ = z.map((v) => v + 0.3 * rng.normal());
    const yDirect = x.map((v) => v + 0.3 * rng.normal());
    const cond = (y: Float64Array) => mintConditionalMI({ data: x, n, d: 1 }, { data: y, n, d: 1 }, { data: z, n, d: 1 }, { seed: 2 });
    assert.ok(cond(yViaZ) < cond(yDirect), `${cond(yViaZ)} vs ${cond(yDirect)}`);
  });
  test('estimators are deterministic and refuse mismatched lengths', () => {
    const { x, y } = gaussian(500, 0.5, 15);
    assert.equal(mutualInfoKSG(x, y, { seed: 3 }), mutualInfoKSG(x, y, { seed: 3 }));
    assert.throws(() => mutualInfoKSG(x, y.subarray(1)), /length/);
    assert.throws(() => mutualInfoBinned(x, y.subarray(1)), /length/);
  });
});
