/**
 * Installed as a dependency: `npm pack` ships the built library, the browser page, the native sources
 * and the build script (no tests, no logs); installing the tarball into a fresh project gives a working
 * `import ... from 'auraprune'` (the README's example runs there), a CLI on the project's PATH, and a
 * native build that finds its tools from the consumer's install.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { saveModel } from '../src/models/io.js';
import { buildModel } from '../src/models/zoo.js';
import { CIFAR_DIR, NEEDS_CIFAR } from './helpers/fixtures.js';
import '@tensorflow/tfjs-backend-cpu';

const ROOT = resolve(import.meta.dirname, '..');
const tmp = mkdtempSync(join(tmpdir(), 'auraprune-pkg-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const run = (cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) =>
  spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 600_000, env: { ...process.env, ...env } });

const built = existsSync(join(ROOT, 'dist', 'index.js')) && existsSync(join(ROOT, 'dist', 'browser', 'index.html'));

describe('the packed tarball in a fresh project', built ? NEEDS_CIFAR : { skip: 'dist/ is not built: run `npm run build`' }, () => {
  test('pack, install, run the README library example, find the CLI and the native build tools', async () => {
    const pack = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], ROOT);
    assert.equal(pack.status, 0, pack.stderr);
    const info = JSON.parse(pack.stdout)[0] as { filename: string; files: Array<{ path: string }> };
    const files = info.files.map((f) => f.path);
    for (const f of [
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cli/main.js',
      'dist/browser/index.html',
      'LICENSE',
      'scripts/build-native.mjs',
      'src/engine/native/binding.gyp',
      'examples/prune-my-model.mjs',
    ])
      assert.ok(files.includes(f), `${f} shipped`);
    assert.ok(!files.some((f) => f.startsWith('tests/') || f.endsWith('.log') || /_test\.(js|ts)$/.test(f)), 'no tests or logs shipped');

    const app = join(tmp, 'app');
    rmSync(app, { recursive: true, force: true });
    run('mkdir', ['-p', app], tmp);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
    const install = run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(tmp, info.filename)], app);
    assert.equal(install.status, 0, install.stderr);
    // every dependency supports the Node the package declares (vega-lite 6.5 asked for 22)
    assert.doesNotMatch(install.stderr, /EBADENGINE/, install.stderr);

    await saveModel(buildModel('fast', { width: 0.125, seed: 1 }), join(app, 'my-model'));
    copyFileSync(join(ROOT, 'examples', 'prune-my-model.mjs'), join(app, 'prune-my-model.mjs'));
    const ex = run(process.execPath, ['prune-my-model.mjs', 'my-model', 'my-model-pruned', '1', '3000'], app, { CIFAR10_DIR: CIFAR_DIR });
    assert.equal(ex.status, 0, ex.stderr);
    const out = JSON.parse(ex.stdout.trim().split('\n').pop()!);
    assert.ok(Math.abs(out.flopsRemoved - 0.5) < 0.01, JSON.stringify(out));
    assert.ok(out.paramsAfter < out.paramsBefore);
    assert.ok(readdirSync(join(app, 'my-model-pruned')).includes('model.json'));

    // the README's install-script sentence, for the npm that ran here: npm 11 runs the install script
    // (the addon is built in the consumer when libtorch's headers are there), npm 12 holds it
    const npmMajor = Number(run('npm', ['--version'], app).stdout.trim().split('.')[0]);
    const addon = join(app, 'node_modules', 'auraprune', 'src', 'engine', 'native', 'build', 'Release', 'auraprune_native.node');
    if (existsSync('/usr/include/ATen/ATen.h'))
      assert.equal(existsSync(addon), npmMajor < 12, `npm ${npmMajor}: addon built by the install script: ${existsSync(addon)}`);
    const cli = run('npx', ['--no-install', 'auraprune', 'build-native', '--check'], app);
    assert.equal(cli.status, 0, cli.stderr);
    const check = JSON.parse(cli.stdout);
    assert.ok(check.nodeGyp.startsWith(join(app, 'node_modules')), `node-gyp from the consumer install: ${check.nodeGyp}`);
  });
});
