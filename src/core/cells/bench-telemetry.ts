import type { CellContext } from '../exec/cell';
import type { DeploymentHandle } from '../exec/handles';
import type { Block } from '../output/doc';
import type { TelemetryRecord } from '../telemetry/schema';
import type { TelemetrySink } from '../telemetry/recorder';
import { runDirSink } from '../telemetry/recorder';
import { startRunTelemetry, type RunCollectKind, type RunTelemetry, type RunTelemetryResult } from '../telemetry/run-telemetry';
import type { LogProcess } from '../telemetry/deep/sglang-log/follow';

export type BenchCollectKind = RunCollectKind;

/** a Deployment (src/core/deploy) exposes its supervised processes; other handles may not */
function logProcessesOf(deployment: DeploymentHandle): LogProcess[] | undefined {
  const d = deployment as unknown as { remoteStates?: () => LogProcess[] };
  return typeof d.remoteStates === 'function' ? d.remoteStates() : undefined;
}

/**
 * Telemetry joined to a bench cell's runs (`collect: [gpus, serverMetrics, experts, gpuDeep, nic,
 * schedLogs]`): one set of collectors for the whole sweep, started by startRunTelemetry (GPUs
 * from the session's shared nvidia-smi stream of each node), each step's samples written into
 * that step's run directory (telemetry.jsonl, with phase markers), and energy/cost per step in
 * the cell's output.
 */
export class BenchTelemetry {
  private constructor(
    private readonly telemetry: RunTelemetry,
    private readonly sink: StepSink,
  ) {}

  static async start(kinds: readonly BenchCollectKind[], deployment: DeploymentHandle, ctx: CellContext): Promise<BenchTelemetry> {
    const cluster = ctx.session.clusters.get(deployment.clusterName, ctx.cell.name);
    const nodes = [...new Set(deployment.commands.map((c) => c.node))];
    const servers = (await deployment.servers()).filter((s) => s.role !== 'router').map((s) => ({ name: `${s.role}@${s.node}`, url: s.url, node: s.node }));
    const sink = new StepSink();
    const telemetry = await startRunTelemetry({
      cluster,
      nodes,
      serverUrls: servers,
      sink,
      intervalMs: ctx.host.setting('telemetry.intervalMs', 1000),
      collect: kinds,
      gpuStreams: ctx.session.gpuStreams,
      logProcesses: kinds.includes('schedLogs') ? logProcessesOf(deployment) : undefined,
      signal: ctx.signal,
      onNotice: (n) => ctx.emit({ kind: 'log', stream: n.level === 'error' ? 'stderr' : 'stdout', text: `telemetry: ${n.message}\n` }),
    });
    return new BenchTelemetry(telemetry, sink);
  }

  /** the followed server logs' per-request PD lines (collect: schedLogs), for the TTFT decomposition */
  get reqTimeStats() {
    return this.telemetry.reqTimeStats;
  }

  /** a sweep step's run directory exists: its samples go there from now on */
  stepStarted(step: number, label: string, runDir: string | undefined): void {
    if (runDir) this.sink.setDir(runDir);
    this.telemetry.phase('step', { step, label });
  }

  /** a step is done: its measured window (epoch ms), the window energy per token uses */
  stepMeasured(step: number, window: { startMs: number; endMs: number }): void {
    this.telemetry.measured(step, window);
  }

  async stop(stepOutputTokens: number[], usdPerGpuHour: number, gpuCount: number | undefined): Promise<RunTelemetryResult> {
    const outputTokens = stepOutputTokens.reduce((a, b) => a + b, 0);
    return this.telemetry.stop({ outputTokens, stepOutputTokens, usdPerGpuHour, gpuCount, chartIdPrefix: 'bench-telemetry', deepChartIdPrefix: 'bench-deep' });
  }
}

/**
 * Sends each record to the run directory of the step it belongs to, by its own timestamp: the
 * recorder writes in batches (one a second), so a batch flushed just after the next step started
 * still holds the end of the previous step, and its 'measured' window markers. Routing by flush
 * time put those into the next step's telemetry.jsonl, and the report then integrated the wrong
 * samples over no window. Records from before the first step go to the first step's directory.
 */
class StepSink implements TelemetrySink {
  private readonly dirs: { fromMs: number; sink: TelemetrySink }[] = [];
  private pending: TelemetryRecord[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  setDir(dir: string): void {
    this.dirs.push({ fromMs: this.now(), sink: runDirSink(dir) });
    if (this.pending.length) {
      const early = this.pending;
      this.pending = [];
      void this.append(early);
    }
  }

  async append(records: readonly TelemetryRecord[]): Promise<void> {
    if (this.dirs.length === 0) {
      this.pending.push(...records);
      return;
    }
    const groups = new Map<TelemetrySink, TelemetryRecord[]>();
    for (const r of records) {
      let k = this.dirs.length - 1;
      while (k > 0 && r.tsMs < this.dirs[k].fromMs) k--;
      const sink = this.dirs[k].sink;
      const g = groups.get(sink);
      if (g) g.push(r);
      else groups.set(sink, [r]);
    }
    for (const [sink, group] of groups) await sink.append(group);
  }
}

/** Energy and cost per step, GPU counts, notices and the compact charts, for the result doc. */
export function telemetryBlocks(r: RunTelemetryResult, stepLabels: string[]): Block[] {
  const fmt = (v: number | null, digits: number): string | null => (v === null ? null : Number(v.toFixed(digits)).toString());
  const blocks: Block[] = [
    {
      type: 'table',
      title: `Telemetry: ${r.gpuCount} GPUs, ${r.gpuSamples} GPU samples, ${r.serverSamples} server scrapes`,
      columns: ['step', 'avg power', 'energy / output token', 'energy / 1M output tokens', 'cost / 1M output tokens'],
      units: [null, 'W', 'J', 'kWh', '$'],
      rows: [
        ...r.steps.map((s) => [stepLabels[s.step] ?? s.label ?? String(s.step), s.efficiency ? Math.round(s.efficiency.avgPowerW) : null, fmt(s.efficiency?.joulesPerOutputToken ?? null, 3), fmt(s.efficiency?.kWhPer1MOutputTokens ?? null, 3), fmt(s.efficiency?.usdPer1MOutputTokens ?? null, 2)]),
        [r.steps.length > 0 && r.steps.every((s) => s.window === 'measured') ? 'all steps' : 'whole run', Math.round(r.energy.avgPowerW), fmt(r.energy.joulesPerOutputToken, 3), fmt(r.energy.kWhPer1MOutputTokens, 3), fmt(r.energy.usdPer1MOutputTokens, 2)],
      ],
    },
  ];
  blocks.push({
    type: 'text',
    text: r.steps.length > 0 && r.steps.every((s) => s.window === 'measured')
      ? 'Energy per output token: GPU energy over each step\'s measured window (first request after warm-up to the last response, the window throughput uses) ÷ that step\'s output tokens. The report computes the same figure from the run store.'
      : 'Energy per output token: GPU energy over each step\'s whole phase (warm-up included) ÷ that step\'s output tokens.',
  });
  if (r.notices.length) blocks.push({ type: 'badges', items: r.notices.map((n) => ({ level: n.level === 'error' ? 'warn' : 'info', text: n.message })) });
  blocks.push(...r.charts);
  if (r.deep) {
    if (r.deep.notices.length) blocks.push({ type: 'badges', items: r.deep.notices.map((n) => ({ level: n.level === 'error' ? 'warn' : 'info', text: n.message })) });
    blocks.push(...r.deep.charts);
  }
  return blocks;
}
