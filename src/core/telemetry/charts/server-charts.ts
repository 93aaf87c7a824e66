import type { PlotBlock } from '../../output/doc';
import { minMaxBuckets } from '../downsample';
import type { ServerSample } from '../schema';
import type { ServerSeriesStore } from '../series';
import { phaseBands } from './phases';
import type { TimeChartOptions } from './gpu-charts';

type Pick = (s: ServerSample) => number | null | undefined;

function line(samples: readonly ServerSample[], pick: Pick, t0: number, maxPoints: number) {
  const xs = samples.map((s) => (s.tsMs - t0) / 1000);
  const ys = samples.map((s) => pick(s) ?? NaN);
  return minMaxBuckets(xs, ys, Math.max(1, Math.floor((maxPoints - 2) / 2)));
}

function firstTs(store: ServerSeriesStore): { start: number; end: number } | undefined {
  let start = Infinity;
  let end = -Infinity;
  for (const ep of store.endpoints()) {
    const s = store.samples(ep);
    if (s.length === 0) continue;
    start = Math.min(start, s[0].tsMs);
    end = Math.max(end, s[s.length - 1].tsMs);
  }
  return start <= end ? { start, end } : undefined;
}

/**
 * KV-cache usage, running and queued requests per endpoint, and PD queues when present: the
 * "is the server saturated" view next to throughput.
 */
export function serverQueuesPlot(store: ServerSeriesStore, id: string, o: TimeChartOptions = {}): PlotBlock {
  const range = firstTs(store);
  const t0 = o.t0Ms ?? range?.start ?? 0;
  const maxPoints = o.maxPointsPerSeries ?? 600;
  const data: Record<string, unknown>[] = [];
  let hasPd = false;
  for (const ep of store.endpoints()) {
    const samples = store.samples(ep);
    const add = (name: string, pick: Pick, yaxis: string, dash?: string) => {
      const { x, y } = line(samples, pick, t0, maxPoints);
      if (y.length === 0) return;
      data.push({ type: 'scattergl', mode: 'lines', name: `${ep} ${name}`, legendgroup: ep, x, y, yaxis, line: { width: 1.3, dash } });
    };
    add('KV usage %', (s) => (s.tokenUsage === undefined ? undefined : s.tokenUsage * 100), 'y');
    add('running', (s) => s.runningReqs, 'y2');
    add('queued', (s) => s.queuedReqs, 'y2', 'dot');
    if (samples.some((s) => s.pd)) {
      hasPd = true;
      add('prefill bootstrap queue', (s) => s.pd?.prefillPreallocQueueReqs, 'y3');
      add('prefill inflight queue', (s) => s.pd?.prefillInflightQueueReqs, 'y3', 'dot');
      add('decode prealloc queue', (s) => s.pd?.decodePreallocQueueReqs, 'y3', 'dash');
      add('decode transfer queue', (s) => s.pd?.decodeTransferQueueReqs, 'y3', 'dashdot');
    }
  }
  const layout: Record<string, unknown> = hasPd
    ? {
        xaxis: { title: { text: 'elapsed (s)' } },
        yaxis: { title: { text: 'KV usage %' }, range: [0, 100], domain: [0.68, 1] },
        yaxis2: { title: { text: 'requests' }, rangemode: 'tozero', domain: [0.35, 0.65], anchor: 'x' },
        yaxis3: { title: { text: 'PD queues' }, rangemode: 'tozero', domain: [0, 0.32], anchor: 'x' },
      }
    : {
        xaxis: { title: { text: 'elapsed (s)' } },
        yaxis: { title: { text: 'KV usage %' }, range: [0, 100], domain: [0.52, 1] },
        yaxis2: { title: { text: 'requests' }, rangemode: 'tozero', domain: [0, 0.48], anchor: 'x' },
      };
  Object.assign(layout, { legend: { orientation: 'h' }, margin: { t: 24, r: 8 } });
  if (o.phases && o.phases.length > 0) Object.assign(layout, phaseBands(o.phases, t0, range?.end));
  return { type: 'plot', id, title: 'KV cache and queues', data, layout, heightPx: o.heightPx ?? (hasPd ? 520 : 380) };
}

/** Server-side throughput and latency percentiles over time (from /metrics, not the client). */
export function serverLatencyPlot(store: ServerSeriesStore, id: string, o: TimeChartOptions = {}): PlotBlock {
  const range = firstTs(store);
  const t0 = o.t0Ms ?? range?.start ?? 0;
  const maxPoints = o.maxPointsPerSeries ?? 600;
  const data: Record<string, unknown>[] = [];
  for (const ep of store.endpoints()) {
    const samples = store.samples(ep);
    const add = (name: string, pick: Pick, yaxis: string, dash?: string) => {
      const { x, y } = line(samples, pick, t0, maxPoints);
      if (y.length > 0) data.push({ type: 'scattergl', mode: 'lines', name: `${ep} ${name}`, legendgroup: ep, x, y, yaxis, line: { width: 1.3, dash } });
    };
    add('output tok/s', (s) => s.genTokensPerSec ?? s.genThroughputTokPerSec, 'y');
    add('TTFT p50', (s) => s.ttftMs?.p50, 'y2');
    add('TTFT p99', (s) => s.ttftMs?.p99, 'y2', 'dot');
    add('ITL p50', (s) => s.itlMs?.p50, 'y3');
    add('ITL p99', (s) => s.itlMs?.p99, 'y3', 'dot');
  }
  const layout: Record<string, unknown> = {
    xaxis: { title: { text: 'elapsed (s)' } },
    yaxis: { title: { text: 'tok/s' }, rangemode: 'tozero', domain: [0.68, 1] },
    yaxis2: { title: { text: 'TTFT ms' }, rangemode: 'tozero', domain: [0.35, 0.65], anchor: 'x' },
    yaxis3: { title: { text: 'ITL ms' }, rangemode: 'tozero', domain: [0, 0.32], anchor: 'x' },
    legend: { orientation: 'h' },
    margin: { t: 24, r: 8 },
  };
  if (o.phases && o.phases.length > 0) Object.assign(layout, phaseBands(o.phases, t0, range?.end));
  return { type: 'plot', id, title: 'Server throughput and latency (from /metrics)', data, layout, heightPx: o.heightPx ?? 520 };
}
