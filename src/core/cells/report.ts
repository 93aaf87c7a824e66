import * as path from 'node:path';
import type { CellContext, CellExecutor } from '../exec/cell';
import { parseSpec } from '../spec/yaml-spec';
import { reportSpecSchema } from '../spec/report-spec';
import { buildReport, reportDoc, reportFileName, selectRuns, writeExports, type Selection } from '../report';
import { CellReferenceError } from '../util/errors';



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
