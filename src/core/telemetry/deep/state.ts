import type { GpuDeepReading, GpuDeepSample, NicSample, ProfileSummary, SchedLogSample, TelemetryRecord } from '../schema';
import { rankLabel } from './sglang-log/parse';

const ORDER = new Intl.Collator('en', { numeric: true });

/** Columnar time series: one time axis, named value columns, NaN where a value is missing. */
export class Columns<K extends string> {
  readonly tMs: number[] = [];
  readonly values: Record<K, number[]>;

  constructor(
    readonly key: string,
    private readonly names: readonly K[],
    private readonly maxPoints = 86_400,
  ) {
    this.values = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  }

  add(tMs: number, row: Partial<Record<K, number | undefined>>): void {
    this.tMs.push(tMs);
    for (const n of this.names) this.values[n].push(row[n] ?? NaN);
    if (this.tMs.length > this.maxPoints * 1.1) {
      const drop = this.tMs.length - this.maxPoints;
      this.tMs.splice(0, drop);
      for (const n of this.names) this.values[n].splice(0, drop);
    }
  }

  get length(): number {
    return this.tMs.length;
  }
}

export const GPU_DEEP_METRICS = ['smActivePct', 'smOccupancyPct', 'tensorActivePct', 'dramActivePct', 'pcieTxGBps', 'pcieRxGBps', 'nvlinkTxGBps', 'nvlinkRxGBps'] as const;
export type GpuDeepMetric = (typeof GPU_DEEP_METRICS)[number];
export const NIC_METRICS = ['txGbps', 'rxGbps'] as const;
export type NicMetric = (typeof NIC_METRICS)[number];
export const SCHED_METRICS = ['runningReqs', 'queueReqs', 'tokenUsage', 'genThroughputTokPerSec', 'bootstrapQueueReqs', 'inflightReqs', 'preallocQueueReqs', 'transferQueueReqs', 'newTokens', 'cachedTokens'] as const;
export type SchedMetric = (typeof SCHED_METRICS)[number];

/**
 * Chart-ready state of the deep collectors (what TelemetryState is for GPU and /metrics
 * samples): per GPU profiling counters, per NIC and per node bandwidth, per rank scheduler
 * series, balancedness per server, and profile summaries.
 */
export class DeepTelemetryState {
  readonly gpus = new Map<string, Columns<GpuDeepMetric>>();
  readonly nics = new Map<string, Columns<NicMetric>>();
  readonly nodesNic = new Map<string, Columns<NicMetric>>();
  readonly ranks = new Map<string, Columns<SchedMetric>>();
  /** "decode" once a rank printed a decode line (its throughput counts), else "prefill" */
  readonly rankEvent = new Map<string, 'prefill' | 'decode'>();
  readonly balancedness = new Map<string, Columns<'balancedness'>>();
  readonly profiles: ProfileSummary[] = [];
  readonly nicGpus = new Map<string, string[]>();
  readonly sources = new Map<string, GpuDeepSample['source']>();
  counts = { gpuDeep: 0, nic: 0, sched: 0 };

  add(r: TelemetryRecord): void {
    switch (r.kind) {
      case 'gpu-deep':
        this.addGpu(r);
        break;
      case 'nic':
        this.addNic(r);
        break;
      case 'sched':
        this.addSched(r);
        break;
      case 'profile':
        this.profiles.push(r);
        break;
      default:
        break;
    }
  }

  private addGpu(s: GpuDeepSample): void {
    this.counts.gpuDeep++;
    this.sources.set(s.node, s.source);
    for (const g of s.gpus) {
      const key = `${s.node}/${g.index}`;
      let c = this.gpus.get(key);
      if (!c) this.gpus.set(key, (c = new Columns(key, GPU_DEEP_METRICS)));
      c.add(s.tsMs, g as Partial<Record<GpuDeepMetric, number>> & GpuDeepReading);
    }
  }

  private addNic(s: NicSample): void {
    this.counts.nic++;
    for (const n of s.nics) {
      const key = `${s.node}/${n.device}:${n.port}`;
      let c = this.nics.get(key);
      if (!c) this.nics.set(key, (c = new Columns(key, NIC_METRICS)));
      c.add(s.tsMs, n);
      if (n.gpus) this.nicGpus.set(key, n.gpus);
    }
    let node = this.nodesNic.get(s.node);
    if (!node) this.nodesNic.set(s.node, (node = new Columns(s.node, NIC_METRICS)));
    node.add(s.tsMs, { txGbps: s.txGbps, rxGbps: s.rxGbps });
  }

  private addSched(s: SchedLogSample): void {
    this.counts.sched++;
    if (s.event === 'balancedness') {
      let c = this.balancedness.get(s.endpoint);
      if (!c) this.balancedness.set(s.endpoint, (c = new Columns(s.endpoint, ['balancedness'] as const)));
      c.add(s.tsMs, { balancedness: s.balancedness });
      return;
    }
    // prefill and decode lines of one rank report the same scheduler's queues at different
    // moments: one series per rank (PD prefill and decode are different servers anyway)
    const key = rankLabel(s.endpoint, s.rank);
    let c = this.ranks.get(key);
    if (!c) this.ranks.set(key, (c = new Columns(key, SCHED_METRICS)));
    if (s.event === 'decode' || !this.rankEvent.has(key)) this.rankEvent.set(key, s.event);
    c.add(s.tsMs, s);
  }

  /** keys in display order (node2 before node10, DP2 before DP10) */
  static sorted<T>(m: ReadonlyMap<string, T>): [string, T][] {
    return [...m].sort((a, b) => ORDER.compare(a[0], b[0]));
  }

  timeRange(): { startMs: number; endMs: number } | undefined {
    let lo = Infinity;
    let hi = -Infinity;
    for (const group of [this.gpus, this.nics, this.ranks, this.nodesNic] as ReadonlyMap<string, { tMs: number[] }>[]) {
      for (const c of group.values()) {
        if (c.tMs.length === 0) continue;
        lo = Math.min(lo, c.tMs[0]);
        hi = Math.max(hi, c.tMs[c.tMs.length - 1]);
      }
    }
    return lo <= hi ? { startMs: lo, endMs: hi } : undefined;
  }
}
