/** `auraprune web`: the original and pruned model side by side in the browser (src/web/page.ts, web/). */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadImageModel } from '../../models/io.js';
import { prepareWebDir, runPageHeadless, serveDir } from '../../web/page.js';
import { dataFlags, dataOptions, int, setupBackend } from '../options.js';
import { openRunData, trainingRunSettings } from '../../data/splits.js';
import { readJsonFile } from '../../util/jsonl.js';

/** The pruned model of a prune or finetune output directory and the original it came from. */
function resolveRun(run: string): { pruned: string; original: string } {
  const cfgPath = join(run, 'config.json');
  if (!existsSync(cfgPath) || !existsSync(join(run, 'model.json')))
    throw new Error(
      `${run}: expected the output directory of \`auraprune prune\` or \`finetune\` (model.json + config.json); or give --original and --pruned`,
    );
  const cfg = readJsonFile(cfgPath);
  const source = cfg.source ?? cfg.settings?.source;
  if (typeof source !== 'string') throw new Error(`${cfgPath} names no source model; give --original DIR`);
  return { pruned: run, original: source };
}

export function registerWeb(program: Command): void {
  dataOptions(
    program
      .command('web')
      .description('compare the original and pruned model in a browser: accuracy, agreement, size, latency per tfjs backend'),
  )
    .argument('[run]', 'output directory of `prune` or `finetune` (its config.json names the original)')
    .option('--original <dir>', 'original model directory')
    .option('--pruned <dir>', 'pruned model directory')
    .option('--images <n>', 'test images shipped with the page', int, 500)
    .option('--out <dir>', 'directory to lay the page out in (default: <run or pruned>/web)')
    .option('--port <n>', 'port on 127.0.0.1 (0: any free port)', int, 8080)
    .option('--no-serve', 'only write the directory')
    .option('--backend <name>', 'Node backend for the reference figures: libtorch | cpu | auto', 'auto')
    .action(async (run: string | undefined, o) => {
      await setupBackend(o);
      const paths = o.original && o.pruned ? { original: o.original, pruned: o.pruned } : run ? resolveRun(run) : null;
      if (!paths) throw new Error('give a prune/finetune output directory, or --original DIR and --pruned DIR');
      const data = await openRunData(trainingRunSettings(paths.original), dataFlags(o), { valSize: 5000, seed: 1 });
      const [original, pruned] = [await loadImageModel(paths.original, data.info), await loadImageModel(paths.pruned, data.info)];
      const out = o.out ?? join(run ?? paths.pruned, 'web');
      const manifest = await prepareWebDir(
        [
          { name: 'original', model: original },
          { name: 'pruned', model: pruned },
        ],
        data.test,
        out,
        { images: o.images, source: resolve(paths.original) },
      );
      console.log(
        JSON.stringify({
          out,
          images: manifest.images.n,
          models: manifest.models.map(({ name, params, flops, nodeAccuracy }) => ({ name, params, flops, nodeAccuracy })),
        }),
      );
      if (!o.serve) return;
      const { url } = await serveDir(out, o.port);
      console.log(`serving ${out} at ${url} (Ctrl-C to stop)`);
    });
}

/** `bench web`: one JSON line per pruned model with the browser's figures beside Node's. */
export async function benchWeb(o: {
  original: string;
  pruned: string;
  images: number;
  out: string;
  screenshot?: string;
  data?: string;
}): Promise<void> {
  const { CHROMIUM, CHROMIUM_ARGS } = await import('../../report/png.js');
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  const data = await openRunData(trainingRunSettings(o.original), { data: o.data }, { valSize: 5000, seed: 1 });
  const original = await loadImageModel(o.original, data.info);
  for (const [i, p] of o.pruned.split(',').entries()) {
    const dir = join(o.out, `cmp${i}`);
    const manifest = await prepareWebDir(
      [
        { name: 'original', model: original },
        { name: 'pruned', model: await loadImageModel(p, data.info) },
      ],
      data.test,
      dir,
      { images: o.images, source: resolve(o.original) },
    );
    const { url, server } = await serveDir(dir, 0);
    try {
      const r = await runPageHeadless(url, { chromium: CHROMIUM, args: CHROMIUM_ARGS, screenshot: i === 0 ? o.screenshot : undefined });
      const speedups = r.results.results
        .filter((b) => b.available && !b.error)
        .map((b) => ({
          backend: b.backend,
          agreement: b.agreement,
          accuracy: Object.fromEntries(Object.entries(b.models).map(([k, v]) => [k, v.accuracy])),
          batch1Ms: Object.fromEntries(Object.entries(b.models).map(([k, v]) => [k, v.batch1.median])),
          batch32Ms: Object.fromEntries(Object.entries(b.models).map(([k, v]) => [k, v.batch32.median])),
          speedupBatch1: b.models.original.batch1.median / b.models.pruned.batch1.median,
          speedupBatch32: b.models.original.batch32.median / b.models.pruned.batch32.median,
        }));
      console.log(
        JSON.stringify({
          pruned: p,
          browser: r.browser,
          images: manifest.images.n,
          flops: manifest.models.map((m) => m.flops),
          nodeAccuracy: manifest.models.map((m) => m.nodeAccuracy),
          consoleErrors: r.errors.length,
          backends: speedups,
        }),
      );
    } finally {
      server.close();
    }
  }
}
