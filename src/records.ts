/**
 * The JSON records that pass between commands, in one place: which command writes each file, which
 * reads it, and its type (defined beside the code that produces it, re-exported here).
 *
 * | file                          | written by                    | read by                               |
 * |-------------------------------|-------------------------------|---------------------------------------|
 * | RUN/config.json               | train, finetune (claimRunDir) | experiment/study (split), finetune    |
 * | RUN/metrics.jsonl             | train, finetune (one per epoch)| report                               |
 * | RUN/result.json               | train, finetune               | report                                |
 * | scores.json                   | score                         | prune --scores (keyed by model sha256)|
 * | PRUNED/prune-report.json      | prune                         | finetune (copied), report             |
 * | PRUNED/config.json            | prune (source model, target)  | finetune (distillation, split)        |
 * | FT/compare.json               | finetune                      | report (before/after page)            |
 * | EXP/results.jsonl             | experiment (one line per cell)| report, experiment (resume)           |
 * | STUDY/results.jsonl           | study (one line per cell)     | study --report-only, study (resume)   |
 * | STUDY/study.json              | study                         | README section, readers               |
 */
export type { TrainConfig, TrainResult } from './train/loop.js';
export type { StoredScores } from './prune/scores_file.js';
export type { PruneReport, ScoresFile } from './prune/pipeline.js';
export type { FinetuneCompare } from './report/html.js';
export type { ResultLine } from './experiment/grid.js';
export type { StudyLine } from './experiment/study.js';
export type { StudyDoc } from './report/study.js';
