import type { Cluster } from '../../launch/types';
import type { PlotBlock } from '../../output/doc';
import { activityVsThroughputPlot } from '../charts/deep-activity';
import { nicHeatmapPlot, nicNodePlot, nvlinkHeatmapPlot } from '../charts/deep-bandwidth';
import { rankQueuesPlot, rankTokenUsagePlot } from '../charts/deep-sched';
import { compactPlot, svgWhenSmall } from '../live-charts';
import type { TelemetryNotice } from '../notice';
import { runDirSink, TelemetryRecorder, type TelemetrySink } from '../recorder';
import type { PhaseMarker, TelemetryRecord } from '../schema';
import { GpuDeepCollector } from './gpu-deep-collector';
import { NicCollector } from './ib/collector';
import { SchedulerLogConsumer, type LogSource } from './sglang-log/consumer';
import { SchedulerLogFollower, type LogProcess } from './sglang-log/follow';
import { DeepTelemetryState } from './state';

export type DeepCollectKind = 'gpuDeep' | 'nic' | 'schedLogs';
export const DEEP_COLLECT_KINDS: readonly DeepCollectKind[] = ['gpuDeep', 'nic', 'schedLogs'];

export interface DeepTelemetryOptions {
  cluster?: Cluster;
  /** nodes to sample (default all of the cluster's) */
  nodes?: readonly string[];
  collect: readonly DeepCollectKind[];
  /** default 1000 */
  intervalMs?: number;
  /** server processes whose logs are followed for scheduler lines (Deployment.remoteStates()) */
  logProcesses?: readonly LogProcess[];
  /** `<runDir>/telemetry.jsonl` (the same file the run's other telemetry goes to) */
  runDir?: string;
  sink?: TelemetrySink;
  /** try DCGM first (default true) */
  dcgm?: boolean;
  /** EP size shown next to the network charts */
  epSize?: number;
  signal?: AbortSignal;
  onRecord?: (r: TelemetryRecord) => void;
  onNotice?: (n: TelemetryNotice) => void;
  /** scheduler-log lines that are not data, for the cell's log */
  onLogLine?: (source: LogSource, line: string) => void;
  now?: () => number;
}

export interface DeepOverhead {
  node: string;
  bytes: number;
  bytesPerSec: number;
}

export interface DeepTelemetryResult {
  charts: PlotBlock[];
  notices: TelemetryNotice[];
  overhead: DeepOverhead[];
  counts: DeepTelemetryState['counts'];
}

export interface DeepTelemetry {
  readonly state: DeepTelemetryState;
  /** feed scheduler log lines from elsewhere (the deploy log relay): `consumer.line({ endpoint, node }, line)` */
  readonly consumer: SchedulerLogConsumer;
  /** add a record from outside (profile summaries) to the state and telemetry.jsonl */
  record(r: TelemetryRecord): void;
  charts(idPrefix: string, o?: { phases?: readonly PhaseMarker[]; t0Ms?: number; final?: boolean }): PlotBlock[];
  stop(o?: { chartIdPrefix?: string; phases?: readonly PhaseMarker[]; t0Ms?: number }): Promise<DeepTelemetryResult>;
}

/**
 * The deep collectors around a run, beside startRunTelemetry: DCGM (or the nvidia-smi
 * fallback), IB/RoCE counters and the scheduler log series, written to the run's
 * telemetry.jsonl and kept chart-ready. A collector that cannot run becomes a notice.
 */
