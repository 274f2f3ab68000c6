/**
 * The study's answer as Markdown (printed, and pasted into the README by whoever reruns it) and as
 * a self-contained HTML report whose first paragraph says what was compared and how to read it.
 */
import { Invocation, invocationsText, readInvocations } from '../experiment/invocations.js';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Interval } from '../eval/bootstrap.js';
import {
  analyseStudy,
  Comparison,
  Measure,
  MEASURES,
  readLines,
  scoringCosts,
  StabilityRow,
  StudyLine,
  StudyRow,
  VARIANTS,
} from '../experiment/study.js';
import type { RecheckResult } from '../experiment/recheck.js';
import { writeFileAtomic } from '../util/atomic.js';
import { COSTS } from '../experiment/study_plan.js';
import { dotPairSpec, forestSpec, lineSpec, renderChart } from './vega.js';
import { datasetLabel } from './html.js';
import { readJsonFile } from '../util/jsonl.js';

export interface StudyDoc {
  /** `dataset`: the data set's name (absent in records before data sets: CIFAR-10) */
  base: { testAcc: number; testAccNoisy?: number; params: number; flops: number; dataset?: string };
  rows: StudyRow[];
  stability: StabilityRow[];
  costs: Array<{
    variant: string;
    images: number;
    scoringSeconds: { mean: number; sd: number };
    activationSeconds: { mean: number; sd: number };
    /** what computed the scores (records from 2026-12-08 on) */
    implementation?: string;
    distinct?: Array<{ conv: string; filters: number; distinct: number }>;
    /** how tied filters were ordered: a seeded random order (the scores file records distinct raw scores), or filter index (older records) */
    tieBreak?: 'seeded' | 'index';
  }>;
  settings: Record<string, unknown>;
  /** where this document was built */
  machine: string;
  /** where the cells ran, as recorded in their lines (older lines carry none) */
  cellMachines?: Array<{ machine: string; cells: number }>;
  command: string;
  wallMinutes?: number;
  /** every invocation of `study` on this directory (invocations.jsonl) */
  invocations?: Invocation[];
}

const MEASURE_TEXT: Record<Measure, string> = {
  raw: 'right after pruning (no fine-tune)',
  bn: 'after batch-norm re-estimation (no weight update)',
  epoch: 'after a one-epoch fine-tune',
  full: 'after the recovery fine-tune',
};
export const pt = (x: number) => (100 * x).toFixed(2);
const ivs = (i?: Comparison) =>
  i
    ? `${i.mean >= 0 ? '+' : ''}${pt(i.mean)} [${pt(i.lo)}, ${pt(i.hi)}] ${i.verdict}${i.method === 'images' ? ' (one seed: images only)' : ''}`
    : '-';
const NO_EVIDENCE = 'no evidence of a difference';

/** Every interval the document shows, for the multiple-comparison statement. */
export function intervalCount(d: StudyDoc): number {
  return d.rows.reduce((n, r) => n + [r.vsRandom, r.vsBestBaseline, r.noisyVsRandom, r.vsDefault].filter(Boolean).length, 0);
}

