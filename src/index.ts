/**
 * auraprune as a library: load a tfjs LayersModel, score its filters (spatial-aura MI and the
 * baselines), decide how many filters each layer keeps, remove them physically, recover accuracy,
 * and measure the result. Every function here is what the CLI itself calls.
 *
 * @example
 * ```ts
 * import { useBestBackend, openBase, balancedSample, scoreModel, toScoresFile, pruneAndRecover,
 *   saveModel } from 'auraprune';
 * await useBestBackend();
 * // a tfjs LayersModel directory (or a training run) and its data: CIFAR-10 by default, or any
 * // format `--data` reads (IDX, NumPy, CIFAR-100, an image folder); the model is checked against it
 * const { model, data } = await openBase('my-model/', { data: 'my-images/' });
 * const calib = balancedSample(data.train, 50, 1);
 * const [aura] = await scoreModel(model, calib, ['aura']);
 * const r = await pruneAndRecover(model, toScoresFile(aura), { by: 'flops', fraction: 0.5 },
 *   { calib, recalBatches: 4, seed: 1, evalOn: { val: data.val } });
 * console.log(r.raw.val.accuracy, r.recalibrated.val.accuracy);
 * await saveModel(r.model, 'my-model-pruned/');
 * ```
 */

/** Backend: registers the native libtorch backend (falls back to tfjs's CPU backend with a warning). */
export { useBestBackend, registerLibtorchBackend } from './engine/backend/index.js';

/** Models: tfjs LayersModel format IO (untrusted directories are validated) and the zoo. */
export { checkModelFitsData, loadImageModel, loadModel, saveModel } from './models/io.js';
export { buildModel, MODEL_NAMES } from './models/zoo.js';
export { buildAirbench, initWhitening } from './models/airbench.js';

/** Data: the official CIFAR-10 binary layout, the validation split, calibration samples. */
export { loadCifar10, findCifarDir, ensureCifar10 } from './data/cifar10.js';
export type { CifarSplit } from './data/cifar10.js';
/** Data sets: one type for every format (shape, class names, statistics), opened from a path or a name. */
export { CIFAR10_INFO, channelStats, pixelsOf, resizeImages } from './data/dataset.js';
export type { DataInfo, DataSet, ImageSplit } from './data/dataset.js';
export { DATASET_NAMES, detectFormat, openDataSet } from './data/open.js';
export type { OpenOptions } from './data/open.js';
export { loadData, openRunData, trainingRunSettings } from './data/splits.js';
export type { DataFlags } from './data/splits.js';
/** Opening a base (model + its data + splits, one precedence) and pruning with recovery (surgery, BN re-estimation, evaluation). */
export { openBase } from './experiment/base.js';
export { pruneAndRecover } from './experiment/recover.js';
export type { RecoverOptions, Recovered } from './experiment/recover.js';
export { trainValSplit, balancedSample, subset, fillBatch } from './data/pipeline.js';
/** The low-level readers behind openDataSet: MNIST-format IDX files and NumPy .npy/.npz arrays. */
export { readIdx, readIdxSplit } from './data/idx.js';
export { readNpy, readNpz } from './data/npy.js';

/** Activations streamed batch by batch as typed arrays. */
export { forEachActivationBatch } from './activations/collect.js';

/** Importance criteria (aura, aura-descriptor, mint, hrank, l1, random, label-mi, taylor, bn-scale) from one activation pass. */
export { CRITERIA, criterion, scoreModel } from './prune/importance/registry.js';
export type { ScoreResult } from './prune/importance/registry.js';

/** Allocation (how many filters per layer) and selection (which), then physical surgery. */
export { allocateUniform, allocateSensitivity, keepTopK } from './prune/allocate/allocate.js';
export { measureSensitivity } from './prune/allocate/sensitivity.js';
export { ALLOCATIONS, planKeep, pruneWithScores, toScoresFile } from './prune/pipeline.js';
export type { Allocation, PruneReport, PruneTarget, ScoresFile } from './prune/pipeline.js';
export { costModel } from './prune/select/cost.js';
export { channelGraph, pruningUnits } from './prune/graph/graph.js';
export type { ChannelGraph, IntactConv, PruningUnit } from './prune/graph/graph.js';
/** Sparsity penalties for training before pruning (bn-l1, group-l2). */
export { sparsityGradients, sparsityPenalty } from './prune/sparsity.js';
/** Iterative pruning: K rounds of score -> prune -> BN re-estimation -> fine-tune. */
export { compress } from './experiment/compress.js';
export { pruneModel } from './prune/surgery/rebuild.js';
export { foldBatchNorm } from './prune/surgery/fold_bn.js';

/** Recovery: batch-norm re-estimation, training/fine-tuning (with distillation), the recipes. */
export { recalibrateBatchNorm } from './train/bn.js';
export { trainModel } from './train/loop.js';
export type { TrainConfig, TrainResult } from './train/loop.js';
export { PRESETS, airbenchRecipe, finetuneRecipe } from './train/recipes.js';
export { distillationLoss } from './train/distill.js';

/** Evaluation: accuracy (plain or TTA), params/FLOPs, speed. */
export { evaluate } from './eval/evaluate.js';
export type { EvalResult, TtaLevel } from './eval/evaluate.js';
export { countComplexity } from './eval/complexity.js';
export { pairedTInterval } from './eval/bootstrap.js';
export { compareSpeed, inferenceSpeed } from './eval/speed.js';

/** Pure information-theoretic core (typed arrays in, numbers out). */
export * as info from './info/index.js';

/** Loads CIFAR-10 (finding or downloading it) and returns the train/validation/test splits. */
export { loadCifar10Splits } from './data/splits.js';

/** The JSON records commands write and read (scores.json, prune-report.json, results.jsonl, ...). */
export type * from './records.js';
