// Prune your own tfjs LayersModel with aura MI, recover accuracy, save it: the library in one script.
//   node prune-my-model.mjs MODEL_DIR OUT_DIR [FINETUNE_EPOCHS] [TRAIN_IMAGES]
// CIFAR-10 comes from CIFAR10_DIR, the cache, or a download.
import {
  useBestBackend,
  loadModel,
  saveModel,
  loadCifar10Splits,
  balancedSample,
  scoreModel,
  toScoresFile,
  pruneWithScores,
  recalibrateBatchNorm,
  trainModel,
  finetuneRecipe,
  evaluate,
  countComplexity,
} from 'auraprune';

const [modelDir, outDir, epochs = '1', trainImages] = process.argv.slice(2);
await useBestBackend();
const model = await loadModel(modelDir);
const limit = trainImages ? Number(trainImages) : undefined;
const data = await loadCifar10Splits({ trainLimit: limit, valSize: limit ? Math.floor(limit / 5) : 5000 });
const calib = balancedSample(data.val, 20, 1); // unaugmented, class-balanced calibration images

// score every prunable conv's filters, keep the same fraction of every layer for -50% FLOPs
const [aura] = await scoreModel(model, calib, ['aura'], { quiet: true });
const { model: pruned, report } = await pruneWithScores(model, toScoresFile(aura), { by: 'flops', fraction: 0.5 });
recalibrateBatchNorm(pruned, calib, { batches: 2, batch: 100 }); // the next layers' BN statistics moved

// recover accuracy (SGD recipe; airbench-trained models use finetuneRecipe({ paramGroups: 'airbench' }, ...))
const cfg = finetuneRecipe({}, { epochs: Number(epochs), lrScale: 1, seed: 1 });
const { model: tuned } = await trainModel(pruned, cfg, data, `${outDir}/run`, { quiet: true });
await saveModel(tuned, outDir);
console.log(
  JSON.stringify({
    flopsRemoved: report.achieved.flops,
    paramsBefore: countComplexity(model).params,
    paramsAfter: countComplexity(tuned).params,
    testAccuracyBefore: evaluate(model, data.test).accuracy,
    testAccuracyAfter: evaluate(tuned, data.test).accuracy,
  }),
);
