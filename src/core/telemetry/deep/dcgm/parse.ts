import type { GpuDeepReading } from '../../schema';
import { dcgmFieldById, dcgmFieldByShort, type DcgmField } from './fields';

export type DmonLine = { type: 'reading'; reading: GpuDeepReading } | { type: 'header' } | { type: 'skip' } | { type: 'problem'; text: string };

/**
 * Parser of `dcgmi dmon -e <ids>` output (DCGM 2.x-4.x):
 *
 *   #Entity   SMACT  SMOCC  TENSO  DRAMA  PCITX     PCIRX     NVLTX  NVLRX
 *   ID
 *   GPU 0     0.451  0.212  0.303  0.380  1.2E+09   9.1E+08   3E+10  3E+10
 *
 * Columns are taken from the header (re-read whenever one is printed again), falling back to
 * the order of the requested field ids when a row comes before any header. Values are `N/A`
 * when a field is unsupported or not sampled yet: the reading leaves it out. Entities other
 * than whole GPUs (GPU-I, NvSwitch, links) are skipped.
 */
export class DcgmDmonParser {
  private columns: (DcgmField | undefined)[];

  constructor(requestedIds: readonly number[]) {
    this.columns = requestedIds.map((id) => dcgmFieldById(id));
  }

  parseLine(raw: string): DmonLine {
    const line = raw.trim();
    if (line === '') return { type: 'skip' };
    if (line.startsWith('#')) {
      const cells = line.replace(/^#\s*/, '').split(/\s+/);
      if (/^entity$/i.test(cells[0] ?? '')) {
        // "#Entity" may be followed by "ID" on the same line in some builds ("# Entity ID SMACT ...")
        const names = cells.slice(1).filter((c) => !/^id$/i.test(c));
        this.columns = names.map((n) => dcgmFieldByShort(n));
        return { type: 'header' };
      }
      return { type: 'skip' };
    }
    if (/^(id|entity)\b/i.test(line)) return { type: 'skip' };
    const m = /^GPU\s+(\d+)\s+(.*)$/.exec(line);
    if (!m) {
      if (/^(GPU-I|GPU-CI|Switch|NvSwitch|Link|CPU|Core)\b/i.test(line)) return { type: 'skip' };
      return { type: 'problem', text: line };
    }
    const reading: GpuDeepReading = { index: Number(m[1]) };
    const values = m[2].trim().split(/\s+/);
    values.forEach((cell, i) => {
      const field = this.columns[i];
      if (!field) return;
      const v = parseValue(cell);
      if (v !== undefined) field.apply(reading, v);
    });
    return { type: 'reading', reading };
  }
}

/** "0.451", "1.2E+09", "26467737", "N/A", "12.5%" -> number, or undefined when not a value */
export function parseValue(cell: string): number | undefined {
  if (/^(N\/A|NA|-|\[N\/A\]|Unknown)$/i.test(cell)) return undefined;
  const m = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?/.exec(cell);
  if (!m) return undefined;
  const v = Number(m[0]);
  return Number.isFinite(v) ? v : undefined;
}
