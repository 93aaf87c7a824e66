/**
 * NVML clock-event ("throttle") reason bits, as in nvml.h `nvmlClocksEventReason*`
 * (formerly `nvmlClocksThrottleReason*`). The H200 capture under a 700 W matmul shows 0x4
 * (SW power cap) next to `clocks_event_reasons.sw_power_cap = Active`.
 */
export const CLOCK_EVENT_REASONS = [
  { bit: 0x1, name: 'gpu_idle', throttling: false },
  { bit: 0x2, name: 'applications_clocks_setting', throttling: false },
  { bit: 0x4, name: 'sw_power_cap', throttling: true },
  { bit: 0x8, name: 'hw_slowdown', throttling: true },
  { bit: 0x10, name: 'sync_boost', throttling: false },
  { bit: 0x20, name: 'sw_thermal_slowdown', throttling: true },
  { bit: 0x40, name: 'hw_thermal_slowdown', throttling: true },
  { bit: 0x80, name: 'hw_power_brake_slowdown', throttling: true },
  { bit: 0x100, name: 'display_clock_setting', throttling: false },
] as const;

export type ClockEventReason = (typeof CLOCK_EVENT_REASONS)[number]['name'];

export function clockEventReasons(mask: number): ClockEventReason[] {
  return CLOCK_EVENT_REASONS.filter((r) => (mask & r.bit) !== 0).map((r) => r.name);
}

/** True when clocks are held down by power or heat (idle and app-clock settings do not count). */
export function isThrottled(mask: number | undefined): boolean {
  if (mask === undefined) return false;
  return CLOCK_EVENT_REASONS.some((r) => r.throttling && (mask & r.bit) !== 0);
}

/** True when the reason is thermal (the tree shows these as "hot"). */
export function isThermalThrottled(mask: number | undefined): boolean {
  return mask !== undefined && (mask & (0x20 | 0x40)) !== 0;
}
