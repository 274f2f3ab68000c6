/**
 * The page server and page directory against a hostile or careless user: links planted in the served
 * or output directory, a foreign Host header (DNS rebinding), malformed URLs.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tfl from '@tensorflow/tfjs-layers';
import { setFallbackLogger, useBestBackend } from '../src/engine/backend/index.js';
import { prepareWebDir, serveDir, webBuildDir } from '../src/web/page.js';
import { CIFAR10_INFO } from '../src/data/dataset.js';

const tmp = mkdtempSync(join(tmpdir(), 'auraprune-webserver-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
});

/** A raw GET with the Host header we choose (fetch would not let us set it). */
function get(port: number, path: string, host = `127.0.0.1:${port}`): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers: { host } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

test('only regular files inside the directory, after links; only our Host; a bad URL is a 400, not a crash', async () => {
  const dir = join(tmp, 'served');
  mkdirSync(dir);
  writeFileSync(join(dir, 'index.html'), '<p>page</p>');
  const secret = join(tmp, 'secret.txt');
  writeFileSync(secret, 'outside');
  symlinkSync('/', join(dir, 'root'));
  symlinkSync(secret, join(dir, 'leak.txt'));
  const { server, url } = await serveDir(dir, 0);
  const port = Number(new URL(url).port);
  try {
    assert.equal((await get(port, '/')).body, '<p>page</p>');
    assert.equal((await get(port, '/index.html', `localhost:${port}`)).status, 200);
    assert.equal((await get(port, '/root/etc/passwd')).status, 404, 'a link to / is not followed out');
    assert.equal((await get(port, '/leak.txt')).status, 404, 'a link to a file outside is not served');
    assert.equal((await get(port, '/../secret.txt')).status, 404);
    assert.equal((await get(port, '/', `attacker.example:${port}`)).status, 403, 'a rebound DNS name is refused');
    assert.equal((await get(port, '/', '127.0.0.1:1')).status, 403);
    assert.equal((await get(port, '/%E0%A4%A')).status, 400);
    assert.equal((await get(port, '/')).status, 200, 'still serving after the bad URL');
  } finally {
    server.close();
  }
});

const built = existsSync(join(webBuildDir(), 'index.html')) ? null : `the page is not built (${webBuildDir()}): run \`npm run build\``;

test('web --no-serve never writes through links planted in the page directory', built ? { skip: built } : {}, async () => {
  const x = tfl.input({ shape: [32, 32, 3] });
  const y = tfl.layers.dense({ units: 10 }).apply(tfl.layers.globalAveragePooling2d({}).apply(x)) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: x, outputs: y });
  const split = { images: new Uint8Array(4 * 3072).fill(7), labels: Uint8Array.from([0, 1, 2, 3]), n: 4, info: CIFAR10_INFO };
  const out = join(tmp, 'run', 'web');
  await prepareWebDir([{ name: 'original', model }], split, out, { images: 4 });
  // plant links to other directories where the page writes its model and data
  const victimModel = join(tmp, 'victim-model'),
    victimData = join(tmp, 'victim-data');
  mkdirSync(victimModel);
  mkdirSync(victimData);
  writeFileSync(join(victimModel, 'model.json'), 'user model');
  rmSync(join(out, 'models', 'original'), { recursive: true });
  symlinkSync(victimModel, join(out, 'models', 'original'));
  rmSync(join(out, 'data'), { recursive: true });
  symlinkSync(victimData, join(out, 'data'));
  await prepareWebDir([{ name: 'original', model }], split, out, { images: 4 });
  assert.equal(readFileSync(join(victimModel, 'model.json'), 'utf8'), 'user model');
  assert.deepEqual(readdirSync(victimData), []);
  assert.ok(existsSync(join(out, 'models', 'original', 'weights.bin')));
  // a directory that is not ours, or a link as --out, is refused
  const mine = join(tmp, 'my-files');
  mkdirSync(mine);
  writeFileSync(join(mine, 'notes.txt'), 'keep');
  await assert.rejects(prepareWebDir([{ name: 'original', model }], split, mine), /not a page directory written by `auraprune web`/);
  symlinkSync(mine, join(tmp, 'out-link'));
  await assert.rejects(prepareWebDir([{ name: 'original', model }], split, join(tmp, 'out-link')), /is a symbolic link/);
  assert.deepEqual(readdirSync(mine), ['notes.txt']);
});
