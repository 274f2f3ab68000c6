/**
 * The command line as a user runs it: a rerun into an experiment directory with different settings is
 * refused with the keys that differ, and the finished cells and config.json are left untouched.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tfl from '@tensorflow/tfjs-layers';
import { setFallbackLogger, useBestBackend } from '../src/engine/backend/index.js';
import { saveModel } from '../src/models/io.js';
import { buildAirbench } from '../src/models/airbench.js';
import { buildResNet } from '../src/models/resnet.js';
import { buildModel } from '../src/models/zoo.js';
import { countComplexity } from '../src/eval/complexity.js';
import { CIFAR_DIR, NEEDS_CIFAR } from './helpers/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'auraprune-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
before(async () => {
  setFallbackLogger(() => {});
  await useBestBackend();
});
const MAIN = resolve(import.meta.dirname, '../src/cli/main.ts');
const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', timeout: 300_000 });

describe('command line', NEEDS_CIFAR, () => {
  test('experiment: a rerun with other fine-tune settings is refused and changes nothing', async () => {
    const base = join(tmp, 'base');
    await saveModel(buildModel('fast', { width: 0.125, seed: 1 }), join(base, 'best'));
    writeFileSync(join(base, 'config.json'), JSON.stringify({ valSize: 500, seed: 1 }));
    const out = join(tmp, 'exp');
    const args = [
      'experiment',
      '--base',
      base,
      '--out',
      out,
      '--criteria',
      'random',
      '--targets',
      '0.3',
      '--seeds',
      '1',
      '--per-class',
      '5',
      '--finetune-images',
      '200',
      '--data',
      CIFAR_DIR,
    ];
    const first = cli(...args, '--finetune-epochs', '1');
    assert.equal(first.status, 0, first.stderr);
    const results = readFileSync(join(out, 'results.jsonl'), 'utf8');
    const config = readFileSync(join(out, 'config.json'), 'utf8');
    const second = cli(...args, '--finetune-epochs', '2');
    assert.notEqual(second.status, 0);
    assert.match(
      second.stderr,
      /was run with other settings \(finetune: .*\); it continues only with the same settings: use another --out for new ones/,
    );
    assert.equal(readFileSync(join(out, 'results.jsonl'), 'utf8'), results);
    assert.equal(readFileSync(join(out, 'config.json'), 'utf8'), config);
    // the same settings with a larger grid continue in place
    const third = cli(...args.map((a) => (a === '0.3' ? '0.3,0.4' : a)), '--finetune-epochs', '1');
    assert.equal(third.status, 0, third.stderr);
    assert.equal(readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').length, 2);
    // new weights under the same base path: refused, not mixed with the old rows and cached scores
    await saveModel(buildModel('fast', { width: 0.125, seed: 2 }), join(base, 'best'));
    const fourth = cli(...args, '--finetune-epochs', '1');
    assert.notEqual(fourth.status, 0);
    assert.match(fourth.stderr, /was run with other settings \(baseSha256: "[0-9a-f]{16}" -> "[0-9a-f]{16}"\)/);
    assert.equal(readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').length, 2);
  });

  test('train --model DIR: a user model trains from its directory; a wrong input shape or name fails before anything is written', async () => {
    const user = join(tmp, 'user');
    await saveModel(buildModel('fast', { width: 0.125, seed: 2 }), user);
    const out = join(tmp, 'user-run');
    const ok = cli(
      'train',
      '--model',
      user,
      '--epochs',
      '1',
      '--train-limit',
      '300',
      '--val-size',
      '30',
      '--tta',
      '0',
      '--out',
      out,
      '--data',
      CIFAR_DIR,
    );
    assert.equal(ok.status, 0, ok.stderr);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    assert.equal(cfg.settings.model.dir, user);
    assert.match(cfg.settings.model.sha256, /^[0-9a-f]{16}$/);
    // eval --split val reads the run's split from its config.json (30 of the first 300 images, seed 1;
    // more than a tenth is refused at parse time): it scores the images the training loop validated on
    const val = cli('eval', '--model', join(out, 'best'), '--split', 'val', '--data', CIFAR_DIR);
    assert.equal(val.status, 0, val.stderr);
    const ev = JSON.parse(val.stdout.trim().split('\n').pop()!);
    const epoch1 = JSON.parse(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')[0]);
    assert.equal(ev.n, 30);
    assert.equal(cfg.valSize, 30);
    assert.ok(Math.abs(ev.accuracy - epoch1.valAcc) < 1e-9, `eval ${ev.accuracy} vs training's ${epoch1.valAcc}`);
    // a 28x28x1 model: one line naming the directory and the data set, no run directory left behind
    const mnist = join(tmp, 'mnist');
    const x = tfl.input({ shape: [28, 28, 1] });
    const y = tfl.layers.dense({ units: 10 }).apply(tfl.layers.flatten().apply(x)) as tfl.SymbolicTensor;
    await saveModel(tfl.model({ inputs: x, outputs: y }), mnist);
    for (const [model, msg] of [
      [mnist, /mnist: the model takes 1-channel images \[28, 28, 1\] but cifar10 has 3-channel images \[32, 32, 3\]/],
      ['no-such-model', /--model no-such-model: neither a zoo model .* nor a directory holding model.json/],
    ] as const) {
      const bad = cli('train', '--model', model, '--out', join(tmp, 'never'), '--data', CIFAR_DIR);
      assert.notEqual(bad.status, 0);
      assert.match(bad.stderr, msg);
      assert.equal(existsSync(join(tmp, 'never')), false, 'nothing written');
    }
  });
  test('bench speed: a half-width model against the full one, batch norm folded, alternating; a missing model is named', async () => {
    const full = join(tmp, 'speed-full'),
      half = join(tmp, 'speed-half');
    const a = buildModel('vgg16', { width: 0.25, seed: 1 }),
      b = buildModel('vgg16', { width: 0.125, seed: 1 });
    await saveModel(a, full);
    await saveModel(b, half);
    const r = cli('bench', 'speed', '--base', full, '--model', half, '--batch', '16', '--rounds', '1', '--passes', '1');
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
    // the FLOPs ratio is the counter's on the folded models (folding leaves the convs' FLOPs alone)
    assert.ok(Math.abs(j.flopsRatio - countComplexity(b).flops / countComplexity(a).flops) < 1e-12);
    assert.ok(j.flopsRatio > 0.2 && j.flopsRatio < 0.35, `half width keeps about a quarter of the FLOPs: ${j.flopsRatio}`);
    assert.equal(j.foldedBatchNorm, true);
    for (const k of ['baseImgPerS', 'modelImgPerS', 'baseLatencyMs', 'modelLatencyMs']) assert.ok(j[k] > 0, k);
    assert.ok(Math.abs(j.speedup - j.modelImgPerS / j.baseImgPerS) < 1e-9);
    const bad = cli('bench', 'speed', '--base', full, '--model', join(tmp, 'nope'));
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /nope/);
    // untrained airbench widths: the FLOPs ratio is the builder's
    const w = cli(
      'bench',
      'speed',
      '--base',
      'airbench:64,256,256',
      '--model',
      'airbench:32,128,128',
      '--batch',
      '8',
      '--rounds',
      '1',
      '--passes',
      '1',
    );
    assert.equal(w.status, 0, w.stderr);
    const jw = JSON.parse(w.stdout.trim().split('\n').pop()!);
    const fl = (widths: number[]) => countComplexity(buildAirbench({ widths })).flops;
    assert.ok(Math.abs(jw.flopsRatio - fl([32, 128, 128]) / fl([64, 256, 256])) < 1e-12);
  });

  const torchMissing = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0;
  test(
    'bench speed: ResNet shapes by channels, with the same two shapes timed in PyTorch',
    { skip: torchMissing && 'PyTorch is absent (apt-get install python3-torch)' },
    () => {
      const spec = ['resnet20:16,32,64', 'resnet20:8,16,32/4,8,16'];
      const r = cli('bench', 'speed', '--base', spec[0], '--model', spec[1], '--batch', '4', '--rounds', '1', '--passes', '1', '--pytorch');
      assert.equal(r.status, 0, r.stderr);
      const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
      type Three = [number, number, number];
      const fl = (stream: Three, internal: Three) => countComplexity(buildResNet({ depth: 20, channels: { stream, internal } })).flops;
      assert.ok(Math.abs(j.flopsRatio - fl([8, 16, 32], [4, 8, 16]) / fl([16, 32, 64], [16, 32, 64])) < 1e-12);
      for (const layout of ['nchw', 'channels_last', 'mkldnn']) {
        const p = j.pytorch[layout];
        assert.equal(p.error, undefined, `${layout}: ${p.error}`);
        assert.ok(p.baseImgPerS > 0 && p.modelImgPerS > 0, layout);
        assert.ok(Math.abs(p.speedup - p.modelImgPerS / p.baseImgPerS) < 1e-9, layout);
      }
      const mixed = cli('bench', 'speed', '--base', 'airbench:32,128,128', '--model', spec[1], '--pytorch');
      assert.notEqual(mixed.status, 0);
      assert.match(mixed.stderr, /--pytorch needs --base and --model given as resnetD/);
    },
  );

  test('demo: a rerun with other settings is refused and leaves the old results alone; the same settings reuse them', () => {
    const out = join(tmp, 'demo');
    const args = ['demo', '--data', CIFAR_DIR, '--out', out, '--train-images', '300', '--epochs', '1'];
    const first = cli(...args);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /test acc: on the first 2000 CIFAR-10 test images/, 'the table explains itself');
    const results = readFileSync(join(out, 'experiment', 'results.jsonl'), 'utf8');
    const changed = cli(...args.map((a, i) => (args[i - 1] === '--epochs' ? '2' : a)));
    assert.notEqual(changed.status, 0);
    assert.match(changed.stderr, /was run with other settings \(epochs: 1 -> 2\).*use another --out/);
    assert.doesNotMatch(changed.stdout, /\| aura \|/, 'no old table printed for new settings');
    assert.equal(readFileSync(join(out, 'experiment', 'results.jsonl'), 'utf8'), results);
    const again = cli(...args);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /resuming .*base after epoch 1/);
    assert.equal(readFileSync(join(out, 'experiment', 'results.jsonl'), 'utf8'), results, 'finished cells reused, not rerun');
  });
  test('--val-size above a tenth of --train-limit is refused when typed; a command default never is', () => {
    const out = join(tmp, 'val-cap');
    const r = cli('train', '--preset', 'fast', '--val-size', '100', '--train-limit', '300', '--out', out, '--data', CIFAR_DIR);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--val-size 100 is more than a tenth of --train-limit 300 \(at most 30 validation images/);
    assert.ok(!existsSync(out), 'nothing written');
  });
  test('demo: a training subset too small to calibrate on is refused before training, naming the option', () => {
    const out = join(tmp, 'demo-small');
    const r = cli('demo', '--data', CIFAR_DIR, '--out', out, '--train-images', '150', '--epochs', '1');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--train-images 150: class \d \(\w+\) gets only \d+ training images, fewer than the 20 per class/);
    assert.ok(!existsSync(join(out, 'base', 'checkpoint')), 'nothing was trained');
  });
  test('prune a ResNet: residual streams pruned as groups (listed with their members), internal-only on request; --out guards', async () => {
    const run = join(tmp, 'r20run');
    await saveModel(buildModel('resnet20', { width: 0.5, seed: 1 }), join(run, 'best'));
    writeFileSync(
      join(run, 'config.json'),
      JSON.stringify({ command: 'train', valSize: 200, seed: 1, trainLimit: 1000, dataDir: CIFAR_DIR }),
    );
    const common = [
      'prune',
      '--model',
      join(run, 'best'),
      '--criterion',
      'l1',
      '--target-flops',
      '0.5',
      '--per-class',
      '5',
      '--recalibrate-bn',
      '1',
      '--data',
      CIFAR_DIR,
    ];
    const coupled = cli(...common, '--out', join(tmp, 'r20-coupled'));
    assert.equal(coupled.status, 0, coupled.stderr);
    const out = JSON.parse(coupled.stdout.trim().split('\n').pop()!);
    assert.deepEqual(out.groups.stem_conv.sort(), ['s1b1_conv2', 's1b2_conv2', 's1b3_conv2', 'stem_conv']);
    // width 0.5: stages of 8, 16 and 32 channels, so one filter is a coarse step
    assert.ok(Math.abs(out.achieved.flops - 0.5) < 0.02, JSON.stringify(out.achieved));
    const report = JSON.parse(readFileSync(join(tmp, 'r20-coupled', 'prune-report.json'), 'utf8'));
    assert.equal(report.units.filter((u: { members?: string[] }) => u.members).length, 3);
    assert.deepEqual(report.intact, [{ conv: 'fc', reason: 'its channels are a model output' }]);
    const internal = cli(...common, '--channel-groups', 'internal', '--out', join(tmp, 'r20-internal'));
    assert.equal(internal.status, 0, internal.stderr);
    assert.match(
      internal.stderr,
      /left intact: stem_conv: coupled with s1b1_conv2, s1b2_conv2, s1b3_conv2 through s1b1_add: pruned only with coupled groups/,
    );
    assert.deepEqual(JSON.parse(internal.stdout.trim().split('\n').pop()!).groups, {});
    // --out a training run (its config and checkpoint would be replaced), or the input model itself
    const onRun = cli(...common, '--out', run);
    assert.notEqual(onRun.status, 0);
    assert.match(onRun.stderr, /--out .*r20run holds the output of `train`/);
    const exp = cli('export', '--model', join(tmp, 'r20-coupled'), '--fold-bn', '--out', join(tmp, 'r20-coupled'));
    assert.notEqual(exp.status, 0);
    assert.match(exp.stderr, /--out .* is the input .*: writing there would replace it/);
    assert.ok(existsSync(join(tmp, 'r20-coupled', 'prune-report.json')), 'the pruned model is untouched');
  });
});
