import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import { greyVariance } from './helpers/png.js';

test('grey-level variance of a 2x2 PNG with one black and three white pixels is the hand-computed 12192.1875', () => {
  const png = new PNG({ width: 2, height: 2 });
  png.data.fill(255);
  png.data[0] = png.data[1] = png.data[2] = 0; // pixel (0, 0) black, alpha stays 255
  // grey levels 0, 255, 255, 255: mean 191.25, variance 12192.1875
  assert.ok(Math.abs(greyVariance(PNG.sync.write(png)) - 12192.1875) < 1e-9);
  // a blank (single-colour) image has none
  const blank = new PNG({ width: 3, height: 3 });
  blank.data.fill(200);
  assert.equal(greyVariance(PNG.sync.write(blank)), 0);
});
