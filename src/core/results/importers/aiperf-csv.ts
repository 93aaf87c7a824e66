import type { Json } from './build';
import { ImportFormatError } from './errors';

/**
 * AIPerf `profile_export_aiperf.csv`: a section `Metric,avg,min,max,p1,...,std` of per-request
 * metrics, a blank row, then `Metric,Value` for run-level ones, then (with GPU telemetry) two
 * blank rows and a GPU table, which is not read. A metric cell is its header with the unit in
 * parentheses, omitted for "count"/"requests" units; numbers are printed with 2 decimals
 * (aiperf/exporters/csv_exporter.py @c2776b11 and src/aiperf/exporters/metrics_csv_exporter.py
 * @309c4e8c; real file: examples/artifacts/run1/profile_export_aiperf.csv @7c31f579).
 */
export function looksLikeAiperfCsv(text: string): boolean {
  const first = text.trimStart().split('\n', 1)[0]?.trim() ?? '';
  return /^Metric,(avg|Value)\b/.test(first);
}

/** "a,b,\"c,d\"" -> cells (RFC 4180 quotes, as Python's csv.writer writes them) */
function cells(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** "Time to First Token (ms)" -> tag "time_to_first_token", unit "ms" */
function tagOf(cell: string): { tag: string; unit: string } {
  const m = /^(.*?)\s*\(([^()]*)\)\s*$/.exec(cell.trim());
  const header = m ? m[1] : cell.trim();
  return { tag: header.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, ''), unit: m ? m[2] : '' };
}

/** the metric blocks of the CSV, keyed by the snake-cased header (aliases are resolved by the caller) */
export function parseAiperfCsv(text: string, file: string): Record<string, Json> {
  const blocks: Record<string, Json> = {};
  let columns: string[] | undefined;
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const row = cells(line);
    if (row[0] === 'Metric') {
      columns = row.slice(1).map((c) => (c === 'Value' ? 'avg' : c));
      continue;
    }
    // the GPU telemetry table (or anything else) after the metric sections ends them
    if (!columns || row[0] === 'Endpoint') break;
    if (row.length !== columns.length + 1) {
      throw new ImportFormatError(`Line ${i + 1} has ${row.length} cells, its header ${columns.length + 1}`, { file, line: i + 1 }, 'The CSV looks cut or edited; import profile_export_aiperf.json instead.');
    }
    const { tag, unit } = tagOf(row[0]);
    const block: Json = { unit };
    columns.forEach((col, k) => {
      const cell = row[k + 1].trim();
      if (cell === '') return;
      const v = Number(cell);
      if (!Number.isFinite(v)) throw new ImportFormatError(`Line ${i + 1}: "${cell}" in column ${col} is not a number`, { file, line: i + 1 });
      block[col] = v;
    });
    blocks[tag] = block;
  }
  if (Object.keys(blocks).length === 0) throw new ImportFormatError('The CSV has no metric rows', { file }, 'Import the profile_export_aiperf.csv AIPerf wrote, or its JSON.');
  return blocks;
}