/** How the intervals were made and what their number means, in one paragraph. */
export function intervalText(d: StudyDoc): string {
  const all = d.rows.flatMap((r) => [r.vsRandom, r.vsBestBaseline, r.noisyVsRandom, r.vsDefault]).filter((i): i is Comparison => !!i);
  const k = all.length;
  const how = all.some((i) => i.method === undefined)
    ? 'paired 95% percentile-bootstrap intervals over seeds and test images (records analysed before t intervals: with 3 seeds these cover the true difference only about 76% of the time)'
    : "paired 95% t intervals over the per-seed differences (same seed, same test images), widened by the test images' own sampling; a simulation with seed- and image-level noise like the study's checks that they cover at least 93% of the time from 3 seeds up (src/eval/bootstrap_test.ts), where the earlier percentile bootstrap covered about 76%";
  return (
    `Differences are ${how}. "${NO_EVIDENCE}" means the interval covers zero: the data fail to show a difference, not that the two are level. ` +
    `This document holds ${k} intervals; if no criterion differed from another, about ${(k * 0.05).toFixed(1)} of them would still exclude zero by chance, so one "ahead" or "behind" among many is weak evidence on its own.`
  );
}
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** One line per claim, following only from the intervals. */
export function verdicts(d: StudyDoc): { better: string[]; faster: string; robust: string } {
  const better: string[] = [];
  for (const ours of ['aura', 'aura-red']) {
    const mine = d.rows.filter((r) => r.variant === ours);
    if (!mine.length) continue;
    const parts = mine.map(
      (r) =>
        `${r.measure} ${r.allocation} -${Math.round(100 * r.target)}%: vs random ${r.vsRandom?.verdict ?? 'n/a'}` +
        (r.vsBestBaseline ? `, vs ${r.vsBestBaseline.baseline} ${r.vsBestBaseline.verdict}` : ''),
    );
    const n = (w: string) => mine.filter((r) => r.vsRandom?.verdict === w).length;
    better.push(
      `${ours}: ahead of random in ${n('ahead')}, behind in ${n('behind')}, ${NO_EVIDENCE} in ${n(NO_EVIDENCE)} of ${mine.length} cells (${parts.join('; ')})`,
    );
  }
  const faster = fasterText(d);
  const dis = d.stability.filter((r) => r.kind === 'disjoint');
  const auraDis = dis.find((r) => r.variant === 'aura');
  const robust = auraDis
    ? `Spearman across disjoint calibration samples: ${dis.map((r) => `${r.variant} ${r.spearman.mean.toFixed(3)} [${r.spearman.lo.toFixed(3)}, ${r.spearman.hi.toFixed(3)}]`).join(', ')}; ` +
      `aura is ${dis.filter((r) => r !== auraDis && r.spearman.hi < auraDis.spearman.lo).length} times clearly more stable and ${dis.filter((r) => r !== auraDis && r.spearman.lo > auraDis.spearman.hi).length} times clearly less stable than the ${dis.length - 1} others (non-overlapping intervals); ${noiseText(d)}`
    : 'not measured';
  return { better, faster, robust };
}

/** Rank correlation with the clean ranking under input noise, every variant at every sigma. */
function noiseText(d: Pick<StudyDoc, 'stability'>): string {
  const rows = d.stability.filter((r) => r.kind === 'noise');
  const sigmas = [...new Set(rows.map((r) => r.param))].sort((a, b) => a - b);
  const variants = [...new Set(rows.map((r) => r.variant))];
  if (!rows.length) return 'input noise not measured';
  const at = (v: string) =>
    sigmas
      .map((p) => {
        const m = rows.find((r) => r.variant === v && r.param === p)?.spearman.mean;
        // a JSON NaN reads back as null: every layer's ranking constant
        return typeof m === 'number' && Number.isFinite(m) ? m.toFixed(3) : 'n/a';
      })
      .join('/');
  return `Spearman against the clean ranking under Gaussian input noise (sigma ${sigmas.join('/')}): ${variants.map((v) => `${v} ${at(v)}`).join(', ')}`;
}

/**
 * Scoring cost, every ratio naming its two sides: like for like (aura in per-filter MINT's own
 * implementation, when the study timed it), each in its fastest form, and MINT's grouped setting.
 */
