#!/usr/bin/env node
// Builds the libtorch addon when libtorch is present; otherwise says once how to get the fast path
// and exits 0, so `npm ci` always succeeds (the CPU backend is then used).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'src', 'engine', 'native');
const libtorch = process.env.LIBTORCH;
const header = libtorch ? join(libtorch, 'include', 'ATen', 'ATen.h') : '/usr/include/ATen/ATen.h';
const force = process.argv.includes('--force');
// --check: say what would be used, build nothing
const check = process.argv.includes('--check');

if (!existsSync(header)) {
  const msg = `[auraprune] libtorch not found (${header}); the fast 'libtorch' backend is not built and the slow tfjs CPU backend will be used. ` +
    `Install it with 'apt-get install -y libtorch-dev libideep-dev libdnnl-dev libopenblas0-openmp' (or set LIBTORCH=/path/to/libtorch) and run 'npx auraprune build-native'.`;
  console.warn(msg);
  process.exit(force ? 1 : 0);
}
// node-gyp is a dependency: beside us in a checkout, hoisted into the consumer's node_modules when installed
let gyp = null;
try {
  gyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
} catch {
  console.warn('[auraprune] node-gyp not found (dependencies not installed); skipping the native build.');
  process.exit(force ? 1 : 0);
}
if (check) {
  console.log(JSON.stringify({ libtorchHeader: header, nodeGyp: gyp, nativeDir }));
  process.exit(0);
}
// node's own headers (Debian's nodejs ships them under <prefix>/include/node): without npm's config
// node-gyp would try to download them, which fails offline
const prefix = join(dirname(process.execPath), '..');
const nodedir = existsSync(join(prefix, 'include', 'node', 'node.h')) ? [`--nodedir=${prefix}`] : [];
const r = spawnSync(process.execPath, [gyp, 'rebuild', '-j', 'max', ...nodedir, '--directory', nativeDir], { stdio: 'inherit' });
if (r.status !== 0) {
  console.warn('[auraprune] the native addon failed to build; the CPU backend will be used. See the compiler output above.');
  process.exit(force ? 1 : 0);
}
