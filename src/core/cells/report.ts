import * as path from 'node:path';
import { z } from 'zod';
import type { CellContext, CellExecutor } from './types';
import { parseSpec } from './yaml-spec';
import { IMPORT_SOURCES } from '../results/importers';
import { buildReport, EXPORT_FORMATS, reportDoc, reportFileName, selectRuns, writeExports, type Selection } from '../report';
import { CellReferenceError } from '../util/errors';

const nameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'use letters, digits, ".", "_" or "-" (max 63)');
const oneOrMany = <T extends z.ZodType>(item: T) => z.union([item, z.array(item).min(1)]);

export const reportSpecSchema = z
  .object({
    name: nameSchema.optional().describe('names the export files (.moebench/reports/<name>.<ext>); default: the cell name'),
    title: z.string().optional(),
    compare: oneOrMany(z.string().min(1)).optional().describe("bench cell names: this session's latest runs of the cell, else every stored run with that name"),
    runs: z.array(z.string().min(1)).optional().describe('run ids (folder names under .moebench/runs/)'),
    tags: z.record(z.string(), z.string()).optional().describe('every stored run whose tags include all of these'),
    all: z.boolean().default(false).describe('every run in the store'),
    history: z.boolean().default(false).describe('resolve names against every stored run (repeats show as spread), not only this session'),
    import: z
      .array(
        z.union([
          z.string().min(1),
          z.object({ path: z.string().min(1), label: z.string().min(1).optional(), format: z.enum(IMPORT_SOURCES).optional() }).strict(),
        ]),
      )
      .optional()
      .describe('result files of SGLang bench_serving (JSONL), vllm bench serve (JSON), AIPerf (profile_export_aiperf.json) or GuideLLM (benchmarks.json), relative to the notebook'),
    baseline: z.string().optional().describe('the series the others are compared with (a bench cell name, an imported label, or a run id); default: the first'),
    gpus: z.union([z.number().int().positive(), z.record(z.string(), z.number().int().positive())]).optional().describe('GPUs per run, for per-GPU throughput and the Pareto chart: one number for runs whose launch commands do not tell, or { <name or run id>: N } to set it outright'),
    export: z.array(z.enum(EXPORT_FORMATS)).default([]).describe('md, csv, html: written to .moebench/reports/<name>.<ext> next to the notebook'),
  })
  .strict();

export type ReportSpec = z.output<typeof reportSpecSchema>;

/**
 * `moebench-report`: compare runs of bench cells (and imported results of other tools) side by
 * side against a baseline, with sweep curves, a Pareto chart, energy per token and validity
 * carried over; optionally export Markdown, CSV and a self-contained HTML report.
 */
export class ReportCellExecutor implements CellExecutor {
  readonly language = 'moebench-report';

  async execute(source: string, ctx: CellContext): Promise<void> {
    const { spec } = parseSpec(reportSpecSchema, source, { cell: ctx.cell.name, kind: 'moebench-report' });
    const name = reportFileName(spec.name ?? ctx.cell.name ?? 'report');
    const baseDir = path.dirname(ctx.session.notebookPath);
    const sel: Selection = {
      compare: spec.compare === undefined ? undefined : Array.isArray(spec.compare) ? spec.compare : [spec.compare],
      runs: spec.runs,
      tags: spec.tags,
      all: spec.all,
      history: spec.history,
      imports: spec.import?.map((e) => (typeof e === 'string' ? { path: e } : e)),
    };
    const nothingChosen = !sel.compare && !sel.runs && !sel.tags && !sel.all && !sel.imports?.length;
    // with no selector: every bench cell that ran in this session
    if (nothingChosen) sel.compare = ctx.session.runs.names();
    if (!sel.compare?.length && nothingChosen) {
      throw new CellReferenceError('Nothing to compare: no bench cell has run in this notebook and the report names no runs', { cell: ctx.cell.name }, 'Add `compare: [<bench cell>, ...]`, `import: [file]`, or `all: true`.');
    }
    ctx.emit({ kind: 'status', text: `${name}: collecting runs` });
    const { runs, skipped } = await selectRuns(sel, {
      storeDir: ctx.session.runStoreDir,
      baseDir,
      sessionRuns: (n) => ctx.session.runs.tryGet(n)?.runIds,
      cell: ctx.cell.name,
      gpus: spec.gpus,
    });
    if (runs.length === 0) {
      throw new CellReferenceError('None of the selected runs can be compared', { cell: ctx.cell.name }, skipped.length ? skipped.map((s) => `${s.what}: ${s.reason}`).join('; ') : 'Check the names, tags and files in the report.');
    }
    const model = buildReport(runs, { title: spec.title ?? `Comparison: ${[...new Set(runs.map((r) => r.series))].join(' vs ')}`, baseline: spec.baseline, skipped });
    if (spec.baseline !== undefined && model.baseline === null) {
      throw new CellReferenceError(`Baseline "${spec.baseline}" is not among the compared runs`, { cell: ctx.cell.name, field: 'baseline' }, `Compared: ${[...new Set(runs.map((r) => r.series))].join(', ')}.`);
    }
    const reportsDir = path.join(baseDir, '.moebench', 'reports');
    const planned: [string, string][] = spec.export.map((f) => [f, path.join(reportsDir, `${name}.${f}`)]);
    const doc = reportDoc(model, { exports: planned });
    if (spec.export.length) {
      ctx.emit({ kind: 'status', text: `${name}: writing ${spec.export.join(', ')}` });
      const written = await writeExports(spec.export, model, doc, reportsDir, name, { toolVersion: ctx.session.toolVersion, generatedAt: new Date().toISOString() });
      for (const [f, file] of written) ctx.emit({ kind: 'log', stream: 'stdout', text: `${name}: wrote ${f} report ${file}\n` });
    }
    ctx.emit({ kind: 'doc', id: `${name}-report`, doc });
  }
}