export function fasterText(d: Pick<StudyDoc, 'costs'>): string {
  const cost = (v: string) => d.costs.find((c) => c.variant === v);
  const a = cost('aura');
  if (!a) return 'not measured';
  const sec = (c: StudyDoc['costs'][number]) =>
    `${c.scoringSeconds.mean.toFixed(c.scoringSeconds.mean < 10 ? 2 : 1)} s${c.implementation ? ` (${c.implementation})` : ''}`;
  const ratio = (x: StudyDoc['costs'][number], y: StudyDoc['costs'][number]) => {
    const r = y.scoringSeconds.mean / x.scoringSeconds.mean;
    if (r > 0.9 && r < 1 / 0.9) return 'about the same cost (within 10%)';
    return r >= 1 ? `${r.toFixed(1)}x faster` : `${(1 / r).toFixed(1)}x slower`;
  };
  const parts = [
    `scoring every filter of every layer pair on ${a.images} images (plus ${a.activationSeconds.mean.toFixed(1)} s of forward passes)`,
  ];
  const ts = cost('aura-ts1');
  const mint = cost('mint');
  if (ts && mint) parts.push(`like for like, aura ${sec(ts)} against per-filter MINT ${sec(mint)}: aura ${ratio(ts, mint)}`);
  if (mint)
    parts.push(
      `each in its fastest form here, aura ${sec(a)} against per-filter MINT ${sec(mint)}: aura ${ratio(a, mint)}${
        !a.implementation || !mint.implementation
          ? ' (these records do not name the implementations: aura used the native kernel where built, MINT is TypeScript, so the ratio is not the methods alone)'
          : a.implementation !== mint.implementation
            ? ' (implementations differ, so this ratio is not the methods alone)'
            : ''
      }`,
    );
  const g = cost('mint-g8');
  if (g) parts.push(`MINT at its own grouped setting (8 groups) ${sec(g)}: aura ${ratio(a, g)}`);
  const cheap = d.costs.filter((c) => !['mint', 'mint-g8'].includes(c.variant) && !c.variant.startsWith('aura'));
  if (cheap.length) parts.push(`the other criteria ${cheap.map((c) => `${c.variant} ${c.scoringSeconds.mean.toFixed(2)} s`).join(', ')}`);
  return parts.join('; ');
}

/**
 * The headline: one row per criterion, one column per budget, at one allocation and target (the
 * README's table): mean +- sd over seeds and the paired difference to random, bold when ahead.
 */
export function headlineTable(
  d: StudyDoc,
  allocation = 'uniform',
  target = 0.5,
  keep: (variant: string) => boolean = () => true,
): string[] {
  const rows = d.rows.filter((r) => r.allocation === allocation && Math.abs(r.target - target) < 1e-9 && keep(r.variant));
  const measures = MEASURES.filter((m) => rows.some((r) => r.measure === m));
  const noisy = rows.some((r) => r.measure === 'full' && r.noisy);
  const variants = [...new Set(rows.map((r) => r.variant))].sort((a, b) => (a === 'random' ? 1 : b === 'random' ? -1 : 0));
  if (!rows.length) return [];
  const cell = (v: string, m: Measure) => {
    const r = rows.find((x) => x.variant === v && x.measure === m);
    if (!r) return 'not in the plan';
    let c = `${pt(r.mean)} +- ${pt(r.sd)}`;
    if (r.seeds.length < 3) c += ` (${r.seeds.length} seed${r.seeds.length > 1 ? 's' : ''})`;
    return withDiff(c, r.vsRandom);
  };
  const withDiff = (c: string, i?: Comparison) => {
    if (!i) return c;
    const t = `${i.mean >= 0 ? '+' : ''}${pt(i.mean)} [${pt(i.lo)}, ${pt(i.hi)}]`;
    return `${c}, ${i.verdict === 'ahead' ? `**${t}**` : `${t} ${i.verdict === 'behind' ? 'behind' : NO_EVIDENCE}`}`;
  };
  // the robustness column: the same recovered models on noisy test images, ahead or behind alike
  const noisyCell = (v: string) => {
    const r = rows.find((x) => x.variant === v && x.measure === 'full');
    return r?.noisy ? withDiff(`${pt(r.noisy.mean)} +- ${pt(r.noisy.sd)}`, r.noisyVsRandom) : 'not measured';
  };
  return [
    `**${Math.round(100 * target)}% of FLOPs removed, ${allocation} allocation, test accuracy % (mean +- sd over seeds), difference to random in points [95% interval]:**`,
    '',
    `| criterion | ${measures.map((m) => MEASURE_TEXT[m]).join(' | ')}${noisy ? ' | on noisy test images, after the recovery fine-tune' : ''} |`,
    `|---|${measures.map(() => '---|').join('')}${noisy ? '---|' : ''}`,
    ...variants.map((v) => `| ${v} | ${measures.map((m) => cell(v, m)).join(' | ')}${noisy ? ` | ${noisyCell(v)}` : ''} |`),
  ];
}

/**
 * Criteria whose scores tie in most of a layer (fewer distinct scores than half its filters): their
 * ranking there is mostly the tie-break, which the reader must know beside their accuracy rows.
 */
