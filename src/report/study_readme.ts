/**
 * The README's "Does aura MI prune better?" section, generated from the committed study documents
 * (docs/<study>/study.json) alone, one or more networks: tests/readme_study_test.ts checks that the
 * README holds exactly this text, so no figure there can drift from its records.
 * `npm run readme:study` rewrites the block between `<!-- study:begin -->` and `<!-- study:end -->`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { invocationsText } from '../experiment/invocations.js';
import { writeFileAtomic } from '../util/atomic.js';
import { Comparison, Measure, MEASURES, StudyRow, VARIANTS } from '../experiment/study.js';
import { headlineTable, intervalCount, intervalText, machineText, pt, StudyDoc, tiedScores, verdicts } from './study.js';

export interface StudyNetwork {
  /** a short name for the network, used in every verdict ("airbench, half width") */
  name: string;
  /** where its documents are committed (docs/study) */
  dir: string;
  doc: StudyDoc;
}

/** The networks the README reports, where their study documents are committed (absent ones are skipped). */
export const STUDY_NETWORKS: Array<Pick<StudyNetwork, 'name' | 'dir'>> = [
  { name: 'airbench at half width', dir: 'docs/study' },
  { name: 'ResNet-20', dir: 'docs/study-r20' },
];

/** The committed study documents under `root` (the repository). */
export function committedStudies(root: string): StudyNetwork[] {
  return STUDY_NETWORKS.filter((n) => existsSync(join(root, n.dir, 'study.json'))).map((n) => ({
    ...n,
    doc: JSON.parse(readFileSync(join(root, n.dir, 'study.json'), 'utf8')) as StudyDoc,
  }));
}

/** Rewrite the README's study block from the committed documents; returns whether it changed. */
export function writeReadmeStudy(root: string): boolean {
  const path = join(root, 'README.md');
  const before = readFileSync(path, 'utf8');
  const after = replaceStudyBlock(before, studyReadme(committedStudies(root)));
  if (after !== before) writeFileAtomic(path, after);
  return after !== before;
}

export const README_BEGIN = '<!-- study:begin -->';
export const README_END = '<!-- study:end -->';

const sgn = (x: number) => `${x >= 0 ? '+' : ''}${pt(x)}`;
const iv = (i: Comparison) => `${sgn(i.mean)} [${pt(i.lo)}, ${pt(i.hi)}]`;
const WHEN: Record<Measure, string> = {
  raw: 'right after pruning',
  bn: 'after BN re-estimation',
  epoch: 'after one fine-tune epoch',
  full: 'after the recovery fine-tune',
};
/** The headline's row (uniform allocation, 50% of FLOPs) of a variant at a measure. */
const headline = (d: StudyDoc, v: string, m: Measure): StudyRow | undefined =>
  d.rows.find((r) => r.variant === v && r.measure === m && r.allocation === 'uniform' && Math.abs(r.target - 0.5) < 1e-9);
const word = (i: Comparison) => (i.verdict === 'ahead' || i.verdict === 'behind' ? i.verdict : 'no evidence of a difference');

/** Seeds per stage as the plan ran them: "10 seeds (raw, BN, one epoch), 5 (recovery)". */
function seedsText(d: StudyDoc): string {
  const by = new Map<string, Set<number>>();
  for (const r of d.rows) {
    const k = r.measure === 'full' ? 'the recovery fine-tune' : r.measure === 'epoch' ? 'one epoch' : 'no fine-tune';
    const s = by.get(k) ?? new Set<number>();
    for (const x of r.seeds) s.add(x);
    by.set(k, s);
  }
  return [...by].map(([k, s]) => `${s.size} seed${s.size === 1 ? '' : 's'} (${k})`).join(', ');
}

function about(n: StudyNetwork): string {
  const d = n.doc;
  const cells = d.cellMachines?.reduce((a, m) => a + m.cells, 0);
  const wall = d.invocations?.length
    ? ` Wall time: ${invocationsText(d.invocations)}`
    : d.wallMinutes !== undefined
      ? ` Wall time of the last invocation: ${d.wallMinutes.toFixed(1)} min (earlier ones were not recorded).`
      : ' Its wall time was not recorded.';
  return (
    `- **${n.name}**: \`${d.command}\`; base ${pt(d.base.testAcc)}% test, ${(d.base.flops / 1e6).toFixed(1)} M FLOPs; ` +
    `${cells ?? '?'} cells, ${seedsText(d)}. ${machineText(d)}${wall} ` +
    `Every row: [${n.dir}/study.md](${n.dir}/study.md), plots: [${n.dir}/report.html](${n.dir}/report.html), records: ${n.dir}/run/.`
  );
}

/** Aura against the best baseline of each column of the headline (uniform, 50%). */
function bestBaselineText(d: StudyDoc): string {
  const parts = MEASURES.flatMap((m) => {
    const b = headline(d, 'aura', m)?.vsBestBaseline;
    return b ? [`${WHEN[m]} ${iv(b)} against ${b.baseline}, ${word(b)}`] : [];
  });
  return parts.length
    ? `Aura against the best baseline of each column (chosen on the same numbers, which favours the baseline): ${parts.join('; ')}.`
    : '';
}

