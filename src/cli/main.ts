#!/usr/bin/env node
/**
 * auraprune command line. Subcommands only parse arguments and wire modules; this is the one place
 * that reads argv/env and chooses the backend.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { packageRoot } from '../engine/native/native.js';
import { benchEngine, LAYOUTS } from './bench/engine.js';
import { benchMi, benchMiOnModel } from './bench/mi.js';
import { benchSpeed } from './bench/speed.js';
import { benchTrain } from './bench/train.js';
import { benchQueue } from './bench/queue.js';
import { registerTrain } from './commands/train.js';
import { auraEdges, registerPrune } from './commands/prune.js';
import { registerExperiment } from './commands/experiment.js';
import { registerStudy } from './commands/study.js';
import { registerWeb } from './commands/web.js';
import { dataFlags, dataOptions, int, num, setupBackend } from './options.js';
import { validateOptions } from './validate.js';

const program = new Command();
// every option is checked before a command does any work (src/cli/validate.ts)
program.hook('preAction', (_root, action) => {
  const opts = action.opts();
  // options the user typed (not commander defaults): cross-option rules judge only what was asked for
  const typed = new Set(Object.keys(opts).filter((k) => action.getOptionValueSource(k) === 'cli'));
  const checked = validateOptions(action.name(), opts, undefined, typed);
  for (const [k, v] of Object.entries(checked)) if (action.getOptionValue(k) !== v) action.setOptionValue(k, v);
});
program.name('auraprune').description('Prune CNN filters by spatial-aura-entropy mutual information (TensorFlow.js + libtorch)');

registerTrain(program);
registerPrune(program);
registerExperiment(program);
registerStudy(program);
registerWeb(program);

program
  .command('build-native')
  .description('build the libtorch addon (the fast backend) for this installation; needs libtorch-dev and a C++ toolchain')
  .option('--check', 'only print what would be used')
  .action((o) => {
    const script = join(packageRoot(), 'scripts', 'build-native.mjs');
    const r = spawnSync(process.execPath, [script, '--force', ...(o.check ? ['--check'] : [])], { stdio: 'inherit' });
    process.exitCode = r.status ?? 1;
  });

program
  .command('doctor')
  .description('what this installation uses (backend, BLAS, Chromium, sharp, data sets, Redis) and how to fix each')
  .action(async () => {
    const { doctor } = await import('../doctor.js');
    const found = await doctor();
    for (const f of found) console.log(`${f.ok ? 'ok ' : 'FIX'} ${f.item.padEnd(13)} ${f.what}${f.ok || !f.fix ? '' : ` -> ${f.fix}`}`);
    console.log(JSON.stringify(Object.fromEntries(found.map((f) => [f.item, f.ok]))));
  });

const bench = program.command('bench').description('benchmarks that print one JSON line');
bench
  .command('engine')
  .description(
    'train/infer img/s and batch-1 latency of VGG-16-BN on the libtorch backend (each layout) vs PyTorch NCHW, channels_last and mkldnn modules, alternating rounds',
  )
  .option('--model <name>', 'model (vgg16: the network bench/ has in PyTorch)', 'vgg16')
  .option('--width <w>', 'width multiplier', num, 1)
  .option('--batch <n>', 'batch size', int, 128)
  .option('--steps <n>', 'timed steps', int, 5)
  .option('--threads <n>', 'threads (libtorch and aura counting)', int, 2)
  .option('--cpu-steps <n>', 'timed steps on the tfjs CPU backend (0 to skip)', int, 0)
  .option('--cpu-batch <n>', 'batch size on the tfjs CPU backend', int, 8)
  .option('--no-pytorch', 'skip the PyTorch comparison')
  .option('--no-train', 'inference and latency only (more rounds in the same time)')
  .option('--python <path>', 'python with torch (Debian python3-torch)', '/usr/bin/python3')
  .option(
    '--rounds <n>',
    'rounds of every side (ours per layout, PyTorch NCHW, channels_last and mkldnn inference), alternating order',
    int,
    3,
  )
  .option('--layouts <list>', `our memory layouts to measure: ${LAYOUTS.join(', ')}`, LAYOUTS.join(','))
  .option('--json', 'print JSON (the only output format)', true)
  .action(async (o) => {
    o.layouts = String(o.layouts).split(',');
    if (o.layouts.some((l: string) => !(LAYOUTS as readonly string[]).includes(l)))
      throw new Error(`--layouts ${o.layouts}: a comma-separated list of ${LAYOUTS.join(', ')}`);
    // the PyTorch side is the same VGG-16-BN written in bench/; other models have no reference there
    if (o.model !== 'vgg16')
      throw new Error(`--model ${o.model}: bench engine measures VGG-16-BN against PyTorch; only vgg16 is available`);
    console.log(JSON.stringify(await benchEngine(o)));
  });

bench
  .command('mi')
  .description('aura-MI throughput and per-layer-pair time of every estimator on the same activations')
  .option('--images <n>', 'images (samples) per map set', int, 1000)
  .option('--levels <g>', 'quantisation levels G', int, 8)
  .option('--seed <s>', 'seed', int, 0)
  .option('--model <dir>', 'instead of synthetic maps: every layer pair of this trained model, on its real activations')
  .option('--per-class <n>', 'calibration images per class for --model', int, 50)
  .option('--mint-pairs <n>', 'filter pairs per layer pair MINT (per filter) is timed on, scaled to all pairs', int, 32)
  .option(
    '--edges <list>',
    'with --model: neighbour pairs per image to compare with exact, fractions in (0, 1) or counts (the default is always included)',
    (v: string) =>
      v.split(',').map((e) => {
        const n = auraEdges(e);
        if (n === 'all') throw new InvalidArgumentError('exact counting is always measured; list sample sizes only');
        return n;
      }),
    [0.5, 0.1],
  )
  .option('--no-ts', 'with --model: skip the TypeScript reference loop (slow on wide models)')
  .option('--threads <n>', 'threads of the native kernel (default: all cores)', int)
  .option(
    '--mint-published <list>',
    "time one MINT estimator call at these sample sizes (MINT's own: 2000,6500) and project a VGG-16 layer pair",
  )
  .option('--data <dir>', 'CIFAR-10 binary folder (with --model)')
  .option('--json', 'print JSON (the only output format)', true)
  .action(async (o) => {
    if (o.mintPublished) {
      const { benchMintPublished } = await import('./bench/mi.js');
      for (const r of benchMintPublished(String(o.mintPublished).split(',').map(Number))) console.log(JSON.stringify({ mintPublished: r }));
      return;
    }
    if (!o.model) console.log(JSON.stringify(await benchMi(o)));
    else {
      await setupBackend({});
      console.log(JSON.stringify(await benchMiOnModel(o.model, o)));
    }
  });

bench
  .command('speed')
  .description(
    'inference img/s and batch-1 latency of two saved models (e.g. pruned vs base), batch norm folded, measured alternately in one process',
  )
  .requiredOption(
    '--base <path>',
    'the reference model: model directory, run directory or model.json; or an untrained shape: airbench:C1,C2,C3 (block widths) or resnet20:S1,S2,S3[/I1,I2,I3] (residual-stream / block-internal channels per stage)',
  )
  .requiredOption('--model <path>', 'the model compared with it (same forms)')
  .option('--batch <n>', 'batch size of the throughput figure', int, 128)
  .option('--rounds <n>', 'alternating rounds (medians)', int, 3)
  .option('--passes <n>', 'batches timed back to back per round', int, 3)
  .option('--no-fold-bn', 'measure the models as saved, batch norm unfolded')
  .option('--threads <n>', 'libtorch threads (and PyTorch threads with --pytorch)', int, 2)
  .option('--pytorch', 'also time the two resnetD:... shapes in PyTorch (three memory layouts), same batch and threads')
  .option('--python <path>', 'python with torch (Debian python3-torch)', '/usr/bin/python3')
  .option('--backend <name>', 'libtorch | cpu | auto', 'auto')
  .option('--json', 'print JSON (the only output format)', true)
  .action(async (o) => {
    await setupBackend(o);
    console.log(JSON.stringify(await benchSpeed(o)));
  });

bench
  .command('queue')
  .description('the same experiment grid through the BullMQ queue with 1 and 2 worker processes (wall time ratio)')
  .requiredOption('--base <dir>', 'training run directory of the base model')
  .option('--workers <list>', 'worker counts to compare', '1,2')
  .option('--rounds <n>', 'rounds (the order alternates each round)', int, 1)
  .option('--criteria <list>', 'criteria of the grid', 'l1,random')
  .option('--targets <list>', 'FLOPs targets of the grid', '0.3,0.5')
  .option('--finetune-images <n>', 'fine-tune images per cell (one epoch)', int, 2000)
  .option('--threads <n>', 'libtorch threads shared by the workers (each gets threads / workers)', int, 2)
  .option('--queue <url>', 'an existing Redis (default: start redis-server on a free loopback port)')
  .option('--data <dir>', 'CIFAR-10 binary folder')
  .action(async (o) => {
    const workers = String(o.workers)
      .split(',')
      .map(Number)
      .filter((n) => Number.isInteger(n) && n > 0);
    if (!workers.length) throw new Error(`--workers: expected a list of positive integers, got ${o.workers}`);
    console.log(JSON.stringify(await benchQueue({ ...o, workers })));
  });

dataOptions(
  bench
    .command('data')
    .description(
      'input pipeline vs training step on a data set: open (decode) and cached reopen times, batch pipeline img/s, step img/s, peak RSS',
    ),
  'the data set',
)
  .option('--batch <n>', 'batch size', int, 256)
  .option('--batches <n>', 'batches through the pipeline', int, 40)
  .option('--steps <n>', 'timed training steps', int, 5)
  .option('--model <name>', 'zoo network trained on the batches', 'airbench')
  .option('--width <w>', 'width multiplier', num, 0.5)
  .option('--threads <n>', 'threads (libtorch and aura counting)', int)
  .option('--json', 'print JSON (the only output format)', true)
  .action(async (o) => {
    await setupBackend(o);
    const { benchData } = await import('./bench/data.js');
    console.log(JSON.stringify(await benchData({ ...o, ...dataFlags(o) })));
  });

bench
  .command('train')
  .description("training img/s of the airbench preset's step on libtorch vs the same step in PyTorch, alternating, same threads")
  .option('--batch <n>', 'batch size', int, 1024)
  .option('--steps <n>', 'timed steps per round (after one warm-up step)', int, 5)
  .option('--rounds <n>', 'alternating rounds (ours, PyTorch, ours, ...)', int, 3)
  .option('--threads <n>', 'threads on both sides', int, 2)
  .option('--width <w>', 'width multiplier', num, 1)
  .option('--activation <a>', 'gelu | relu', 'gelu')
  .option('--python <path>', 'python with torch (Debian python3-torch)', '/usr/bin/python3')
  .option('--json', 'print JSON (the only output format)', true)
  .action(async (o) => {
    if (o.activation !== 'gelu' && o.activation !== 'relu') throw new Error(`--activation must be gelu or relu, got ${o.activation}`);
    console.log(JSON.stringify(await benchTrain(o)));
  });

dataOptions(
  bench
    .command('prune')
    .description(
      'the pruning target table: prune a trained base to FLOPs targets, recalibrate BN, fine-tune, measure accuracy and speed-up (one JSON line per cell; resumable)',
    ),
)
  .requiredOption('--base <dir>', 'training run directory (uses its best/ model, data split and recipe)')
  .option('--out <dir>', 'benchmark directory', 'exp/prune')
  .option('--targets <list>', 'FLOPs fractions to remove', '0.5,0.7')
  .option('--criteria <list>', 'criteria', 'l1')
  .option('--allocations <list>', 'uniform | global | sensitivity (comma-separated)', 'uniform')
  .option('--epochs <list>', 'fine-tune epochs (comma-separated budgets)', '8')
  .option('--lr-scale <x>', "fine-tune peak lr as a multiple of the base recipe's", num, 0.5)
  .option('--distill <list>', 'knowledge distillation from the base: off | on | off,on', 'off')
  .option('--rounds <k>', 'prune/fine-tune rounds (iterative pruning)', int, 1)
  .option('--round-to <n>', 'kept filters per layer in multiples of n (16: whole oneDNN channel blocks, faster)', int, 1)
  .option(
    '--channel-groups <list>',
    'coupled (residual streams, concatenations, squeeze-excitation pruned as groups) | internal (block-internal convs only) | coupled,internal',
    'coupled',
  )
  .option('--slim-epochs <n>', 'slimming: fine-tune the base this many epochs with --sparsity before scoring (BN scales trained)', int, 0)
  .option('--sparsity <kind>', 'the slimming penalty: bn-l1 | group-l2')
  .option('--sparsity-lambda <l>', 'the slimming penalty weight', num)
  .option('--sparsity-schedule <s>', 'constant | growing', 'constant')
  .option('--temperature <t>', 'distillation temperature', num, 4)
  .option('--alpha <a>', 'distillation weight of the soft term', num, 0.5)
  .option('--per-class <n>', 'calibration images per class (scoring, BN re-estimation)', int, 100)
  .option('--recal-batches <n>', 'batches of 256 calibration images for BN re-estimation', int, 4)
  .option('--sensitivity-images <n>', 'validation images for the sensitivity curves', int, 1000)
  .option('--tta <level>', 'TTA level reported beside plain accuracy (0 none, 1 mirror, 2 mirror + translate)', int, 2)
  .option('--seed <s>', 'seed', int, 1)
  .option('--threads <n>', 'threads (libtorch and aura counting)', int)
  .option('--json', 'print JSON (the only output format)', true)
  .action(async (o) => {
    await setupBackend(o);
    const { prepareBench } = await import('./commands/bench_prune.js');
    await prepareBench(o);
  });

bench
  .command('web')
  .description('the browser page in headless Chromium: per backend, accuracy and batch-1/32 latency of the original and each pruned model')
  .requiredOption('--original <dir>', 'original model directory')
  .requiredOption('--pruned <list>', 'pruned model directories, comma-separated')
  .option('--images <n>', 'test images', int, 300)
  .option('--out <dir>', 'where to lay the page out', 'exp/bench-web')
  .option('--screenshot <file>', 'save a full-page screenshot of the first comparison')
  .option('--data <dir>', 'CIFAR-10 binary folder')
  .option('--json', 'print JSON (the only output format)', true)
  .action(async (o) => {
    await setupBackend({});
    const { benchWeb } = await import('./commands/web.js');
    await benchWeb(o);
  });

program.parseAsync().catch((e: Error) => {
  console.error(`auraprune: ${e.message}`);
  process.exit(1);
});
