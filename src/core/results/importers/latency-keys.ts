import type { StatsInput } from './build';
import { isObject } from './build';

/**
 * bench_serving / vllm bench serve flatten latency statistics into keys such as
 * `mean_ttft_ms`, `median_ttft_ms`, `std_ttft_ms`, `p99_ttft_ms`, `p99.9_ttft_ms`. Collect the
 * ones present for one metric name; percentiles are whatever the tool wrote.
 */
export function flatLatency(o: Record<string, unknown>, metric: string): { stats: StatsInput; percentiles: number[] } | undefined {
  const num = (k: string): number | null | undefined => {
    const v = o[k];
    return typeof v === 'number' ? v : v === null ? null : undefined;
  };
  const suffix = `_${metric}_ms`;
  const p: Record<string, number | null> = {};
  const percentiles: number[] = [];
  for (const key of Object.keys(o)) {
    const m = /^p(\d+(?:\.\d+)?)_(.+)$/.exec(key);
    if (!m || `_${m[2]}` !== suffix) continue;
    const pct = Number(m[1]);
    const v = num(key);
    if (!Number.isFinite(pct) || v === undefined) continue;
    p[`p${m[1]}`] = v;
    percentiles.push(pct);
  }
  const mean = num(`mean${suffix}`);
  const median = num(`median${suffix}`);
  const std = num(`std${suffix}`);
  const max = num(`max${suffix}`);
  if (mean === undefined && median === undefined && percentiles.length === 0) return undefined;
  return { stats: { mean, median, std, max, p }, percentiles: percentiles.sort((a, b) => a - b) };
}

export function isPlainObject(x: unknown): x is Record<string, unknown> {
  return isObject(x);
}
