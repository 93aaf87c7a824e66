import type { MetricDef, MetricValue } from './types';

export function fmtNumber(x: number | null | undefined, digits: number): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmtDelta(d: number | null | undefined): string {
  if (d === null || d === undefined || !Number.isFinite(d)) return '';
  const pct = d * 100;
  const digits = Math.abs(pct) < 10 ? 1 : 0;
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(digits)}%`;
}

/** a change that helps (+ for throughput, − for latency) */
export function isImprovement(d: number, m: MetricDef): boolean {
  return m.better === 'higher' ? d > 0 : d < 0;
}

/** "12,345.6 ±0.8% (+5.1%)": mean, spread over repeats (stdev / mean), change vs baseline */
export function fmtCell(v: MetricValue | undefined, m: MetricDef, delta: number | null | undefined): string {
  if (!v || v.mean === null) return '—';
  let s = fmtNumber(v.mean, m.digits);
  if (v.std !== null && v.mean !== 0) s += ` ±${((100 * v.std) / Math.abs(v.mean)).toFixed(1)}%`;
  const d = fmtDelta(delta);
  if (d) s += ` (${d})`;
  return s;
}
