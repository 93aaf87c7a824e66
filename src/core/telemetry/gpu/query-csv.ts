import type { GpuReading } from '../schema';
import { fieldSpec, parseCell, type GpuFieldSpec } from './fields';

export type QueryLine =
  | { type: 'reading'; reading: GpuReading }
  | { type: 'header' }
  | { type: 'blank' }
  /** a line that is not data: nvidia-smi error text ("No devices were found", "Failed to initialize NVML") */
  | { type: 'problem'; text: string };

/**
 * Parses `nvidia-smi --query-gpu=<fields> --format=csv[,noheader][,nounits]` lines.
 * Works with or without header and units: a header line (re)defines the column order, so a
 * driver that renames a column (clocks_throttle_reasons -> clocks_event_reasons) still maps.
 * Unknown columns are ignored; [N/A] / [Not Supported] values leave the field absent.
 */
export class GpuQueryParser {
  private columns: (GpuFieldSpec | undefined)[];

  constructor(requestedFields: readonly string[]) {
    this.columns = requestedFields.map((f) => fieldSpec(f));
  }

  get columnCount(): number {
    return this.columns.length;
  }

  parseLine(line: string): QueryLine {
    if (line.trim() === '') return { type: 'blank' };
    const cells = line.split(',');
    const first = cells[0].trim();
    if (isHeaderCell(first)) {
      this.columns = cells.map((c) => fieldSpec(c));
      return { type: 'header' };
    }
    if (cells.length !== this.columns.length) return { type: 'problem', text: line.trim() };
    const reading: Partial<Record<keyof GpuReading, number | string>> = {};
    for (let i = 0; i < cells.length; i++) {
      const spec = this.columns[i];
      if (!spec) continue;
      const v = parseCell(spec.kind, cells[i]);
      if (v !== undefined) reading[spec.key] = v;
    }
    if (typeof reading.index !== 'number') return { type: 'problem', text: line.trim() };
    return { type: 'reading', reading: reading as unknown as GpuReading };
  }
}

/** nvidia-smi header cells are lowercase dotted names with an optional " [unit]"; data never looks like that. */
function isHeaderCell(cell: string): boolean {
  return /^[a-z][a-z0-9_.]*(\s\[[^\]]+\])?$/.test(cell);
}

/** Parse a whole `--query-gpu` output (one tick or a captured stream) into readings. */
export function parseGpuQueryCsv(text: string, requestedFields: readonly string[]): { readings: GpuReading[]; problems: string[] } {
  const parser = new GpuQueryParser(requestedFields);
  const readings: GpuReading[] = [];
  const problems: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const r = parser.parseLine(line);
    if (r.type === 'reading') readings.push(r.reading);
    else if (r.type === 'problem') problems.push(r.text);
  }
  return { readings, problems };
}
