/**
 * Chart downsampling. A 1-hour run at 1 Hz is 3,600 points per GPU; 96 GPUs would send 345k
 * points to the renderer on every update. These keep the shape with a few hundred per series.
 */
export interface XY {
  x: number[];
  y: number[];
}

function finitePairs(xs: ArrayLike<number>, ys: ArrayLike<number>): XY {
  const x: number[] = [];
  const y: number[] = [];
  const n = Math.min(xs.length, ys.length);
  for (let i = 0; i < n; i++) {
    if (Number.isFinite(ys[i]) && Number.isFinite(xs[i])) {
      x.push(xs[i]);
      y.push(ys[i]);
    }
  }
  return { x, y };
}

/**
 * Largest-Triangle-Three-Buckets (Steinarsson 2013): keeps first and last point and, per bucket,
 * the point forming the largest triangle with the previous pick and the next bucket's mean. Good
 * for line charts: peaks survive. Missing (NaN) values are dropped first.
 */
export function lttb(xs: ArrayLike<number>, ys: ArrayLike<number>, threshold: number): XY {
  const { x, y } = finitePairs(xs, ys);
  const n = x.length;
  if (threshold >= n || threshold < 3) return { x, y };
  const outX: number[] = [x[0]];
  const outY: number[] = [y[0]];
  const every = (n - 2) / (threshold - 2);
  let a = 0;
  for (let i = 0; i < threshold - 2; i++) {
    const avgStart = Math.floor((i + 1) * every) + 1;
    const avgEnd = Math.min(Math.floor((i + 2) * every) + 1, n);
    let avgX = 0;
    let avgY = 0;
    for (let j = avgStart; j < avgEnd; j++) {
      avgX += x[j];
      avgY += y[j];
    }
    const len = Math.max(1, avgEnd - avgStart);
    avgX /= len;
    avgY /= len;
    const rangeStart = Math.floor(i * every) + 1;
    const rangeEnd = Math.floor((i + 1) * every) + 1;
    let maxArea = -1;
    let pick = rangeStart;
    for (let j = rangeStart; j < rangeEnd; j++) {
      const area = Math.abs((x[a] - avgX) * (y[j] - y[a]) - (x[a] - x[j]) * (avgY - y[a]));
      if (area > maxArea) {
        maxArea = area;
        pick = j;
      }
    }
    outX.push(x[pick]);
    outY.push(y[pick]);
    a = pick;
  }
  outX.push(x[n - 1]);
  outY.push(y[n - 1]);
  return { x: outX, y: outY };
}

/**
 * Min/max per bucket of equal x width, both kept in time order: a spike or a dip is never
 * averaged away (what matters for "did a GPU drop to 0 %"). At most 2 × buckets + 2 points.
 */
export function minMaxBuckets(xs: ArrayLike<number>, ys: ArrayLike<number>, buckets: number): XY {
  const { x, y } = finitePairs(xs, ys);
  const n = x.length;
  if (n <= 2 * buckets || buckets < 1) return { x, y };
  const x0 = x[0];
  const width = (x[n - 1] - x0) / buckets || 1;
  const outX: number[] = [];
  const outY: number[] = [];
  let i = 0;
  for (let b = 0; b < buckets && i < n; b++) {
    const end = b === buckets - 1 ? Infinity : x0 + (b + 1) * width;
    let minI = -1;
    let maxI = -1;
    for (; i < n && x[i] < end; i++) {
      if (minI < 0 || y[i] < y[minI]) minI = i;
      if (maxI < 0 || y[i] > y[maxI]) maxI = i;
    }
    if (minI < 0) continue;
    const first = Math.min(minI, maxI);
    const second = Math.max(minI, maxI);
    outX.push(x[first]);
    outY.push(y[first]);
    if (second !== first) {
      outX.push(x[second]);
      outY.push(y[second]);
    }
  }
  // the line must start and end where the data does (a live chart's right edge is "now")
  if (outX[0] !== x[0]) {
    outX.unshift(x[0]);
    outY.unshift(y[0]);
  }
  if (outX[outX.length - 1] !== x[n - 1]) {
    outX.push(x[n - 1]);
    outY.push(y[n - 1]);
  }
  return { x: outX, y: outY };
}

/** Mean per bucket of equal width over [x0, x1]; NaN where a bucket is empty (heatmap cells). */
export function bucketMeans(xs: ArrayLike<number>, ys: ArrayLike<number>, x0: number, x1: number, buckets: number): number[] {
  const sums = new Array<number>(buckets).fill(0);
  const counts = new Array<number>(buckets).fill(0);
  const width = (x1 - x0) / buckets || 1;
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    if (!Number.isFinite(ys[i])) continue;
    const b = Math.min(buckets - 1, Math.max(0, Math.floor((xs[i] - x0) / width)));
    sums[b] += ys[i];
    counts[b]++;
  }
  return sums.map((s, b) => (counts[b] > 0 ? s / counts[b] : NaN));
}
