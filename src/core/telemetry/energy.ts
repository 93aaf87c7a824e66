import type { GpuSample, PhaseMarker, TelemetryRecord } from './schema';

export interface EnergyOptions {
  /** integrate only inside [startMs, endMs] (interpolating power at the edges) */
  startMs?: number;
  endMs?: number;
  /** an interval between two samples longer than this is a gap (collector down), not integrated */
  maxGapSec?: number;
}

export interface EnergyResult {
  joules: number;
  /** GPUs that had at least one power reading */
  gpuCount: number;
  /** per "node/index" */
  perGpuJoules: Map<string, number>;
  /** wall seconds of the window */
  durationSec: number;
  /** mean over GPUs of the seconds covered by samples (≤ durationSec; less means gaps) */
  coveredSec: number;
  /** average total power over the covered time */
  avgPowerW: number;
}

/**
 * Energy drawn by the GPUs: per GPU, the trapezoid rule over its power samples, clipped to the
 * window. nvidia-smi `power.draw` is a 1-s averaged reading on recent drivers, so sampling at
 * ≤ 1 Hz integrates well; gaps longer than maxGapSec are left out and show as coveredSec < durationSec.
 */
export function gpuEnergy(samples: readonly GpuSample[], options: EnergyOptions = {}): EnergyResult {
  const series = new Map<string, { t: number[]; w: number[] }>();
  for (const s of samples) {
    for (const g of s.gpus) {
      if (g.powerW === undefined) continue;
      const key = `${s.node}/${g.index}`;
      let e = series.get(key);
      if (!e) series.set(key, (e = { t: [], w: [] }));
      e.t.push(s.tsMs);
      e.w.push(g.powerW);
    }
  }
  const maxGapMs = (options.maxGapSec ?? 10) * 1000;
  let minT = Infinity;
  let maxT = -Infinity;
  const perGpuJoules = new Map<string, number>();
  let coveredMsTotal = 0;
  for (const [key, { t, w }] of series) {
    const order = t.map((_, i) => i).sort((a, b) => t[a] - t[b]);
    const ts = order.map((i) => t[i]);
    const ws = order.map((i) => w[i]);
    const lo = options.startMs ?? ts[0];
    const hi = options.endMs ?? ts[ts.length - 1];
    let joules = 0;
    let coveredMs = 0;
    for (let i = 1; i < ts.length; i++) {
      const t0 = ts[i - 1];
      const t1 = ts[i];
      if (t1 <= t0 || t1 - t0 > maxGapMs) continue;
      const a = Math.max(t0, lo);
      const b = Math.min(t1, hi);
      if (b <= a) continue;
      const at = (x: number) => ws[i - 1] + ((ws[i] - ws[i - 1]) * (x - t0)) / (t1 - t0);
      joules += ((at(a) + at(b)) / 2) * ((b - a) / 1000);
      coveredMs += b - a;
    }
    perGpuJoules.set(key, joules);
    coveredMsTotal += coveredMs;
    minT = Math.min(minT, lo);
    maxT = Math.max(maxT, hi);
  }
  const joules = [...perGpuJoules.values()].reduce((a, b) => a + b, 0);
  const gpuCount = perGpuJoules.size;
  const durationSec = gpuCount > 0 ? Math.max(0, (maxT - minT) / 1000) : 0;
  const coveredSec = gpuCount > 0 ? coveredMsTotal / gpuCount / 1000 : 0;
  return { joules, gpuCount, perGpuJoules, durationSec, coveredSec, avgPowerW: coveredSec > 0 ? joules / coveredSec : 0 };
}

export interface RunEfficiency {
  joules: number;
  /** J per output token (null without tokens) */
  joulesPerOutputToken: number | null;
  /** kWh per 1M output tokens, the figure people compare */
  kWhPer1MOutputTokens: number | null;
  /** $ per 1M output tokens at the given $/GPU-hour (null without a price or tokens) */
  usdPer1MOutputTokens: number | null;
  gpuCount: number;
  durationSec: number;
  coveredSec: number;
  avgPowerW: number;
}

/**
 * Energy per output token (power integrated over the window ÷ output tokens) and cost per 1M
 * output tokens (GPUs × hours × $/GPU-hour ÷ tokens × 1e6). `gpuCount` defaults to the GPUs seen
 * in the samples — pass the deployment's GPU count when idle GPUs of the node are not part of it.
 */
