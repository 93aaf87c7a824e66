/**
 * `nvidia-smi dmon -s t -d N`: PCIe throughput per GPU, one row per GPU per interval.
 *
 *   # gpu  rxpci  txpci
 *   # Idx   MB/s   MB/s
 *       0      9      4
 *
 * Columns are read from the header (the full `dmon` of the H200 capture has rxpci/txpci at the
 * end of 22 columns, so the same parser reads both). "-" marks a value the driver lacks.
 */
export type PcieRow = { index: number; rxGBps?: number; txGBps?: number };

export class DmonPcieParser {
  private columns: string[] = ['gpu', 'rxpci', 'txpci'];

  parseLine(raw: string): PcieRow | 'header' | undefined {
    const line = raw.trim();
    if (line === '') return undefined;
    if (line.startsWith('#')) {
      const cells = line.replace(/^#\s*/, '').split(/\s+/);
      if (cells[0]?.toLowerCase() === 'gpu') {
        this.columns = cells.map((c) => c.toLowerCase());
        return 'header';
      }
      return undefined;
    }
    const cells = line.split(/\s+/);
    if (!/^\d+$/.test(cells[0] ?? '')) return undefined;
    const row: PcieRow = { index: Number(cells[0]) };
    const rx = this.columns.indexOf('rxpci');
    const tx = this.columns.indexOf('txpci');
    const num = (i: number): number | undefined => {
      if (i < 0 || i >= cells.length || !/^[\d.]+$/.test(cells[i])) return undefined;
      return Number(cells[i]) / 1000;
    };
    const rxv = num(rx);
    const txv = num(tx);
    if (rxv !== undefined) row.rxGBps = rxv;
    if (txv !== undefined) row.txGBps = txv;
    return row;
  }
}

/** dmon's delay is whole seconds (minimum 1). */
export function dmonPcieArgv(intervalMs: number): string[] {
  return ['nvidia-smi', 'dmon', '-s', 't', '-d', String(Math.max(1, Math.round(intervalMs / 1000)))];
}
