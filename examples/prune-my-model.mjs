// Prune your own tfjs LayersModel with aura MI, recover accuracy, save it: the library in one script.
//   node prune-my-model.mjs MODEL_DIR OUT_DIR [FINETUNE_EPOCHS] [TRAIN_IMAGES] [DATA]
// DATA: any data set `auraprune --data` reads (IDX, NumPy, CIFAR-100, an image folder); without it,
// CIFAR-10 from CIFAR10_DIR, the cache, or a download.
import {
  useBestBackend,
  openBase,
  saveModel,
  balancedSample,
  scoreModel,
  toScoresFile,
  pruneAndRecover,
  trainModel,
  finetuneRecipe,
  evaluate,
  countComplexity,
} from 'auraprune';

const [modelDir, outDir, epochs = '1', trainImages, dataPath] = process.argv.slice(2);
await useBestBackend();
const limit = trainImages ? Number(trainImages) : undefined;
// the model, its data set and splits; the model's input and classes are checked against the data
const { model, data } = await openBase(modelDir, { data: dataPath }, { trainLimit: limit, valSize: limit ? Math.floor(limit / 5) : 5000 });
const calib = balancedSample(data.val, 20, 1); // unaugmented, class-balanced calibration images

// score every prunable conv's filters, keep the same fraction of every layer for -50% FLOPs, then
// re-estimate batch-norm statistics (the next layers' inputs moved) and evaluate before and after
const [aura] = await scoreModel(model, calib, ['aura'], { quiet: true });
const r = await pruneAndRecover(
  model,
  toScoresFile(aura),
  { by: 'flops', fraction: 0.5 },
  {
    calib,
    recalBatches: 2,
    seed: 1,
    evalOn: { val: data.val },
  },
);
const { model: pruned, report } = r;

// recover accuracy (SGD recipe; airbench-trained models use finetuneRecipe({ paramGroups: 'airbench' }, ...))
const cfg = finetuneRecipe({}, { epochs: Number(epochs), lrScale: 1, seed: 1 });
const { model: tuned } = await trainModel(pruned, cfg, data, `${outDir}/run`, { quiet: true });
await saveModel(tuned, outDir);
console.log(
  JSON.stringify({
    flopsRemoved: report.achieved.flops,
    valAccuracyPruned: r.raw.val.accuracy,
    valAccuracyBnReestimated: r.recalibrated.val.accuracy,
    paramsBefore: countComplexity(model).params,
    paramsAfter: countComplexity(tuned).params,
    testAccuracyBefore: evaluate(model, data.test).accuracy,
    testAccuracyAfter: evaluate(tuned, data.test).accuracy,
  }),
);
