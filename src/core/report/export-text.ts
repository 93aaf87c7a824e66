import type { BadgesBlock, KeyValueBlock, OutputDoc, TableBlock } from '../output/doc';
import { toCsv, toMarkdown } from '../metrics/summary-table';
import { rowValidity, sourceText } from './flags';
import type { ReportModel } from './types';

const ICON: Record<string, string> = { ok: '✅', info: 'ℹ️', warn: '⚠️', error: '❌' };

/** Markdown: the same badges, table and notes as the cell output (charts live in the HTML report). */
export function reportMarkdown(doc: OutputDoc): string {
  const out: string[] = [`# ${doc.title ?? 'MoE Bench report'}`, ''];
  if (doc.simulated) out.push('> **Simulated**: some runs come from the emulator, not real GPUs.', '');
  for (const b of doc.blocks) {
    if (b.type === 'badges') out.push(...(b as BadgesBlock).items.map((i) => `- ${ICON[i.level]} ${i.text}${i.detail ? ` — ${i.detail.replace(/\n/g, '; ')}` : ''}`), '');
    else if (b.type === 'table') {
      const t = b as TableBlock;
      if (t.title) out.push(`## ${t.title}`, '');
      out.push(toMarkdown(t));
    } else if (b.type === 'kv') {
      const kv = b as KeyValueBlock;
      if (kv.title) out.push(`## ${kv.title}`, '');
      out.push(...kv.items.map(([k, v]) => `- **${k}**: ${v ?? ''}`), '');
    } else if (b.type === 'text') out.push(b.text, '');
  }
  // POSIX text file: exactly one newline at the end (tools like `cat`, diff and git expect it)
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

const r6 = (x: number | null | undefined): number | null => (x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 1e6) / 1e6);

/** CSV for spreadsheets: numbers only (no formatting), per metric mean/min/max/std and Δ% vs baseline. */
export function reportCsv(model: ReportModel): string {
  const columns = ['series', 'point', 'source', 'runs', 'gpus', 'baseline', 'validity', 'max_concurrency', 'request_rate'];
  for (const m of model.metrics) columns.push(m.id, `${m.id}_min`, `${m.id}_max`, `${m.id}_std`, `${m.id}_delta_pct`);
  columns.push('run_ids');
  const rows = model.rows.map((row) => {
    const v = rowValidity(row);
    const load = row.runs[0].load;
    const cells: (string | number | null)[] = [
      row.series,
      row.point,
      sourceText(row),
      row.runs.length,
      row.runs[0].gpus?.count ?? null,
      model.baseline?.rowKeys.has(row.key) ? 'yes' : (model.baselineOf.get(row.key) ?? ''),
      v.level === 'ok' ? 'ok' : `${v.level}: ${v.problems.join('; ')}`,
      load.maxConcurrency,
      load.requestRate,
    ];
    for (const m of model.metrics) {
      const x = model.values.get(row.key)?.get(m.id);
      const d = model.deltas.get(row.key)?.get(m.id);
      cells.push(r6(x?.mean), r6(x?.min), r6(x?.max), r6(x?.std), d === null || d === undefined ? null : r6(d * 100));
    }
    cells.push(row.runs.map((r) => r.id).join(' '));
    return cells;
  });
  return toCsv({ columns, rows });
}
