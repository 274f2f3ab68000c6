/** Minimal PNG decoder (8-bit RGB/RGBA, non-interlaced) for checking screenshots: pixel variance. */
import { inflateSync } from 'node:zlib';

export function decodePng(buf: Uint8Array): { width: number; height: number; channels: number; pixels: Uint8Array } {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 8,
    width = 0,
    height = 0,
    channels = 0;
  const idat: Uint8Array[] = [];
  while (off < buf.length) {
    const len = dv.getUint32(off),
      type = String.fromCharCode(...buf.subarray(off + 4, off + 8));
    const body = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = dv.getUint32(off + 8);
      height = dv.getUint32(off + 12);
      if (body[8] !== 8 || body[12] !== 0) throw new Error('only 8-bit non-interlaced PNG');
      channels = body[9] === 6 ? 4 : body[9] === 2 ? 3 : body[9] === 0 ? 1 : 0;
      if (!channels) throw new Error(`PNG colour type ${body[9]} not supported`);
    } else if (type === 'IDAT') idat.push(body);
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels,
    px = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)],
      line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? px[y * stride + x - channels] : 0,
        b = y > 0 ? px[(y - 1) * stride + x] : 0,
        c = x >= channels && y > 0 ? px[(y - 1) * stride + x - channels] : 0;
      const p = a + b - c,
        pa = Math.abs(p - a),
        pb = Math.abs(p - b),
        pc = Math.abs(p - c);
      const pred = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      px[y * stride + x] = (line[x] + pred) & 255;
    }
  }
  return { width, height, channels, pixels: px };
}

/** Variance of the grey level (mean of RGB) over all pixels. */
export function greyVariance(png: Uint8Array): number {
  const { pixels, channels } = decodePng(png);
  const n = pixels.length / channels;
  let s = 0,
    s2 = 0;
  for (let i = 0; i < n; i++) {
    const g = channels >= 3 ? (pixels[i * channels] + pixels[i * channels + 1] + pixels[i * channels + 2]) / 3 : pixels[i * channels];
    s += g;
    s2 += g * g;
  }
  return s2 / n - (s / n) ** 2;
}
