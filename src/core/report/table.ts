import type { TableBlock } from '../output/doc';
import { fmtCell } from './format';
import { rowValidity, sourceText, validityText } from './flags';
import type { ReportModel, ReportRow } from './types';

function gpusText(row: ReportRow): string | number | null {
  const counts = [...new Set(row.runs.map((r) => r.gpus?.count).filter((x): x is number => x !== undefined))];
  return counts.length === 1 ? counts[0] : counts.length > 1 ? counts.join('/') : null;
}

/** Side-by-side table: one row per series × sweep point; cells carry spread and Δ vs baseline. */
export function comparisonTable(model: ReportModel): TableBlock {
  const columns = ['Run', 'Source', 'n', 'GPUs', ...model.metrics.map((m) => `${m.label}${m.unit && m.unit !== 'tok/s' && m.unit !== 'req/s' && !m.label.includes(m.unit) ? ` (${m.unit})` : ''}`), 'Validity'];
  const rows = model.rows.map((row) => {
    const isBase = model.baseline?.rowKeys.has(row.key) === true;
    return [
      isBase ? `${row.label} (baseline)` : row.label,
      sourceText(row),
      row.runs.length,
      gpusText(row),
      ...model.metrics.map((m) => fmtCell(model.values.get(row.key)?.get(m.id), m, model.deltas.get(row.key)?.get(m.id))),
      validityText(rowValidity(row)),
    ];
  });
  // a metric nobody has (no energy telemetry, no GPU counts) is noise: drop its column
  const empty = new Set<number>();
  model.metrics.forEach((_, i) => {
    if (rows.every((r) => r[4 + i] === '—')) empty.add(4 + i);
  });
  return {
    type: 'table',
    title: model.baseline ? `Comparison (Δ vs ${model.baseline.series}${model.rows.length > model.baseline.rowKeys.size + 1 ? ' at the same sweep point' : ''}; ± is the spread over repeats)` : 'Comparison',
    columns: columns.filter((_, i) => !empty.has(i)),
    rows: rows.map((r) => r.filter((_, i) => !empty.has(i))),
  };
}
