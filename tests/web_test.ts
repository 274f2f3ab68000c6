/**
 * The browser page in a real headless Chromium: it loads an original and a pruned model, and its
 * accuracy on the shipped images equals Node's, agreement is reported, CPU and WASM latencies are
 * present and positive, and the page logs no errors.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { setFallbackLogger, useBestBackend } from '../src/engine/backend/index.js';
import { loadCifar10 } from '../src/data/cifar10.js';
import { trainValSplit } from '../src/data/pipeline.js';
import { buildModel } from '../src/models/zoo.js';
import { scoreModel } from '../src/prune/importance/registry.js';
import { pruneWithScores, toScoresFile } from '../src/prune/pipeline.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../src/report/png.js';
import { trainModel } from '../src/train/loop.js';
import { prepareWebDir, runPageHeadless, serveDir, webBuildDir } from '../src/web/page.js';
import { CIFAR_DIR, NEEDS_CIFAR, normalisedImages, SMALL_SGD } from './helpers/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'auraprune-web-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
});

const missing = !existsSync(join(webBuildDir(), 'index.html'))
  ? `the page is not built (${webBuildDir()}): run \`npm run build\``
  : !existsSync(CHROMIUM)
    ? `no Chromium at ${CHROMIUM} (apt-get install chromium)`
    : null;

describe('browser page', missing ? { skip: missing } : NEEDS_CIFAR, () => {
  test('original and pruned model in headless Chromium: accuracy equals Node, CPU and WASM timed, no console errors', async () => {
    const { train, val } = trainValSplit(loadCifar10(CIFAR_DIR, 'train', { limit: 1500 }), 300, 1);
    const original = (
      await trainModel(buildModel('fast', { width: 0.125, seed: 1 }), SMALL_SGD, { train, val }, join(tmp, 'base'), { quiet: true })
    ).model;
    const [l1] = await scoreModel(original, val, ['l1'], { quiet: true });
    const { model: pruned } = await pruneWithScores(original, toScoresFile(l1), { by: 'flops', fraction: 0.5 });
    const test = loadCifar10(CIFAR_DIR, 'test', { limit: 200 });
    const dir = join(tmp, 'web');
    const manifest = await prepareWebDir(
      [
        { name: 'original', model: original },
        { name: 'pruned', model: pruned },
      ],
      test,
      dir,
      { images: 200 },
    );
    // Node's agreement between the two models' predictions on the same images
    const x = tf.tensor4d(normalisedImages(test, 200), [200, 32, 32, 3]);
    const argmax = (m: typeof original) => tf.tidy(() => tf.argMax(m.predict(x) as tf.Tensor2D, 1)).dataSync();
    const [po, pp] = [argmax(original), argmax(pruned)];
    const nodeAgreement = po.reduce((a, v, i) => a + (v === pp[i] ? 1 : 0), 0) / 200;
    const { url, server } = await serveDir(dir, 0);
    try {
      const files = (name: string) => ['model.json', 'weights.bin'].map((f) => join(dir, 'models', name, f));
      const {
        results: res,
        errors,
        browser,
        filesResults,
      } = await runPageHeadless(url, {
        chromium: CHROMIUM,
        args: CHROMIUM_ARGS,
        timeoutMs: 240_000,
        files: { original: files('original'), pruned: files('pruned') },
      });
      const usable = res.results.filter((r) => r.available && !r.error).map((r) => r.backend);
      process.stderr.write(`${browser}: offered ${res.offered.join(', ')}; usable ${usable.join(', ')}\n`);
      for (const b of ['cpu', 'wasm']) {
        const r = res.results.find((x) => x.backend === b);
        assert.ok(r && r.available && !r.error, `${b}: ${r?.error ?? 'not offered'}`);
        for (const m of manifest.models) {
          const got = r.models[m.name];
          assert.ok(Math.abs(got.accuracy - m.nodeAccuracy) <= 0.005, `${b} ${m.name}: browser ${got.accuracy} vs Node ${m.nodeAccuracy}`);
          assert.ok(got.batch1.median > 0 && got.batch32.median > 0, `${b} ${m.name} latency`);
        }
        assert.ok(
          r.agreement !== undefined && Math.abs(r.agreement - nodeAgreement) <= 0.005,
          `${b} agreement ${r.agreement} vs Node ${nodeAgreement}`,
        );
      }
      // the same models chosen as files on the page give the same accuracies
      const cpu = filesResults!.results.find((x) => x.backend === 'cpu')!;
      for (const m of manifest.models) assert.ok(Math.abs(cpu.models[m.name].accuracy - m.nodeAccuracy) <= 0.005, `files ${m.name}`);
      assert.deepEqual(errors, []);
    } finally {
      server.close();
    }
  });
});
