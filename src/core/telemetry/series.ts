import type { GpuReading, GpuSample, ServerSample } from './schema';

/** The GPU values charts plot over time. */
export const GPU_METRICS = {
  util: { label: 'GPU utilization', unit: '%', read: (g: GpuReading) => g.utilGpuPct },
  memGiB: { label: 'GPU memory used', unit: 'GiB', read: (g: GpuReading) => (g.memUsedMiB === undefined ? undefined : g.memUsedMiB / 1024) },
  power: { label: 'Power', unit: 'W', read: (g: GpuReading) => g.powerW },
  temp: { label: 'Temperature', unit: '°C', read: (g: GpuReading) => g.tempC },
  smClock: { label: 'SM clock', unit: 'MHz', read: (g: GpuReading) => g.smClockMHz },
} as const;

export type GpuMetric = keyof typeof GPU_METRICS;

export interface GpuSeries {
  /** "node/index" */
  key: string;
  node: string;
  index: number;
  tMs: number[];
  values: Record<GpuMetric, number[]>;
}

const METRIC_KEYS = Object.keys(GPU_METRICS) as GpuMetric[];
const NODE_ORDER = new Intl.Collator('en', { numeric: true });

/**
 * Columnar per-GPU history for live charts: appending a tick is O(GPUs); NaN marks a missing
 * value so arrays stay aligned with time. Bounded: the oldest points go beyond `maxPoints`.
 */
export class GpuSeriesStore {
  private readonly byKey = new Map<string, GpuSeries>();
  private memTotalMiB = 0;

  constructor(private readonly maxPoints = 86_400) {}

  add(sample: GpuSample): void {
    for (const g of sample.gpus) {
      if (g.memTotalMiB !== undefined && g.memTotalMiB > this.memTotalMiB) this.memTotalMiB = g.memTotalMiB;
      const key = `${sample.node}/${g.index}`;
      let s = this.byKey.get(key);
      if (!s) {
        s = { key, node: sample.node, index: g.index, tMs: [], values: { util: [], memGiB: [], power: [], temp: [], smClock: [] } };
        this.byKey.set(key, s);
      }
      s.tMs.push(sample.tsMs);
      for (const m of METRIC_KEYS) s.values[m].push(GPU_METRICS[m].read(g) ?? NaN);
      // trim in chunks of 10 %: splicing on every tick would copy the whole history each second
      if (s.tMs.length > this.maxPoints * 1.1) {
        const drop = s.tMs.length - this.maxPoints;
        s.tMs.splice(0, drop);
        for (const m of METRIC_KEYS) s.values[m].splice(0, drop);
      }
    }
  }

  /** the largest GPU memory seen (GiB), for scales anchored to what a GPU holds; undefined before any */
  memTotalGiB(): number | undefined {
    return this.memTotalMiB > 0 ? this.memTotalMiB / 1024 : undefined;
  }

  /** GPUs ordered by node name (node2 before node10) then index */
  series(): GpuSeries[] {
    return [...this.byKey.values()].sort((a, b) => (a.node === b.node ? a.index - b.index : NODE_ORDER.compare(a.node, b.node)));
  }

  get size(): number {
    return this.byKey.size;
  }

  timeRange(): { startMs: number; endMs: number } | undefined {
    let lo = Infinity;
    let hi = -Infinity;
    for (const s of this.byKey.values()) {
      if (s.tMs.length === 0) continue;
      lo = Math.min(lo, s.tMs[0]);
      hi = Math.max(hi, s.tMs[s.tMs.length - 1]);
    }
    return lo <= hi ? { startMs: lo, endMs: hi } : undefined;
  }
}

/** Server samples per endpoint, in arrival order. */
export class ServerSeriesStore {
  private readonly byEndpoint = new Map<string, ServerSample[]>();

  constructor(private readonly maxPoints = 86_400) {}

  add(sample: ServerSample): void {
    let list = this.byEndpoint.get(sample.endpoint);
    if (!list) this.byEndpoint.set(sample.endpoint, (list = []));
    list.push(sample);
    if (list.length > this.maxPoints * 1.1) list.splice(0, list.length - this.maxPoints);
  }

  endpoints(): string[] {
    return [...this.byEndpoint.keys()].sort(NODE_ORDER.compare);
  }

  samples(endpoint: string): readonly ServerSample[] {
    return this.byEndpoint.get(endpoint) ?? [];
  }
}
