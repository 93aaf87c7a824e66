import type { GpuDeepReading } from '../../schema';

/**
 * DCGM profiling fields sampled by `dcgmi dmon -e`. Ids from DCGM's public header
 * `dcgm_fields.h` (DCGM_FI_PROF_*; stable since DCGM 2.0). Short names are the column headers
 * `dcgmi dmon` prints (`dcgmi dmon -l` lists them). Activity fields are ratios 0..1 of elapsed
 * cycles; the PCIe/NVLink "bytes" fields are rates in bytes per second.
 */
export interface DcgmField {
  id: number;
  symbol: string;
  /** column header in `dcgmi dmon` output */
  short: string;
  /** which reading it fills and how the printed value converts */
  apply: (r: GpuDeepReading, value: number) => void;
}

const pct = (v: number): number => Math.round(v * 1000) / 10;
const gbps = (bytesPerSec: number): number => bytesPerSec / 1e9;

export const DCGM_FIELDS: readonly DcgmField[] = [
  { id: 1002, symbol: 'DCGM_FI_PROF_SM_ACTIVE', short: 'SMACT', apply: (r, v) => (r.smActivePct = pct(v)) },
  { id: 1003, symbol: 'DCGM_FI_PROF_SM_OCCUPANCY', short: 'SMOCC', apply: (r, v) => (r.smOccupancyPct = pct(v)) },
  { id: 1004, symbol: 'DCGM_FI_PROF_PIPE_TENSOR_ACTIVE', short: 'TENSO', apply: (r, v) => (r.tensorActivePct = pct(v)) },
  { id: 1005, symbol: 'DCGM_FI_PROF_DRAM_ACTIVE', short: 'DRAMA', apply: (r, v) => (r.dramActivePct = pct(v)) },
  { id: 1009, symbol: 'DCGM_FI_PROF_PCIE_TX_BYTES', short: 'PCITX', apply: (r, v) => (r.pcieTxGBps = gbps(v)) },
  { id: 1010, symbol: 'DCGM_FI_PROF_PCIE_RX_BYTES', short: 'PCIRX', apply: (r, v) => (r.pcieRxGBps = gbps(v)) },
  { id: 1011, symbol: 'DCGM_FI_PROF_NVLINK_TX_BYTES', short: 'NVLTX', apply: (r, v) => (r.nvlinkTxGBps = gbps(v)) },
  { id: 1012, symbol: 'DCGM_FI_PROF_NVLINK_RX_BYTES', short: 'NVLRX', apply: (r, v) => (r.nvlinkRxGBps = gbps(v)) },
];

export const DCGM_FIELD_IDS: readonly number[] = DCGM_FIELDS.map((f) => f.id);

export function dcgmFieldById(id: number): DcgmField | undefined {
  return DCGM_FIELDS.find((f) => f.id === id);
}

export function dcgmFieldByShort(short: string): DcgmField | undefined {
  const s = short.toUpperCase();
  return DCGM_FIELDS.find((f) => f.short === s);
}

/** The one long-lived DCGM stream per node. `-d` is the delay in milliseconds (DCGM's minimum is 100). */
export function dcgmDmonArgv(intervalMs: number, fieldIds: readonly number[] = DCGM_FIELD_IDS): string[] {
  const ms = Math.max(100, Math.round(intervalMs));
  for (const id of fieldIds) if (!Number.isInteger(id) || id <= 0) throw new RangeError(`not a DCGM field id: ${id}`);
  return ['dcgmi', 'dmon', '-e', fieldIds.join(','), '-d', String(ms)];
}

/**
 * Messages that mean "no usable DCGM here" (no host engine, no profiling module, a GPU that does
 * not support profiling metrics): the collector falls back to nvidia-smi instead of retrying.
 */
export function dcgmUnavailableReason(text: string, exitCode: number | null): string | undefined {
  if (exitCode === 127 || /command not found|No such file or directory|not found/i.test(text)) return 'dcgmi is not installed';
  // most specific first: dcgmi prefixes most messages with "Error: "
  const patterns = [/Unable to connect to host engine[^\n]*/i, /Host engine connection invalid[^\n]*/i, /Error setting watches[^\n]*/i, /Profiling is not supported[^\n]*/i, /The requested operation is not supported[^\n]*/i, /Error: ([^\n]*)/i];
  for (const re of patterns) {
    const m = re.exec(text);
    if (m) return (m[1] ?? m[0]).trim();
  }
  return undefined;
}
