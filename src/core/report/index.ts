/**
 * Run comparison and reports: pick runs (ours and imported), compare them side by side against
 * a baseline, draw sweep curves and the Pareto chart, export Markdown / CSV / self-contained HTML.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { OutputDoc } from '../output/doc';
import { compareRuns } from './compare';
import { reportDoc } from './doc';
import { reportHtml } from './export-html';
import { reportCsv, reportMarkdown } from './export-text';
import { REPORT_METRICS } from './metrics';
import { presentOptionalMetrics } from './server-views';
import type { ComparedRun, ReportModel } from './types';

export { compareRuns, groupRows, aggregate } from './compare';
export { reportDoc } from './doc';
export { reportHtml } from './export-html';
export { reportCsv, reportMarkdown } from './export-text';
export { REPORT_METRICS, tokensPerSecPerUser, outputTokensPerSecPerGpu } from './metrics';
export { paretoFrontier } from './charts';
export { gpuCountFromCommands } from './gpus';
export { loadStore, loadStoredRun, importForReport, comparedFromImport } from './load-runs';
export { selectRuns, type Selection, type ImportEntry } from './select';
export type { ComparedRun, ReportModel, ReportRow, MetricDef, MetricValue } from './types';

export const EXPORT_FORMATS = ['md', 'csv', 'html'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export function buildReport(runs: readonly ComparedRun[], o: { title: string; baseline?: string; skipped?: { what: string; reason: string }[] }): ReportModel {
  // TTFAT, thinking share, prefix-cache hit, KV transfer: only when some run has them
  return compareRuns(runs, { title: o.title, baseline: o.baseline, metrics: [...REPORT_METRICS, ...presentOptionalMetrics(runs)], skipped: o.skipped });
}

/** One export as text. */
export async function renderExport(format: ExportFormat, model: ReportModel, doc: OutputDoc, meta: { toolVersion?: string; generatedAt?: string } = {}): Promise<string> {
  if (format === 'md') return reportMarkdown(doc);
  if (format === 'csv') return reportCsv(model);
  return reportHtml(doc, meta);
}

/** Write `<dir>/<name>.<ext>` for each format (atomically); returns [format, path] pairs. */
export async function writeExports(formats: readonly ExportFormat[], model: ReportModel, doc: OutputDoc, dir: string, name: string, meta: { toolVersion?: string; generatedAt?: string } = {}): Promise<[ExportFormat, string][]> {
  await mkdir(dir, { recursive: true });
  const out: [ExportFormat, string][] = [];
  for (const f of formats) {
    const file = path.join(dir, `${name}.${f}`);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, await renderExport(f, model, doc, meta), 'utf8');
    await rename(tmp, file);
    out.push([f, file]);
  }
  return out;
}

/** a file-name-safe report name */
export function reportFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '').slice(0, 80) || 'report';
}
