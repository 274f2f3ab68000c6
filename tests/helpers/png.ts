/** Checking screenshots: grey-level variance of a PNG (decoded by pngjs), low for a blank chart. */
import { PNG } from 'pngjs';

/** Variance of the grey level (mean of RGB) over all pixels. */
export function greyVariance(png: Uint8Array): number {
  const { data, width, height } = PNG.sync.read(Buffer.from(png)); // RGBA, 8 bits per channel
  const n = width * height;
  let s = 0,
    s2 = 0;
  for (let i = 0; i < n; i++) {
    const g = (data[4 * i] + data[4 * i + 1] + data[4 * i + 2]) / 3;
    s += g;
    s2 += g * g;
  }
  return s2 / n - (s / n) ** 2;
}