export function runEfficiency(
  samples: readonly GpuSample[],
  o: { outputTokens: number; usdPerGpuHour?: number; gpuCount?: number; startMs?: number; endMs?: number; maxGapSec?: number },
): RunEfficiency {
  const e = gpuEnergy(samples, o);
  const tokens = o.outputTokens > 0 ? o.outputTokens : 0;
  const durationSec = o.startMs !== undefined && o.endMs !== undefined ? (o.endMs - o.startMs) / 1000 : e.durationSec;
  const gpus = o.gpuCount ?? e.gpuCount;
  return {
    joules: e.joules,
    joulesPerOutputToken: tokens > 0 ? e.joules / tokens : null,
    kWhPer1MOutputTokens: tokens > 0 ? (e.joules / 3.6e6 / tokens) * 1e6 : null,
    usdPer1MOutputTokens: tokens > 0 && o.usdPerGpuHour !== undefined ? ((gpus * (durationSec / 3600) * o.usdPerGpuHour) / tokens) * 1e6 : null,
    gpuCount: gpus,
    durationSec,
    coveredSec: e.coveredSec,
    avgPowerW: e.avgPowerW,
  };
}

/**
 * Energy per output token, the one definition the bench cell's telemetry table and the report
 * both use: GPU energy over a step's *measured window* ÷ the output tokens of the measured requests.
 * The measured window runs from the first planned dispatch after warm-up to the last response:
 * the window bench_serving's duration (and so every throughput) is computed over. Warm-up, the
 * pause while results are written, and the idle time before the first and after the last step
 * are not part of it. Only samples inside the window count and each edge holds the power of the
 * nearest sample inside: a sample just outside may live in the neighbouring step's run directory,
 * so the report (which reads one step's telemetry.jsonl) and the live cell (which holds every
 * sample) integrate exactly the same points.
 */
export function windowEfficiency(
  samples: readonly GpuSample[],
  window: { startMs: number; endMs: number },
  o: { outputTokens: number; usdPerGpuHour?: number; gpuCount?: number; maxGapSec?: number },
): RunEfficiency {
  const { startMs, endMs } = window;
  const maxGapMs = (o.maxGapSec ?? 10) * 1000;
  const inside = new Map<string, { node: string; index: number; t: number[]; w: number[] }>();
  for (const s of samples) {
    if (s.tsMs < startMs || s.tsMs > endMs) continue;
    for (const g of s.gpus) {
      if (g.powerW === undefined || !Number.isFinite(g.powerW)) continue;
      const key = `${s.node}/${g.index}`;
      let e = inside.get(key);
      if (!e) inside.set(key, (e = { node: s.node, index: g.index, t: [], w: [] }));
      e.t.push(s.tsMs);
      e.w.push(g.powerW);
    }
  }
  const held: GpuSample[] = [];
  for (const { node, index, t, w } of inside.values()) {
    const order = t.map((_, i) => i).sort((a, b) => t[a] - t[b]);
    const first = order[0];
    const last = order[order.length - 1];
    const push = (tsMs: number, powerW: number): void => void held.push({ kind: 'gpu', tsMs, node, gpus: [{ index, powerW }] });
    if (t[first] > startMs && t[first] - startMs <= maxGapMs) push(startMs, w[first]);
    for (const i of order) push(t[i], w[i]);
    if (t[last] < endMs && endMs - t[last] <= maxGapMs) push(endMs, w[last]);
  }
  return runEfficiency(held, { ...o, startMs, endMs });
}

/** Joules and tokens of several measured windows as one figure (a sweep's "all steps" row). */
export function combineEfficiency(parts: readonly RunEfficiency[], outputTokens: number, usdPerGpuHour?: number): RunEfficiency {
  const joules = parts.reduce((a, p) => a + p.joules, 0);
  const durationSec = parts.reduce((a, p) => a + p.durationSec, 0);
  const coveredSec = parts.reduce((a, p) => a + p.coveredSec, 0);
  const gpus = parts.reduce((a, p) => Math.max(a, p.gpuCount), 0);
  const tokens = outputTokens > 0 ? outputTokens : 0;
  return {
    joules,
    joulesPerOutputToken: tokens > 0 ? joules / tokens : null,
    kWhPer1MOutputTokens: tokens > 0 ? (joules / 3.6e6 / tokens) * 1e6 : null,
    usdPer1MOutputTokens: tokens > 0 && usdPerGpuHour !== undefined ? ((gpus * (durationSec / 3600) * usdPerGpuHour) / tokens) * 1e6 : null,
    gpuCount: gpus,
    durationSec,
    coveredSec,
    avgPowerW: coveredSec > 0 ? joules / coveredSec : 0,
  };
}

/** [start, end] of a phase from its markers (the first start and the matching end), or undefined. */
export function phaseWindow(records: readonly TelemetryRecord[], phase: PhaseMarker['phase'], step?: number): { startMs: number; endMs: number } | undefined {
  let startMs: number | undefined;
  for (const r of records) {
    if (r.kind !== 'phase' || r.phase !== phase || (step !== undefined && r.step !== step)) continue;
    if (r.edge === 'start' && startMs === undefined) startMs = r.tsMs;
    else if (r.edge === 'end' && startMs !== undefined) return { startMs, endMs: r.tsMs };
  }
  return undefined;
}
