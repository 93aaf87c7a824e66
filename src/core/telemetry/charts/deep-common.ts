import { bucketMeans, minMaxBuckets } from '../downsample';
import type { PhaseMarker } from '../schema';
import { phaseBands } from './phases';

/** Options shared by the deep-telemetry charts (same meaning as the GPU charts' TimeChartOptions). */
export interface DeepChartOptions {
  /** elapsed seconds from here (run start); default the first sample */
  t0Ms?: number;
  phases?: readonly PhaseMarker[];
  maxPointsPerSeries?: number;
  timeBuckets?: number;
  heightPx?: number;
  /** shown in titles next to network charts: the all-to-all spans this many GPUs */
  epSize?: number;
}

export const elapsedSec = (tMs: readonly number[], t0Ms: number): number[] => tMs.map((t) => (t - t0Ms) / 1000);

export function line(tMs: readonly number[], ys: readonly number[], t0Ms: number, maxPoints: number): { x: number[]; y: number[] } {
  return minMaxBuckets(elapsedSec(tMs, t0Ms), ys, Math.max(1, Math.floor((maxPoints - 2) / 2)));
}

/** rows × time buckets of means; null where empty (JSON has no NaN) */
export function heatRows(rows: readonly { tMs: readonly number[]; ys: readonly number[] }[], t0Ms: number, endMs: number, buckets: number): { x: number[]; z: (number | null)[][] } {
  const x1 = Math.max(1e-3, (endMs - t0Ms) / 1000);
  const n = Math.max(1, Math.min(buckets, Math.ceil(x1) + 1));
  const width = x1 / n;
  const x = Array.from({ length: n }, (_, b) => (b + 0.5) * width);
  const z = rows.map((r) => bucketMeans(elapsedSec(r.tMs, t0Ms), r.ys, 0, x1, n).map((v) => (Number.isFinite(v) ? Math.round(v * 100) / 100 : null)));
  return { x, z };
}

export function withPhases(layout: Record<string, unknown>, phases: readonly PhaseMarker[] | undefined, t0Ms: number, endMs: number | undefined): Record<string, unknown> {
  if (!phases || phases.length === 0) return layout;
  return { ...layout, ...phaseBands(phases, t0Ms, endMs) };
}

export function sumColumns(a: readonly number[], b: readonly number[]): number[] {
  return a.map((v, i) => (Number.isFinite(v) || Number.isFinite(b[i]) ? (Number.isFinite(v) ? v : 0) + (Number.isFinite(b[i]) ? b[i] : 0) : NaN));
}
