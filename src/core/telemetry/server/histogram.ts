/** Cumulative histogram buckets: `le` upper bounds ascending (last is +Inf) and cumulative counts. */
export interface CumulativeBuckets {
  le: number[];
  cum: number[];
}

/**
 * Prometheus `histogram_quantile` (promql/quantile.go, `bucketQuantile`): rank = q × total;
 * the first bucket whose cumulative count reaches the rank is interpolated linearly between its
 * lower and upper bound; the lowest bucket's lower bound is 0 (unless its upper bound is <= 0);
 * a rank that lands in the +Inf bucket returns the highest finite bound. Non-monotonic counts
 * (a scrape racing an observation) are forced monotonic, as Prometheus does. Returns null when
 * there are no observations or no +Inf bucket.
 */
export function histogramQuantile(q: number, buckets: CumulativeBuckets): number | null {
  const { le } = buckets;
  const n = le.length;
  if (n < 2 || le[n - 1] !== Infinity) return null;
  const cum = monotonic(buckets.cum);
  const total = cum[n - 1];
  if (!(total > 0)) return null;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const rank = q * total;
  let b = 0;
  // search excludes the +Inf bucket, like sort.Search(len(buckets)-1, ...)
  while (b < n - 1 && cum[b] < rank) b++;
  if (b === n - 1) return le[n - 2];
  if (b === 0 && le[0] <= 0) return le[0];
  const lower = b === 0 ? 0 : le[b - 1];
  const below = b === 0 ? 0 : cum[b - 1];
  const inBucket = cum[b] - below;
  if (inBucket <= 0) return le[b];
  return lower + (le[b] - lower) * ((rank - below) / inBucket);
}

function monotonic(cum: number[]): number[] {
  let max = -Infinity;
  let changed = false;
  const out = cum.slice();
  for (let i = 0; i < out.length; i++) {
    if (out[i] < max) {
      out[i] = max;
      changed = true;
    } else {
      max = out[i];
    }
  }
  return changed ? out : cum;
}

/**
 * Buckets observed between two scrapes of one series (b - a). A counter that went down means the
 * server restarted: the later scrape alone is the delta (Prometheus' reset rule).
 */
export function bucketDelta(before: CumulativeBuckets | undefined, after: CumulativeBuckets): CumulativeBuckets {
  if (!before || before.le.length !== after.le.length) return after;
  const total0 = before.cum[before.cum.length - 1];
  const total1 = after.cum[after.cum.length - 1];
  if (total1 < total0) return after;
  return { le: after.le, cum: after.cum.map((c, i) => Math.max(0, c - before.cum[i])) };
}

/** Sum of several series' buckets with the same bounds (e.g. one per DP rank). */
export function sumBuckets(parts: readonly CumulativeBuckets[]): CumulativeBuckets | undefined {
  if (parts.length === 0) return undefined;
  const first = parts[0];
  const cum = first.cum.slice();
  for (let p = 1; p < parts.length; p++) {
    const part = parts[p];
    if (part.le.length !== first.le.length) continue;
    for (let i = 0; i < cum.length; i++) cum[i] += part.cum[i];
  }
  return { le: first.le, cum };
}
