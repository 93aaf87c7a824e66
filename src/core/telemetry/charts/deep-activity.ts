import type { PlotBlock } from '../../output/doc';
import { DeepTelemetryState } from '../deep/state';
import { line, withPhases, type DeepChartOptions } from './deep-common';

/** mean over GPUs per time bucket of equal width (GPUs tick at slightly different times) */
function meanAcross(series: { tMs: readonly number[]; ys: readonly number[] }[], t0: number, bucketSec: number): { tMs: number[]; ys: number[] } {
  const sums = new Map<number, { s: number; n: number }>();
  for (const { tMs, ys } of series) {
    tMs.forEach((t, i) => {
      if (!Number.isFinite(ys[i])) return;
      const b = Math.floor((t - t0) / 1000 / bucketSec);
      const e = sums.get(b) ?? { s: 0, n: 0 };
      e.s += ys[i];
      e.n++;
      sums.set(b, e);
    });
  }
  const keys = [...sums.keys()].sort((a, b) => a - b);
  return { tMs: keys.map((b) => t0 + (b + 0.5) * bucketSec * 1000), ys: keys.map((b) => (sums.get(b)?.s ?? 0) / (sums.get(b)?.n ?? 1)) };
}

/**
 * SM active and tensor-core active (mean over GPUs, %) against generation throughput (sum of
 * every decode rank's "gen throughput" from the scheduler log, tok/s): when throughput stalls
 * while SMs stay busy the GPUs are waiting on communication, not computing.
 */
export function activityVsThroughputPlot(state: DeepTelemetryState, id: string, o: DeepChartOptions & { bucketSec?: number } = {}): PlotBlock | undefined {
  const gpus = [...state.gpus.values()];
  const hasActivity = gpus.some((c) => c.values.smActivePct.some(Number.isFinite));
  const decodeRanks = [...state.ranks].filter(([k]) => state.rankEvent.get(k) === 'decode').map(([, c]) => c);
  if (!hasActivity) return undefined;
  const range = state.timeRange();
  const t0 = o.t0Ms ?? range?.startMs ?? 0;
  const bucketSec = o.bucketSec ?? 1;
  const maxPoints = o.maxPointsPerSeries ?? 600;
  const data: Record<string, unknown>[] = [];
  const sm = meanAcross(gpus.map((c) => ({ tMs: c.tMs, ys: c.values.smActivePct })), t0, bucketSec);
  const tensor = meanAcross(gpus.map((c) => ({ tMs: c.tMs, ys: c.values.tensorActivePct })), t0, bucketSec);
  const smLine = line(sm.tMs, sm.ys, t0, maxPoints);
  const tensorLine = line(tensor.tMs, tensor.ys, t0, maxPoints);
  data.push({ type: 'scattergl', mode: 'lines', name: 'SM active % (mean)', x: smLine.x, y: smLine.y, yaxis: 'y', line: { width: 1.4 } });
  data.push({ type: 'scattergl', mode: 'lines', name: 'tensor active % (mean)', x: tensorLine.x, y: tensorLine.y, yaxis: 'y', line: { width: 1.4, dash: 'dot' } });
  if (decodeRanks.length > 0) {
    // per-rank throughputs are sampled at each rank's own log interval: sum the per-bucket means
    const perRank = decodeRanks.map((c) => meanAcross([{ tMs: c.tMs, ys: c.values.genThroughputTokPerSec }], t0, bucketSec));
    const total = new Map<number, number>();
    for (const r of perRank) r.tMs.forEach((t, i) => total.set(t, (total.get(t) ?? 0) + r.ys[i]));
    const ts = [...total.keys()].sort((a, b) => a - b);
    const thr = line(ts, ts.map((t) => total.get(t) ?? NaN), t0, maxPoints);
    data.push({ type: 'scattergl', mode: 'lines', name: 'gen throughput tok/s (all ranks)', x: thr.x, y: thr.y, yaxis: 'y2', line: { width: 1.4, color: '#ef553b' } });
  }
  const layout = {
    xaxis: { title: { text: 'elapsed (s)' } },
    yaxis: { title: { text: 'activity %' }, range: [0, 100] },
    yaxis2: { title: { text: 'tok/s' }, overlaying: 'y', side: 'right', rangemode: 'tozero' },
    legend: { orientation: 'h' },
    margin: { t: 24, r: 48 },
  };
  return { type: 'plot', id, title: 'SM / tensor activity vs generation throughput', data, layout: withPhases(layout, o.phases, t0, range?.endMs), heightPx: o.heightPx ?? 380 };
}
