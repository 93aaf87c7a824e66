import { H200_FACTS, type GpuSnapshot } from './gpus';

interface Field {
  /** header name nvidia-smi prints */
  header: string;
  unit?: string;
  value(g: GpuSnapshot, count: number, now: Date): string;
}

const NA = '[N/A]';

export function smiTimestamp(now: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${now.getFullYear()}/${p(now.getMonth() + 1)}/${p(now.getDate())} ${p(now.getHours())}:${p(now.getMinutes())}:${p(now.getSeconds())}.${p(now.getMilliseconds(), 3)}`;
}

const f2 = (n: number): string => n.toFixed(2);

/** --query-gpu fields (canonical names; aliases below), formatted as driver 580 prints them */
const FIELDS: Record<string, Field> = {
  timestamp: { header: 'timestamp', value: (_g, _c, now) => smiTimestamp(now) },
  driver_version: { header: 'driver_version', value: () => H200_FACTS.driverVersion },
  count: { header: 'count', value: (_g, c) => String(c) },
  name: { header: 'name', value: () => H200_FACTS.name },
  serial: { header: 'serial', value: (g) => g.serial },
  uuid: { header: 'uuid', value: (g) => g.uuid },
  index: { header: 'index', value: (g) => String(g.index) },
  'pci.bus_id': { header: 'pci.bus_id', value: (g) => g.busId },
  'pci.domain': { header: 'pci.domain', value: () => '0x0000' },
  'pci.bus': { header: 'pci.bus', value: () => '0x00' },
  'pci.device': { header: 'pci.device', value: (g) => `0x${g.pciDevice}` },
  'pci.device_id': { header: 'pci.device_id', value: () => '0x233510DE' },
  'pcie.link.gen.current': { header: 'pcie.link.gen.current', value: () => String(H200_FACTS.pcieGen) },
  'pcie.link.gen.max': { header: 'pcie.link.gen.max', value: () => String(H200_FACTS.pcieGen) },
  'pcie.link.width.current': { header: 'pcie.link.width.current', value: () => String(H200_FACTS.pcieWidth) },
  'pcie.link.width.max': { header: 'pcie.link.width.max', value: () => String(H200_FACTS.pcieWidth) },
  'fan.speed': { header: 'fan.speed', unit: '%', value: () => NA },
  pstate: { header: 'pstate', value: () => 'P0' },
  persistence_mode: { header: 'persistence_mode', value: () => 'Enabled' },
  compute_mode: { header: 'compute_mode', value: () => 'Default' },
  'mig.mode.current': { header: 'mig.mode.current', value: () => 'Disabled' },
  'memory.total': { header: 'memory.total', unit: 'MiB', value: () => String(H200_FACTS.memoryTotalMiB) },
  'memory.reserved': { header: 'memory.reserved', unit: 'MiB', value: () => '616' },
  'memory.used': { header: 'memory.used', unit: 'MiB', value: (g) => String(g.memUsedMiB) },
  'memory.free': { header: 'memory.free', unit: 'MiB', value: (g) => String(g.memFreeMiB) },
  'utilization.gpu': { header: 'utilization.gpu', unit: '%', value: (g) => String(g.utilPct) },
  'utilization.memory': { header: 'utilization.memory', unit: '%', value: (g) => String(g.memUtilPct) },
  'temperature.gpu': { header: 'temperature.gpu', value: (g) => String(g.tempC) },
  'temperature.memory': { header: 'temperature.memory', value: (g) => String(g.memTempC) },
  'power.draw': { header: 'power.draw', unit: 'W', value: (g) => f2(g.powerW) },
  'power.draw.average': { header: 'power.draw.average', unit: 'W', value: (g) => f2(g.powerAvgW) },
  'power.draw.instant': { header: 'power.draw.instant', unit: 'W', value: (g) => f2(g.powerW) },
  'power.limit': { header: 'power.limit', unit: 'W', value: () => f2(H200_FACTS.powerLimitW) },
  'enforced.power.limit': { header: 'enforced.power.limit', unit: 'W', value: () => f2(H200_FACTS.powerLimitW) },
  'power.default_limit': { header: 'power.default_limit', unit: 'W', value: () => f2(H200_FACTS.powerLimitW) },
  'power.min_limit': { header: 'power.min_limit', unit: 'W', value: () => '200.00' },
  'power.max_limit': { header: 'power.max_limit', unit: 'W', value: () => f2(H200_FACTS.powerLimitW) },
  'clocks.current.graphics': { header: 'clocks.current.graphics', unit: 'MHz', value: (g) => String(g.smClockMHz) },
  'clocks.current.sm': { header: 'clocks.current.sm', unit: 'MHz', value: (g) => String(g.smClockMHz) },
  'clocks.current.memory': { header: 'clocks.current.memory', unit: 'MHz', value: () => String(H200_FACTS.memClockMHz) },
  'clocks.current.video': { header: 'clocks.current.video', unit: 'MHz', value: (g) => String(Math.round(g.smClockMHz * 0.9)) },
  'clocks.max.graphics': { header: 'clocks.max.graphics', unit: 'MHz', value: () => String(H200_FACTS.maxSmClockMHz) },
  'clocks.max.sm': { header: 'clocks.max.sm', unit: 'MHz', value: () => String(H200_FACTS.maxSmClockMHz) },
  'clocks.max.memory': { header: 'clocks.max.memory', unit: 'MHz', value: () => String(H200_FACTS.memClockMHz) },
  'clocks_event_reasons.active': { header: 'clocks_event_reasons.active', value: (g) => (g.swPowerCap ? '0x0000000000000004' : g.processes.length === 0 ? '0x0000000000000001' : '0x0000000000000000') },
  'clocks_event_reasons.gpu_idle': { header: 'clocks_event_reasons.gpu_idle', value: (g) => (g.processes.length === 0 ? 'Active' : 'Not Active') },
  'clocks_event_reasons.sw_power_cap': { header: 'clocks_event_reasons.sw_power_cap', value: (g) => (g.swPowerCap ? 'Active' : 'Not Active') },
  'clocks_event_reasons.hw_slowdown': { header: 'clocks_event_reasons.hw_slowdown', value: () => 'Not Active' },
  'clocks_event_reasons.hw_thermal_slowdown': { header: 'clocks_event_reasons.hw_thermal_slowdown', value: () => 'Not Active' },
  'clocks_event_reasons.hw_power_brake_slowdown': { header: 'clocks_event_reasons.hw_power_brake_slowdown', value: () => 'Not Active' },
  'clocks_event_reasons.sw_thermal_slowdown': { header: 'clocks_event_reasons.sw_thermal_slowdown', value: () => 'Not Active' },
  'clocks_event_reasons.sync_boost': { header: 'clocks_event_reasons.sync_boost', value: () => 'Not Active' },
  'ecc.mode.current': { header: 'ecc.mode.current', value: () => 'Enabled' },
  'ecc.errors.corrected.volatile.total': { header: 'ecc.errors.corrected.volatile.total', value: () => '0' },
  'ecc.errors.uncorrected.volatile.total': { header: 'ecc.errors.uncorrected.volatile.total', value: () => '0' },
  'retired_pages.pending': { header: 'retired_pages.pending', value: () => NA },
};

const ALIASES: Record<string, string> = {
  gpu_name: 'name',
  gpu_serial: 'serial',
  gpu_uuid: 'uuid',
  gpu_bus_id: 'pci.bus_id',
  'clocks.gr': 'clocks.current.graphics',
  'clocks.sm': 'clocks.current.sm',
  'clocks.mem': 'clocks.current.memory',
  'clocks.video': 'clocks.current.video',
  'clocks.max.gr': 'clocks.max.graphics',
  'clocks.max.mem': 'clocks.max.memory',
  'clocks.applications.graphics': 'clocks.max.graphics',
  'power.management': 'persistence_mode',
  'memory.reserved': 'memory.reserved',
};

export class SmiFieldError extends Error {}

function resolveField(name: string): Field {
  let key = name.trim();
  if (ALIASES[key]) key = ALIASES[key];
  // this driver answers clocks_throttle_reasons.* under the newer clocks_event_reasons.* names
  if (key.startsWith('clocks_throttle_reasons.')) key = 'clocks_event_reasons.' + key.slice('clocks_throttle_reasons.'.length);
  const f = FIELDS[key];
  if (!f) throw new SmiFieldError(`Field "${name}" is not a valid field to query.`);
  return f;
}

export interface CsvFormat {
  header: boolean;
  units: boolean;
}

/** `--format=csv[,noheader][,nounits]` */
export function parseFormat(spec: string): CsvFormat {
  const parts = spec.split(',').map((s) => s.trim());
  if (parts[0] !== 'csv') throw new SmiFieldError(`"${spec}" is not a valid format.`);
  return { header: !parts.includes('noheader'), units: !parts.includes('nounits') };
}

export function queryHeader(fields: string[]): string {
  return fields
    .map((n) => {
      const f = resolveField(n);
      return f.unit ? `${f.header} [${f.unit}]` : f.header;
    })
    .join(', ');
}

export function queryRows(fields: string[], gpus: GpuSnapshot[], fmt: CsvFormat, now: Date): string[] {
  const resolved = fields.map(resolveField);
  return gpus.map((g) =>
    resolved
      .map((f) => {
        const v = f.value(g, gpus.length, now);
        return fmt.units && f.unit && v !== NA ? `${v} ${f.unit}` : v;
      })
      .join(', '),
  );
}

/** validates the field list up front, as nvidia-smi does before printing anything */
export function checkFields(fields: string[]): void {
  for (const f of fields) resolveField(f);
}

interface AppField {
  header: string;
  unit?: string;
  value(g: GpuSnapshot, p: { pid: number; name: string; usedMiB: number }, now: Date): string;
}

const APP_FIELDS: Record<string, AppField> = {
  timestamp: { header: 'timestamp', value: (_g, _p, now) => smiTimestamp(now) },
  gpu_name: { header: 'gpu_name', value: () => H200_FACTS.name },
  gpu_bus_id: { header: 'gpu_bus_id', value: (g) => g.busId },
  gpu_serial: { header: 'gpu_serial', value: (g) => g.serial },
  gpu_uuid: { header: 'gpu_uuid', value: (g) => g.uuid },
  pid: { header: 'pid', value: (_g, p) => String(p.pid) },
  process_name: { header: 'process_name', value: (_g, p) => p.name },
  name: { header: 'process_name', value: (_g, p) => p.name },
  used_gpu_memory: { header: 'used_gpu_memory', unit: 'MiB', value: (_g, p) => String(p.usedMiB) },
  used_memory: { header: 'used_gpu_memory', unit: 'MiB', value: (_g, p) => String(p.usedMiB) },
};

export function appsCsv(fields: string[], gpus: GpuSnapshot[], fmt: CsvFormat, now: Date): string[] {
  const resolved = fields.map((n) => {
    const f = APP_FIELDS[n.trim()];
    if (!f) throw new SmiFieldError(`Field "${n}" is not a valid field to query.`);
    return f;
  });
  const lines: string[] = [];
  if (fmt.header) lines.push(resolved.map((f) => (f.unit ? `${f.header} [${f.unit}]` : f.header)).join(', '));
  for (const g of gpus) {
    for (const p of g.processes) {
      lines.push(
        resolved
          .map((f) => {
            const v = f.value(g, p, now);
            return fmt.units && f.unit ? `${v} ${f.unit}` : v;
          })
          .join(', '),
      );
    }
  }
  return lines;
}