export function tiedScores(d: StudyDoc): string[] {
  const degenerate = d.costs
    .map((c) => ({ variant: c.variant, tieBreak: c.tieBreak, layers: (c.distinct ?? []).filter((u) => u.distinct < u.filters / 2) }))
    .filter((c) => c.layers.length);
  if (!degenerate.length) return [];
  return [
    '',
    ...degenerate.map(
      (c) =>
        `Degenerate scores: ${c.variant} has fewer distinct scores than half the filters in ${c.layers.length} layer(s) (${c.layers.map((u) => `${u.conv} ${u.distinct} of ${u.filters}`).join(', ')}); among tied filters its ranking is the tie-break: ${c.tieBreak === 'seeded' ? 'a seeded random order' : 'filter index'}.`,
    ),
  ];
}

export function studyMarkdown(d: StudyDoc): string {
  const out: string[] = [];
  out.push(
    `Base: test ${pt(d.base.testAcc)}%, ${(d.base.params / 1e6).toFixed(2)} M params, ${(d.base.flops / 1e6).toFixed(1)} M FLOPs. ${machineText(d)}${d.invocations?.length ? ` Wall time: ${invocationsText(d.invocations)}` : d.wallMinutes !== undefined ? ` Wall time of this invocation: ${d.wallMinutes.toFixed(1)} min.` : ''}`,
  );
  out.push(`Command: \`${d.command}\``);
  out.push(
    `Every criterion keeps the same number of filters in every layer (equal allocation); numbers are test accuracy in % (mean +- sd over seeds). ${intervalText(d)}`,
  );
  const head = headlineTable(d);
  if (head.length) out.push('', ...head);
  const few = d.rows.filter((r) => r.seeds.length < 3);
  if (few.length)
    out.push(
      `Caution: ${few.length} of ${d.rows.length} rows have fewer than 3 seeds; their intervals reflect the test images' sampling only, not the variation between calibration samples and fine-tune orders.`,
    );
  for (const m of MEASURES) {
    const rows = d.rows.filter((r) => r.measure === m);
    if (!rows.length) continue;
    out.push(`\n**Accuracy ${MEASURE_TEXT[m]}**\n`);
    out.push(
      '| allocation | FLOPs target | variant | seeds | test acc % | vs random (pt) | vs best baseline (pt) |' +
        (m === 'full' ? ' noisy test % | noisy vs random (pt) |' : ''),
    );
    out.push('|---|---|---|---|---|---|---|' + (m === 'full' ? '---|---|' : ''));
    for (const r of rows)
      out.push(
        `| ${r.allocation} | ${Math.round(100 * r.target)}% (${(100 * r.flopsRemoved).toFixed(1)}%) | ${r.variant} | ${r.seeds.length} | ${pt(r.mean)} +- ${pt(r.sd)} | ${ivs(r.vsRandom)} | ${r.vsBestBaseline ? `${r.vsBestBaseline.baseline}: ${ivs(r.vsBestBaseline)}` : '-'} |` +
          (m === 'full' ? ` ${r.noisy ? `${pt(r.noisy.mean)} +- ${pt(r.noisy.sd)}` : '-'} | ${ivs(r.noisyVsRandom)} |` : ''),
      );
  }
  const own = d.rows.filter((r) => r.vsDefault);
  if (own.length) {
    out.push(
      "\n**Aura's own choices against the default** (aura: sum over child filters, 8 levels, 4-neighbourhood, after ReLU, 500 images)\n",
    );
    out.push('| measure | allocation | FLOPs target | variant | seeds | test acc % | vs aura (pt) |');
    out.push('|---|---|---|---|---|---|---|');
    for (const r of own)
      out.push(
        `| ${MEASURE_TEXT[r.measure]} | ${r.allocation} | ${Math.round(100 * r.target)}% | ${r.variant} | ${r.seeds.length} | ${pt(r.mean)} +- ${pt(r.sd)} | ${ivs(r.vsDefault)} |`,
      );
  }
  if (d.stability.length) {
    out.push(
      d.stability.every((r) => r.perSeed)
        ? '\n**Ranking stability** (layers averaged within each seed; mean over seeds with a 95% t interval over the seed means)\n'
        : '\n**Ranking stability** (mean over seeds and layers; rows without per-seed values: 95% bootstrap interval over (seed, layer) values, too narrow)\n',
    );
    out.push('| variant | comparison | Spearman | top-half overlap |');
    out.push('|---|---|---|---|');
    const iv3 = (i: Interval) =>
      i.n === 0 || Number.isNaN(i.mean) ? 'n/a (every layer constant)' : `${i.mean.toFixed(3)} [${i.lo.toFixed(3)}, ${i.hi.toFixed(3)}]`;
    for (const r of d.stability)
      out.push(
        `| ${r.variant} | ${r.kind === 'disjoint' ? `disjoint samples, ${10 * r.param} images each` : r.kind === 'size' ? `${10 * r.param} vs default images (disjoint)` : `input noise sigma ${r.param}`} | ${iv3(r.spearman)} | ${iv3(r.topHalf)} |`,
      );
  }
  if (d.costs.length) {
    out.push('\n**Scoring cost** (whole network, same calibration images per variant unless the variant changes them)\n');
    out.push('| variant | images | scoring s | forward passes s |');
    out.push('|---|---|---|---|');
    for (const c of d.costs)
      out.push(`| ${c.variant} | ${c.images} | ${c.scoringSeconds.mean.toFixed(2)} | ${c.activationSeconds.mean.toFixed(2)} |`);
    out.push(...tiedScores(d));
  }
  const v = verdicts(d);
  out.push('\n**Verdicts**\n');
  for (const b of v.better) out.push(`- Better? ${b}`);
  out.push(`- Faster? ${v.faster}`);
  out.push(`- More robust? ${v.robust}`);
  return out.join('\n');
}