export async function startDeepTelemetry(o: DeepTelemetryOptions): Promise<DeepTelemetry> {
  const now = o.now ?? Date.now;
  const startMs = now();
  const intervalMs = Math.max(100, o.intervalMs ?? 1000);
  const state = new DeepTelemetryState();
  const notices: TelemetryNotice[] = [];
  const notice = (n: TelemetryNotice): void => {
    notices.push(n);
    o.onNotice?.(n);
  };
  const sink = o.sink ?? (o.runDir ? runDirSink(o.runDir) : undefined);
  const recorder = sink ? new TelemetryRecorder(sink, { now, onError: (err) => notice({ level: 'error', message: `cannot write telemetry.jsonl: ${err instanceof Error ? err.message : String(err)}` }) }) : undefined;
  let collecting = true;
  const record = (r: TelemetryRecord): void => {
    if (!collecting && r.kind !== 'profile') return;
    state.add(r);
    recorder?.record(r);
    o.onRecord?.(r);
  };
  const bytes = new Map<string, number>();
  const onBytes = (node: string, n: number): void => void bytes.set(node, (bytes.get(node) ?? 0) + n);

  const nodes = o.cluster ? (o.nodes && o.nodes.length > 0 ? [...o.nodes] : o.cluster.nodes.map((n) => n.name)) : [];
  const needsCluster = o.collect.some((k) => k !== 'schedLogs') || (o.logProcesses?.length ?? 0) > 0;
  if (needsCluster && !o.cluster) notice({ level: 'warn', message: 'deep telemetry needs a cluster (nodes to run dcgmi / read counters on); none was given' });

  const gpu = o.cluster && o.collect.includes('gpuDeep') ? new GpuDeepCollector({ cluster: o.cluster, nodes, intervalMs, onSample: record, onNotice: notice, dcgm: o.dcgm, onBytes, now }) : undefined;
  const nic = o.cluster && o.collect.includes('nic') ? new NicCollector({ cluster: o.cluster, nodes, intervalMs, onSample: record, onNotice: notice, onBytes, now }) : undefined;
  const consumer = new SchedulerLogConsumer({ onRecord: record, onOtherLine: o.onLogLine, now });
  const follower = o.cluster && o.collect.includes('schedLogs') && o.logProcesses && o.logProcesses.length > 0 ? new SchedulerLogFollower(o.cluster, consumer, notice, onBytes) : undefined;
  gpu?.start();
  nic?.start();
  if (follower && o.logProcesses) await follower.follow(o.logProcesses);

  let stopped: Promise<void> | undefined;
  const stopCollectors = (): Promise<void> => {
    stopped ??= (async () => {
      await Promise.all([gpu?.dispose(), nic?.dispose(), follower?.dispose()]);
      collecting = false;
    })();
    return stopped;
  };
  const onAbort = (): void => void stopCollectors();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  if (o.signal?.aborted) onAbort();

  const charts = (idPrefix: string, c: { phases?: readonly PhaseMarker[]; t0Ms?: number; final?: boolean } = {}): PlotBlock[] => {
    const common = { t0Ms: c.t0Ms ?? startMs, phases: c.phases, epSize: o.epSize, maxPointsPerSeries: c.final ? 240 : 600, timeBuckets: c.final ? 120 : 200 };
    const id = (n: string) => `${idPrefix}-${n}`;
    const out = [
      nicNodePlot(state, id('nic-nodes'), common),
      nicHeatmapPlot(state, id('nic-heat'), common),
      nvlinkHeatmapPlot(state, id('nvlink-heat'), common),
      rankQueuesPlot(state, id('rank-queues'), { ...common, maxPointsPerSeries: c.final ? 120 : 200 }),
      rankTokenUsagePlot(state, id('rank-kv'), { ...common, maxPointsPerSeries: c.final ? 120 : 200 }),
      activityVsThroughputPlot(state, id('activity'), common),
    ];
    return out.filter((p): p is PlotBlock => p !== undefined).map((p) => svgWhenSmall(compactPlot(p)));
  };

  let result: Promise<DeepTelemetryResult> | undefined;
  return {
    state,
    consumer,
    record,
    charts,
    stop(s = {}) {
      result ??= (async () => {
        await stopCollectors();
        o.signal?.removeEventListener('abort', onAbort);
        await recorder?.dispose();
        const sec = Math.max(1e-3, (now() - startMs) / 1000);
        const overhead = nodes.map((node) => ({ node, bytes: bytes.get(node) ?? 0, bytesPerSec: (bytes.get(node) ?? 0) / sec }));
        return { charts: charts(s.chartIdPrefix ?? 'deep', { phases: s.phases, t0Ms: s.t0Ms, final: true }), notices: [...notices], overhead, counts: { ...state.counts } };
      })();
      return result;
    },
  };
}
