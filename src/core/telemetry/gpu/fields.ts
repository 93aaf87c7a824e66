import type { GpuReading } from '../schema';

/**
 * nvidia-smi `--query-gpu` fields we know how to read, and where each lands in a GpuReading.
 * Names are nvidia-smi's; `aliases` are other spellings drivers print in headers
 * (driver 580 answers a query for `clocks_throttle_reasons.active` with a header
 * `clocks_event_reasons.active` — seen in the H200 captures).
 */
export type FieldKind = 'number' | 'string' | 'hexmask';

export interface GpuFieldSpec {
  name: string;
  key: keyof GpuReading;
  kind: FieldKind;
  aliases?: string[];
}

export const GPU_FIELDS: readonly GpuFieldSpec[] = [
  { name: 'index', key: 'index', kind: 'number' },
  { name: 'uuid', key: 'uuid', kind: 'string', aliases: ['gpu_uuid'] },
  { name: 'utilization.gpu', key: 'utilGpuPct', kind: 'number' },
  { name: 'utilization.memory', key: 'utilMemPct', kind: 'number' },
  { name: 'memory.used', key: 'memUsedMiB', kind: 'number' },
  { name: 'memory.total', key: 'memTotalMiB', kind: 'number' },
  { name: 'power.draw', key: 'powerW', kind: 'number', aliases: ['power.draw.instant'] },
  { name: 'power.limit', key: 'powerLimitW', kind: 'number', aliases: ['enforced.power.limit'] },
  { name: 'temperature.gpu', key: 'tempC', kind: 'number' },
  { name: 'temperature.memory', key: 'memTempC', kind: 'number' },
  { name: 'clocks.current.sm', key: 'smClockMHz', kind: 'number', aliases: ['clocks.sm'] },
  { name: 'clocks.current.memory', key: 'memClockMHz', kind: 'number', aliases: ['clocks.mem'] },
  { name: 'pstate', key: 'pstate', kind: 'string' },
  {
    name: 'clocks_throttle_reasons.active',
    key: 'clockEventMask',
    kind: 'hexmask',
    aliases: ['clocks_event_reasons.active', 'clocks.throttle_reasons.active', 'clocks.event_reasons.active'],
  },
  { name: 'ecc.errors.uncorrected.volatile.total', key: 'eccUncorrectedVolatile', kind: 'number' },
  { name: 'pcie.link.gen.current', key: 'pcieGen', kind: 'number', aliases: ['pcie.link.gen.gpucurrent'] },
  { name: 'pcie.link.width.current', key: 'pcieWidth', kind: 'number' },
  { name: 'fan.speed', key: 'fanPct', kind: 'number' },
];

/** What the collector asks for by default: everything the charts, tree and energy need. */
export const DEFAULT_STREAM_FIELDS: readonly string[] = [
  'index',
  'utilization.gpu',
  'utilization.memory',
  'memory.used',
  'memory.total',
  'power.draw',
  'power.limit',
  'temperature.gpu',
  'temperature.memory',
  'clocks.current.sm',
  'clocks.current.memory',
  'pstate',
  'clocks_throttle_reasons.active',
  'ecc.errors.uncorrected.volatile.total',
];

const BY_NAME = new Map<string, GpuFieldSpec>();
for (const f of GPU_FIELDS) {
  BY_NAME.set(f.name, f);
  for (const a of f.aliases ?? []) BY_NAME.set(a, f);
}

/** The spec for a field name or header cell (" [MiB]" unit suffixes and case ignored); undefined when unknown. */
export function fieldSpec(nameOrHeader: string): GpuFieldSpec | undefined {
  const bare = nameOrHeader.replace(/\s*\[[^\]]*\]\s*$/, '').trim().toLowerCase();
  return BY_NAME.get(bare);
}

/** Values nvidia-smi prints when it has no number; all of them mean "absent". */
const NOT_AVAILABLE = /^\[?(n\/a|not supported|unknown error|insufficient permissions|gpu requires reset|gpu is lost|not available|requested functionality has been deprecated)\]?$/i;

export function isNotAvailable(raw: string): boolean {
  return raw === '' || NOT_AVAILABLE.test(raw);
}

/** Leading number of a cell ("123.95 W", "143771 MiB", "16x", "-8 C"), or undefined. */
export function parseLeadingNumber(raw: string): number | undefined {
  const m = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?/.exec(raw);
  if (!m) return undefined;
  const v = Number(m[0]);
  return Number.isFinite(v) ? v : undefined;
}

/** Parse one cell per its field kind. Returns undefined for [N/A]-style values and garbage. */
export function parseCell(kind: FieldKind, raw: string): number | string | undefined {
  const v = raw.trim();
  if (isNotAvailable(v)) return undefined;
  switch (kind) {
    case 'string':
      return v;
    case 'number':
      return parseLeadingNumber(v);
    case 'hexmask': {
      if (/^0x[0-9a-f]+$/i.test(v)) {
        // Bitmasks fit in 53 bits in practice (highest NVML reason is 0x100); keep the low 48.
        return parseInt(v.length > 14 ? v.slice(-12) : v.slice(2), 16);
      }
      return parseLeadingNumber(v);
    }
  }
}
