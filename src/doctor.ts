/**
 * `auraprune doctor`: what this installation will use, each with the fix when it is not the best
 * available: the backend (libtorch addon or tfjs CPU), the BLAS libtorch loaded, Chromium (PNG charts,
 * `bench web`), sharp (image folders), the data sets found, Redis (queued cells). One line per item and
 * a JSON summary.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { findCifarDir } from './data/cifar10.js';
import { DEBIAN_FASHION_MNIST } from './data/open.js';
import { nativeAddon, referenceBlasNote, useBestBackend } from './engine/backend/index.js';
import { nativeLoadError } from './engine/native/native.js';
import { CHROMIUM } from './report/png.js';

export interface Finding {
  item: string;
  ok: boolean;
  what: string;
  fix?: string;
}

export async function doctor(): Promise<Finding[]> {
  const out: Finding[] = [];
  const backend = await useBestBackend();
  const native = nativeAddon();
  out.push(
    native
      ? { item: 'backend', ok: true, what: 'libtorch addon (native, the fast path)' }
      : {
          item: 'backend',
          ok: false,
          what: `tfjs CPU backend, ~10-50x slower (${nativeLoadError()})`,
          fix: 'apt-get install -y libtorch-dev g++ make python3, then npx auraprune build-native',
        },
  );
  if (native) {
    const blas = referenceBlasNote();
    out.push(
      blas
        ? {
            item: 'blas',
            ok: false,
            what: 'reference BLAS (netlib): Dense layers ~15x slower',
            fix: 'apt-get install -y libopenblas0-openmp',
          }
        : { item: 'blas', ok: true, what: 'an optimised BLAS (OpenBLAS or MKL)' },
    );
    out.push(
      native.blockedClip
        ? { item: 'relu6', ok: true, what: "ReLU6 / clip run in oneDNN's blocked layout (MobileNets infer without layout round trips)" }
        : {
            item: 'relu6',
            ok: false,
            what: 'ReLU6 / clip convert out of the blocked layout and back (MobileNet inference ~1.4x slower)',
            fix: 'apt-get install -y libideep-dev libdnnl-dev (with Debian libtorch-dev), then npx auraprune build-native --force',
          },
    );
  }
  out.push(
    existsSync(CHROMIUM)
      ? { item: 'chromium', ok: true, what: CHROMIUM }
      : {
          item: 'chromium',
          ok: false,
          what: `none at ${CHROMIUM}: no PNG charts, no bench web`,
          fix: 'apt-get install -y chromium, or set CHROMIUM_PATH',
        },
  );
  try {
    const sharp = (await import('sharp')).default;
    out.push({ item: 'sharp', ok: true, what: `sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}): image folders readable` });
  } catch (e) {
    out.push({
      item: 'sharp',
      ok: false,
      what: `sharp did not load (${(e as Error).message})`,
      fix: 'npm ci (sharp ships prebuilt binaries from npm)',
    });
  }
  let cifar: string | null;
  try {
    cifar = findCifarDir();
  } catch {
    cifar = null;
  }
  out.push(
    cifar
      ? { item: 'cifar10', ok: true, what: cifar }
      : {
          item: 'cifar10',
          ok: false,
          what: 'not found (CIFAR10_DIR, the cache)',
          fix: 'any command downloads it on first use, or pass --data DIR / set CIFAR10_DIR',
        },
  );
  out.push(
    existsSync(DEBIAN_FASHION_MNIST)
      ? { item: 'fashion-mnist', ok: true, what: DEBIAN_FASHION_MNIST }
      : { item: 'fashion-mnist', ok: false, what: 'not installed (optional)', fix: 'apt-get install -y dataset-fashion-mnist' },
  );
  const redis = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  out.push(
    redis.status === 0
      ? { item: 'redis', ok: true, what: redis.stdout.trim().split(' ').slice(0, 3).join(' ') }
      : { item: 'redis', ok: false, what: 'redis-server not installed (optional: queued cells)', fix: 'apt-get install -y redis-server' },
  );
  out.push({
    item: 'node',
    ok: Number(process.versions.node.split('.')[0]) >= 20,
    what: `Node ${process.versions.node}, backend in use: ${backend}`,
    fix: 'Node 20 or newer',
  });
  return out;
}
