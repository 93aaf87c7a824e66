import type { Cluster } from '../../launch/types';
import type { PlotBlock } from '../../output/doc';
import { activityVsThroughputPlot } from '../charts/deep-activity';
import { nicHeatmapPlot, nicNodePlot, nvlinkHeatmapPlot } from '../charts/deep-bandwidth';
import { rankQueuesPlot, rankTokenUsagePlot } from '../charts/deep-sched';
import { compactPlot, svgWhenSmall } from '../live-charts';
import type { TelemetryNotice } from '../notice';
import type { PhaseMarker, TelemetryRecord } from '../schema';
import { GpuDeepCollector } from './gpu-deep-collector';
import { NicCollector } from './ib/collector';
import { SchedulerLogConsumer, type LogSource } from './sglang-log/consumer';
import { SchedulerLogFollower, type LogProcess } from './sglang-log/follow';
import { ReqTimeStatsStore } from './sglang-log/req-time-stats';
import { DeepTelemetryState } from './state';

export type DeepCollectKind = 'gpuDeep' | 'nic' | 'schedLogs';
export const DEEP_COLLECT_KINDS: readonly DeepCollectKind[] = ['gpuDeep', 'nic', 'schedLogs'];

/** What the deep collectors need beyond what every collector gets (RunTelemetryOptions). */
export interface DeepOptions {
  /** server processes whose logs are followed for scheduler lines (Deployment.remoteStates()) */
  logProcesses?: readonly LogProcess[];
  /** try DCGM first (default true) */
  dcgm?: boolean;
  /** EP size shown next to the network charts */
  epSize?: number;
  /** scheduler-log lines that are not data, for the cell's log */
  onLogLine?: (source: LogSource, line: string) => void;
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

export interface DeepCollectorsOptions extends DeepOptions {
  cluster?: Cluster;
  nodes: readonly string[];
  collect: readonly DeepCollectKind[];
  intervalMs: number;
  /** where every record goes (startRunTelemetry's one record path: state, telemetry.jsonl, listeners) */
  record: (r: TelemetryRecord) => void;
  notice: (n: TelemetryNotice) => void;
  now: () => number;
}

/**
 * The deep collectors of one run, started by startRunTelemetry (the one set-up path): DCGM (or
 * the nvidia-smi fallback), IB/RoCE counters and the scheduler log series. They write through
 * the run's record function and keep their chart-ready state here. A collector that cannot run
 * becomes a notice. Every sampling command runs on the one stream loop (../stream-loop.ts).
 */
export class DeepCollectors {
  readonly state = new DeepTelemetryState();
  /** feed scheduler log lines from elsewhere (the deploy log relay): `consumer.line({ endpoint, node }, line)` */
  readonly consumer: SchedulerLogConsumer;
  /** per-request PD time stats the followed logs printed (--enable-request-time-stats-logging), for the TTFT decomposition */
  readonly reqTimeStats = new ReqTimeStatsStore();
  private readonly bytes = new Map<string, number>();
  private readonly gpu: GpuDeepCollector | undefined;
  private readonly nic: NicCollector | undefined;
  private readonly follower: SchedulerLogFollower | undefined;
  private stopped: Promise<void> | undefined;

  private constructor(private readonly o: DeepCollectorsOptions) {
    const onBytes = (node: string, n: number): void => void this.bytes.set(node, (this.bytes.get(node) ?? 0) + n);
    const needsCluster = o.collect.some((k) => k !== 'schedLogs') || (o.logProcesses?.length ?? 0) > 0;
    if (needsCluster && !o.cluster) o.notice({ level: 'warn', message: 'deep telemetry needs a cluster (nodes to run dcgmi / read counters on); none was given' });
    const common = { nodes: o.nodes, intervalMs: o.intervalMs, onSample: o.record, onNotice: o.notice, onBytes, now: o.now };
    this.gpu = o.cluster && o.collect.includes('gpuDeep') ? new GpuDeepCollector({ ...common, cluster: o.cluster, dcgm: o.dcgm }) : undefined;
    this.nic = o.cluster && o.collect.includes('nic') ? new NicCollector({ ...common, cluster: o.cluster }) : undefined;
    this.consumer = new SchedulerLogConsumer({ onRecord: o.record, onOtherLine: o.onLogLine, onReqTimeStats: (l) => this.reqTimeStats.add(l), now: o.now });
    this.follower = o.cluster && o.collect.includes('schedLogs') && o.logProcesses && o.logProcesses.length > 0 ? new SchedulerLogFollower(o.cluster, this.consumer, o.notice, onBytes) : undefined;
  }

  static async start(o: DeepCollectorsOptions): Promise<DeepCollectors> {
    const d = new DeepCollectors(o);
    d.gpu?.start();
    d.nic?.start();
    if (d.follower && o.logProcesses) await d.follower.follow(o.logProcesses);
    return d;
  }

  /** stop every command; resolves when they have ended; idempotent */
  stop(): Promise<void> {
    this.stopped ??= Promise.all([this.gpu?.dispose(), this.nic?.dispose(), this.follower?.dispose()]).then(() => undefined);
    return this.stopped;
  }

  charts(idPrefix: string, c: { t0Ms: number; phases?: readonly PhaseMarker[]; final?: boolean }): PlotBlock[] {
    const common = { t0Ms: c.t0Ms, phases: c.phases, epSize: this.o.epSize, maxPointsPerSeries: c.final ? 240 : 600, timeBuckets: c.final ? 120 : 200 };
    const id = (n: string) => `${idPrefix}-${n}`;
    const out = [
      nicNodePlot(this.state, id('nic-nodes'), common),
      nicHeatmapPlot(this.state, id('nic-heat'), common),
      nvlinkHeatmapPlot(this.state, id('nvlink-heat'), common),
      rankQueuesPlot(this.state, id('rank-queues'), { ...common, maxPointsPerSeries: c.final ? 120 : 200 }),
      rankTokenUsagePlot(this.state, id('rank-kv'), { ...common, maxPointsPerSeries: c.final ? 120 : 200 }),
      activityVsThroughputPlot(this.state, id('activity'), common),
    ];
    return out.filter((p): p is PlotBlock => p !== undefined).map((p) => svgWhenSmall(compactPlot(p)));
  }

  /** bytes the remote commands printed per node, over `sec` seconds (the overhead figures) */
  overhead(sec: number): DeepOverhead[] {
    const s = Math.max(1e-3, sec);
    return this.o.nodes.map((node) => ({ node, bytes: this.bytes.get(node) ?? 0, bytesPerSec: (this.bytes.get(node) ?? 0) / s }));
  }
}
