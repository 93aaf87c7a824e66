/**
 * numpy-compatible statistics: mean, median, population std (ddof=0), and percentiles with
 * numpy's default 'linear' interpolation, so our numbers match bench_serving's up to floating-point rounding
 * (numpy sums pairwise; we sum in order).
 */

export interface Stats {
  count: number;
  mean: number | null;
  median: number | null;
  /** population standard deviation (numpy ddof=0) */
  std: number | null;
  min: number | null;
  max: number | null;
  /** keyed "p90", "p99", "p99.9" */
  p: Record<string, number | null>;
}

/** "p99", "p99.9", "p50": integral percentiles without a decimal point (vLLM's key style) */
export function percentileKey(pct: number): string {
  return `p${Number.isInteger(pct) ? pct.toFixed(0) : String(pct)}`;
}

/** numpy.percentile(values, pct) with method='linear' on an already-sorted array */
export function percentileSorted(sorted: ArrayLike<number>, pct: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  if (pct < 0 || pct > 100) throw new RangeError(`percentile must be in [0, 100] (got ${pct})`);
  const h = ((n - 1) * pct) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const frac = h - lo;
  const a = sorted[lo];
  const b = sorted[hi];
  // numpy's _lerp: a + (b - a) * t, switched to b - (b - a) * (1 - t) for t >= 0.5
  return frac >= 0.5 ? b - (b - a) * (1 - frac) : a + (b - a) * frac;
}

export function percentile(values: ArrayLike<number>, pct: number): number {
  return percentileSorted(sortedCopy(values), pct);
}

export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
}

/** population std (ddof=0), two-pass for accuracy */
export function std(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  const m = mean(values);
  let acc = 0;
  for (let i = 0; i < values.length; i++) {
    const d = values[i] - m;
    acc += d * d;
  }
  return Math.sqrt(acc / values.length);
}

export function sum(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s;
}

export function sortedCopy(values: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(values);
  out.sort();
  return out;
}

/**
 * Summary statistics of `values` (already in the unit you want to report).
 * `emptyAsZero` reproduces bench_serving's `np.mean(x or 0)`: an empty list is treated as [0]
 * (used for TTFT/TPOT/ITL); without it an empty list gives nulls (E2E's NaN, which JSON cannot hold).
 */
export function summarize(values: ArrayLike<number>, percentiles: readonly number[], emptyAsZero = false): Stats {
  return summarizeInPlace(Float64Array.from(values), percentiles, emptyAsZero);
}

/** `summarize` on an array it may sort in place (no copy: a column of millions of values) */
export function summarizeInPlace(values: Float64Array, percentiles: readonly number[], emptyAsZero = false): Stats {
  const count = values.length;
  if (count === 0 && !emptyAsZero) {
    const p: Record<string, number | null> = {};
    for (const pct of percentiles) p[percentileKey(pct)] = null;
    return { count, mean: null, median: null, std: null, min: null, max: null, p };
  }
  const sorted = count === 0 ? Float64Array.of(0) : values.sort();
  const p: Record<string, number | null> = {};
  for (const pct of percentiles) p[percentileKey(pct)] = percentileSorted(sorted, pct);
  return {
    count,
    mean: mean(sorted),
    median: percentileSorted(sorted, 50),
    std: std(sorted),
    min: sorted[0],
    max: sorted[sorted.length - 1],
    p,
  };
}
