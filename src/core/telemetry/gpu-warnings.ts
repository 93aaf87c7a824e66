import type { GpuReading } from './schema';

export type GpuWarning = 'hot' | 'throttled' | 'ecc' | 'memory-held-after-stop';

/** H200/H100 slow down near 87–90 °C; warn a little before that. */
export const HOT_TEMP_C = 85;

// sw_power_cap (0x4) is left out on purpose: a fully loaded H200 sits at its 700 W cap (the
// load capture shows it), so flagging it would mark every busy GPU. These mean real slowdown.
const SLOWDOWN_BITS = 0x8 | 0x20 | 0x40 | 0x80;
const THERMAL_BITS = 0x20 | 0x40;

/** Warnings one reading shows on its own (memory held after a stop needs the deployment's state). */
export function readingWarnings(g: GpuReading, hotTempC = HOT_TEMP_C): GpuWarning[] {
  const out: GpuWarning[] = [];
  const mask = g.clockEventMask ?? 0;
  if ((g.tempC !== undefined && g.tempC >= hotTempC) || (g.memTempC !== undefined && g.memTempC >= hotTempC + 10) || (mask & THERMAL_BITS) !== 0) out.push('hot');
  if ((mask & SLOWDOWN_BITS) !== 0) out.push('throttled');
  if ((g.eccUncorrectedVolatile ?? 0) > 0) out.push('ecc');
  return out;
}