function mdToHtml(md: string): string {
  // tables and bullets of studyMarkdown only
  const lines = md.split('\n');
  const html: string[] = [];
  let inTable = false;
  for (const raw of lines) {
    const line = raw.trim();
    if (line.startsWith('|')) {
      if (/^\|[-| ]+\|$/.test(line)) continue;
      const cells = line
        .slice(1, -1)
        .split('|')
        .map((c) => esc(c.trim()).replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>'));
      if (!inTable) {
        html.push('<table><tr>' + cells.map((c) => `<th>${c}</th>`).join('') + '</tr>');
        inTable = true;
      } else html.push('<tr>' + cells.map((c) => `<td>${c}</td>`).join('') + '</tr>');
      continue;
    }
    if (inTable) {
      html.push('</table>');
      inTable = false;
    }
    if (!line) continue;
    const inline = esc(line)
      .replace(/\*\*(.+?)\*\*/g, '<h3>$1</h3>')
      .replace(/`(.+?)`/g, '<code>$1</code>');
    html.push(line.startsWith('- ') ? `<p>&bull; ${inline.slice(2)}</p>` : inline.startsWith('<h3>') ? inline : `<p>${inline}</p>`);
  }
  if (inTable) html.push('</table>');
  return html.join('\n');
}

export async function studyHtml(d: StudyDoc): Promise<string> {
  const parts: string[] = [];
  parts.push('<h1>Does aura MI prune better, faster and more robustly?</h1>');
  parts.push(
    `<p>This report compares filter-ranking criteria for structured pruning on one trained ${esc(datasetLabel(d.base.dataset))} base model (test accuracy ${pt(d.base.testAcc)}%). Every criterion is given the same number of filters to keep in every layer (one allocation, shared), so the only thing that differs is <em>which</em> filters each criterion removes. Accuracy is measured at four budgets: right after pruning, after re-estimating batch-norm statistics on calibration images, after a one-epoch fine-tune and after the recovery fine-tune. Seeds change the calibration sample and the fine-tune order; every difference is paired with the same seed's cell and the same test images, and its 95% interval decides the verdict. ${esc(intervalText(d))} Green intervals are ahead of the reference, red behind, grey ${NO_EVIDENCE}. Scoring time and ranking stability (across disjoint calibration samples, sample sizes and input noise) answer the other two claims; the verdicts are at the end.</p>`,
  );
  const main = [...new Set(d.rows.map((r) => r.variant))];
  for (const m of MEASURES) {
    const rows = d.rows.filter((r) => r.measure === m && r.allocation === 'uniform');
    if (!rows.length) continue;
    const targets = [...new Set(rows.map((r) => r.target))].sort((a, b) => a - b);
    parts.push(`<h2>Accuracy ${MEASURE_TEXT[m]}</h2><div class="row">`);
    if (targets.length > 1) {
      const multi = main.filter((v) => rows.filter((r) => r.variant === v).length > 1);
      if (multi.length)
        parts.push(
          await renderChart(
            `chart-${m}-flops`,
            lineSpec({
              title: `Test accuracy ${MEASURE_TEXT[m]} (mean, bars +- sd over seeds)`,
              x: 'FLOPs removed (%)',
              y: 'test accuracy (%)',
              points: rows
                .filter((r) => multi.includes(r.variant))
                .map((r) => ({
                  series: r.variant,
                  x: 100 * r.flopsRemoved,
                  y: 100 * r.mean,
                  lo: 100 * (r.mean - r.sd),
                  hi: 100 * (r.mean + r.sd),
                })),
              reference: { y: 100 * d.base.testAcc, label: 'unpruned base' },
            }),
          ),
        );
    }
    for (const t of targets) {
      const items = rows
        .filter((r) => r.target === t && r.vsRandom)
        .map((r) => ({
          name: r.variant,
          mean: 100 * r.vsRandom!.mean,
          lo: 100 * r.vsRandom!.lo,
          hi: 100 * r.vsRandom!.hi,
          verdict: r.vsRandom!.verdict,
        }));
      if (items.length)
        parts.push(
          await renderChart(
            `chart-${m}-diff-${Math.round(100 * t)}`,
            forestSpec({
              title: `Difference to random, -${Math.round(100 * t)}% FLOPs, ${m} (95% interval)`,
              x: 'test accuracy difference (points)',
              items,
            }),
          ),
        );
    }
    parts.push('</div>');
  }
  if (d.stability.length) {
    parts.push('<h2>Ranking stability</h2><div class="row">');
    const mk = (kind: string, x: string, scale: number) =>
      renderChart(
        `chart-stability-${kind}`,
        lineSpec({
          title: `Spearman correlation of rankings vs ${x} (95% interval)`,
          x,
          y: 'Spearman rho',
          points: d.stability
            .filter((r) => r.kind === kind && r.spearman.n > 0)
            .map((r) => ({ series: r.variant, x: scale * r.param, y: r.spearman.mean, lo: r.spearman.lo, hi: r.spearman.hi })),
        }),
      );
    if (d.stability.some((r) => r.kind === 'noise')) parts.push(await mk('noise', 'input noise sigma', 1));
    if (d.stability.some((r) => r.kind === 'size')) parts.push(await mk('size', 'calibration images', 10));
    parts.push('</div>');
  }
  const q = d.rows.filter((r) => r.measure === 'bn' && r.allocation === 'uniform' && r.target === 0.5);
  const items = d.costs
    .map((c) => ({ c, r: q.find((r) => r.variant === c.variant) }))
    .filter((x) => x.r && x.c.scoringSeconds.mean > 0)
    .map((x) => ({ name: x.c.variant, x: x.c.scoringSeconds.mean, y: 100 * x.r!.mean }));
  if (items.length)
    parts.push(
      `<h2>Time vs quality</h2>` +
        (await renderChart(
          'chart-time-quality',
          dotPairSpec({
            title: 'Scoring time and the accuracy it buys (after BN re-estimation, -50% FLOPs)',
            a: { title: 'scoring seconds (log scale)', log: true },
            b: { title: 'test accuracy (%)' },
            items: items.map((i) => ({ name: i.name, a: i.x, b: i.y })),
          }),
        )),
    );
  parts.push('<h2>Tables and verdicts</h2>');
  parts.push(mdToHtml(studyMarkdown(d)));
  parts.push('<h2>Variants</h2><table><tr><th>variant</th><th>what it is</th></tr>');
  for (const v of main) parts.push(`<tr><td>${esc(v)}</td><td>${esc(VARIANTS[v]?.about ?? '')}</td></tr>`);
  parts.push('</table>');
  parts.push(`<h2>Settings</h2><pre>${esc(JSON.stringify(d.settings, null, 1))}</pre>`);
  const css =
    'body{font-family:system-ui,sans-serif;margin:24px;max-width:1200px}table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}.row{display:flex;flex-wrap:wrap;gap:16px}figure.chart{margin:6px;border:1px solid #eee}';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>auraprune study</title><style>${css}</style></head><body>${parts.join('\n')}</body></html>`;
}

/**
 * Which machine the numbers came from: the cells' own records, not the machine a report is rebuilt
 * on (`--report-only` may run anywhere); cells written before machines were recorded are counted.
 */
export function machineText(d: Pick<StudyDoc, 'machine' | 'cellMachines'>): string {
  const known = d.cellMachines?.filter((m) => m.machine !== '') ?? [];
  const unknown = d.cellMachines?.find((m) => m.machine === '')?.cells ?? 0;
  if (!known.length)
    return `Machine: ${d.machine}${d.cellMachines ? ' (this document was built there; the cells did not record theirs)' : ''}.`;
  const ran = known.map((m) => `${m.machine} (${m.cells} cell${m.cells === 1 ? '' : 's'})`).join('; ');
  return `Cells ran on ${ran}${unknown ? `; ${unknown} cell${unknown === 1 ? '' : 's'} recorded no machine` : ''}. Document built on ${d.machine}.`;
}

/** Distinct machines of the cells' lines with their counts ('' for lines without one). */
export function cellMachines(lines: Array<{ machine?: string }>): Array<{ machine: string; cells: number }> {
  const n = new Map<string, number>();
  for (const l of lines) n.set(l.machine ?? '', (n.get(l.machine ?? '') ?? 0) + 1);
  return [...n].map(([machine, cells]) => ({ machine, cells }));
}

/** study.json, study.md and report.html from results.jsonl and stability.json. */
export async function writeStudyReport(
  out: string,
  testN: number,
  meta: Pick<StudyDoc, 'settings' | 'machine' | 'command' | 'wallMinutes'>,
): Promise<string> {
  const lines = readLines<StudyLine>(join(out, 'results.jsonl'));
  const base = readJsonFile(join(out, 'base.json'));
  const stability: StabilityRow[] = existsSync(join(out, 'stability.json')) ? readJsonFile(join(out, 'stability.json')) : [];
  const variants = [...new Set(lines.map((l) => l.variant))];
  const seeds = [...new Set(lines.map((l) => l.seed))];
  const doc: StudyDoc = {
    base: { testAcc: base.testAcc, testAccNoisy: base.testAccNoisy, params: base.params, flops: base.flops, dataset: base.dataset },
    rows: analyseStudy(lines, base.testN ?? testN),
    stability,
    // the cells' variants and the timing-only ones (score files without cells)
    costs: scoringCosts(out, [...new Set([...variants, ...COSTS.variants])], seeds),
    ...meta,
    cellMachines: cellMachines(lines),
    invocations: readInvocations(out),
  };
  writeFileAtomic(join(out, 'study.json'), JSON.stringify(doc, null, 1));
  writeFileAtomic(join(out, 'study.md'), studyMarkdown(doc) + '\n');
  const path = resolve(join(out, 'report.html'));
  writeFileAtomic(path, await studyHtml(doc));
  return path;
}

/** `study --recheck`: one line per comparison, for people. */
export function recheckText(r: RecheckResult[]): string {
  return r
    .map(
      (x) =>
        `${x.key} (${x.measure}): original ${pt(x.original)}%, rerun ${pt(x.rerun)}%; row of ${x.row.n} seeds ${pt(x.row.mean)} +- ${pt(x.row.sd)}, ` +
        (x.inside === null
          ? 'one seed: no interval to land in'
          : `95% prediction interval [${pt(x.row.lo)}, ${pt(x.row.hi)}]: ${x.inside ? 'inside' : 'OUTSIDE'}`) +
        (x.exact === undefined ? '' : x.exact ? ', reproduced exactly' : ', NOT reproduced exactly'),
    )
    .join('\n');
}