/** "ahead on A (+1.2 [..]), no evidence of a difference on B (..): holds on both | differs". */
function across(nets: StudyNetwork[], pick: (d: StudyDoc) => Comparison | undefined): string | null {
  const got = nets.map((n) => ({ n, c: pick(n.doc) })).filter((x): x is { n: StudyNetwork; c: Comparison } => !!x.c);
  if (!got.length) return null;
  const each = got.map(({ n, c }) => `${word(c)}${nets.length > 1 ? ` on ${n.name}` : ''} (${iv(c)})`).join(', ');
  if (got.length < 2)
    return each + (nets.length > 1 ? ` (not measured on ${nets.length - 1} other network${nets.length > 2 ? 's' : ''})` : '');
  return each + (new Set(got.map((x) => word(x.c))).size === 1 ? ': the same on both' : ': not the same on both');
}

/** The whole README block (without its markers). */
export function studyReadme(nets: StudyNetwork[]): string {
  if (!nets.length) throw new Error('studyReadme: no study documents');
  const out: string[] = [];
  out.push(
    `Three claims, one study per network (the plan and its reasoning: docs/study.md). Every criterion keeps ` +
      `**the same number of filters in every layer** (uniform allocation, computed once), so only *which* filters go differs. ` +
      intervalText(nets[0]!.doc),
  );
  out.push('');
  for (const n of nets) out.push(about(n));
  for (const n of nets) {
    out.push('', `#### ${n.name}`, '');
    // the criteria compared at every budget; aura's ablations are in the study document
    out.push(...headlineTable(n.doc, 'uniform', 0.5, (v) => v === 'aura' || v === 'aura-red' || !!VARIANTS[v]?.baseline));
    const best = bestBaselineText(n.doc);
    if (best) out.push('', best);
    const tied = tiedScores(n.doc).filter(Boolean);
    if (tied.length) out.push('', ...tied);
    out.push('', `${intervalCount(n.doc)} intervals in this network's study document.`);
  }
  const where = nets.length > 1 ? `, on ${nets.map((n) => n.name).join(' and ')}` : '';
  out.push('', `**Verdicts, from the intervals above${where}:**`);
  const better: string[] = [];
  for (const m of MEASURES) {
    const t = across(nets, (d) => headline(d, 'aura', m)?.vsRandom);
    if (t) better.push(`${WHEN[m]} aura vs random: ${t}`);
  }
  const noisy = across(nets, (d) => headline(d, 'aura', 'full')?.noisyVsRandom);
  if (noisy) better.push(`on noisy test images after the recovery fine-tune, aura vs random: ${noisy}`);
  out.push(`- **Better?** At 50% of FLOPs, ${better.join('; ')}.`);
  // aura's own choices that the intervals separate from the default, wherever they were measured
  const own = nets.flatMap((n) =>
    n.doc.rows
      .filter((r) => r.vsDefault && r.vsDefault.verdict !== 'no evidence of a difference' && VARIANTS[r.variant])
      .map(
        (r) =>
          `${r.variant} ${r.vsDefault!.verdict === 'ahead' ? 'ahead of' : 'behind'} aura ${WHEN[r.measure]} (${r.allocation}, -${Math.round(100 * r.target)}%${nets.length > 1 ? `, ${n.name}` : ''}) ${iv(r.vsDefault!)}`,
      ),
  );
  out.push(
    `- **Aura's own choices** (ablations against the default: sum over child filters, 8 levels): ${
      own.length ? own.join('; ') : 'none differs from the default in any interval'
    }.`,
  );
  const said = nets.map((n) => ({ name: nets.length > 1 ? ` (${n.name})` : '', v: verdicts(n.doc) }));
  for (const { name, v } of said) out.push(`- **Faster?**${name} ${v.faster}.`);
  for (const { name, v } of said) out.push(`- **More robust?**${name} ${v.robust}.`);
  return out.join('\n');
}

/** The end of the begin marker and the start of the end marker, or null when either is missing. */
function markers(readme: string): [number, number] | null {
  const a = readme.indexOf(README_BEGIN);
  const b = readme.indexOf(README_END);
  return a < 0 || b < a ? null : [a + README_BEGIN.length, b];
}

/** README text with its study block replaced; throws when the markers are missing. */
export function replaceStudyBlock(readme: string, block: string): string {
  const m = markers(readme);
  if (!m) throw new Error(`README: no ${README_BEGIN} ... ${README_END} block`);
  return readme.slice(0, m[0]) + '\n' + block + '\n' + readme.slice(m[1]);
}

/** The block between the markers (without them and their line breaks), or null. */
export function studyBlock(readme: string): string | null {
  const m = markers(readme);
  return m && readme.slice(m[0] + 1, m[1] - 1);
}
