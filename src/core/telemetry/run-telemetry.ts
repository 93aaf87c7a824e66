/**
 * Telemetry around one benchmark run (or one monitor session), the one set-up path for every
 * collector: GPUs (the node's shared nvidia-smi stream), server /metrics, expert load, and the
 * deep collectors (DCGM or its nvidia-smi fallback, IB/RoCE counters, scheduler log lines).
 * Writes every sample and phase marker to `<runDir>/telemetry.jsonl` through one recorder, keeps
 * chart-ready state for live charts, and on stop returns energy/cost, expert snapshots, compact
 * charts and, when deep kinds were collected, the deep charts and overhead.
 *
 * How the bench cell uses it:
 *
 *   const tel = await startRunTelemetry({ cluster, nodes, servers, runDir, collect: spec.collect, signal: ctx.signal });
 *   tel.phase('warmup');                                  // ... warm-up requests
 *   tel.phase('step', { step: 0, label: 'concurrency=64' }); // ... step 0 (ends warmup)
 *   tel.phase('step', { step: 1, label: 'concurrency=128' }); // ... step 1 (ends step 0)
 *   const charts = tel.liveCharts('decode-2k-telemetry');      // in the progress doc, ≤ 1/s
 *   const result = await tel.stop({ outputTokens, stepOutputTokens: [t0, t1], usdPerGpuHour });
 *   // result.energy, result.steps[i].efficiency, result.experts / eplb, result.charts (final doc)
 *
 * Collectors that cannot start (no nvidia-smi, metrics unreachable, recorder not enabled) become
 * notices; a run never fails because telemetry did.
 */
import type { Cluster } from '../launch/types';
import { LocalCluster } from '../launch/local/local-cluster';
import { fetchServerInfo } from './server/probe';
import type { PlotBlock } from '../output/doc';
import { isAbortError } from '../util/errors';
import { combineEfficiency, phaseWindow, runEfficiency, windowEfficiency, type RunEfficiency } from './energy';
import { compareEplb, expertSnapshot, type EplbComparison } from './experts/load';
import { dumpExpertRecord, fetchExpertDump, startExpertRecord, stopExpertRecord } from './experts/recorder';
import { DEEP_COLLECT_KINDS, DeepCollectors, type DeepCollectKind, type DeepOptions, type DeepTelemetryResult } from './deep/deep-telemetry';
import type { SchedulerLogConsumer } from './deep/sglang-log/consumer';
import type { ReqTimeStatsStore } from './deep/sglang-log/req-time-stats';
import type { DeepTelemetryState } from './deep/state';
import { GpuCollector } from './gpu/collector';
import type { GpuStreamRegistry } from './gpu/shared-stream';
import { telemetryCharts, TelemetryState } from './live-charts';
import type { TelemetryNotice } from './notice';
import { runDirSink, TelemetryRecorder, type TelemetrySink } from './recorder';
import type { ExpertSnapshot, GpuSample, PhaseMarker, PhaseName, ServerSample, TelemetryRecord } from './schema';
import { ServerMetricsCollector } from './server/collector';

export type CollectKind = 'gpus' | 'serverMetrics' | 'experts';
export const COLLECT_KINDS: readonly CollectKind[] = ['gpus', 'serverMetrics', 'experts'];
/** everything a run can collect: the kinds above and the deep ones */
export type RunCollectKind = CollectKind | DeepCollectKind;
export const RUN_COLLECT_KINDS: readonly RunCollectKind[] = [...COLLECT_KINDS, ...DEEP_COLLECT_KINDS];
const isDeepKind = (k: RunCollectKind): k is DeepCollectKind => (DEEP_COLLECT_KINDS as readonly string[]).includes(k);

/** A server to scrape (and to record expert load from). */
export interface ServerTarget {
  /** shown in charts: "decode-0", "prefill@node1" */
  name: string;
  /** base URL reachable from this machine */
  url: string;
  /** the node it runs on: where its expert dump is written (rank 0 of a multi-node server) */
  node?: string;
}

export interface ExpertOptions {
  /** SGLANG_EXPERT_DISTRIBUTION_RECORDER_DIR on the nodes (default /tmp) */
  dir?: string;
  /** the python with torch on the nodes (default python3) */
  python?: string;
  /** EP size; default: `ep_size` from the server's /server_info */
  epSize?: number;
}

export interface RunTelemetryOptions extends DeepOptions {
  /** where GPUs are sampled and expert dumps converted; without it only server metrics work */
  cluster?: Cluster;
  /** nodes to sample (default: all of the cluster's) */
  nodes?: readonly string[];
  /** servers to scrape; plain URLs are named by host:port */
  serverUrls?: readonly (string | ServerTarget)[];
  /** `<runDir>/telemetry.jsonl` receives every record (the directory must exist) */
  runDir?: string;
  /** instead of runDir (tests, or another store) */
  sink?: TelemetrySink;
  /** sampling interval of every collector (default 1000) */
  intervalMs?: number;
  collect: readonly RunCollectKind[];
  /**
   * the Session's shared nvidia-smi streams (`session.gpuStreams`): GPUs are read from the
   * node's one stream that the Cluster view and other cells share. Without it the run has
   * streams of its own.
   */
  gpuStreams?: GpuStreamRegistry;
  experts?: ExpertOptions;
  /** aborting stops the collectors (what was received is kept; call stop() for the result) */
  signal?: AbortSignal;
  /** every record as it arrives (live charts, tree views) */
  onRecord?: (record: TelemetryRecord) => void;
  onNotice?: (notice: TelemetryNotice) => void;
  now?: () => number;
}

export interface StopOptions {
  /** output tokens of the whole run, for energy per token and cost */
  outputTokens?: number;
  /** output tokens per sweep step (index = step), for per-step energy */
  stepOutputTokens?: readonly number[];
  usdPerGpuHour?: number;
  /** GPUs the deployment uses, when the sampled nodes hold idle GPUs that are not part of it */
  gpuCount?: number;
  /** label of the final expert snapshot (default "run") */
  expertLabel?: string;
  /** ids of the returned charts are `${chartIdPrefix}-...` (default "telemetry") */
  chartIdPrefix?: string;
  /** ids of the deep charts are `${deepChartIdPrefix}-...` (default "deep") */
  deepChartIdPrefix?: string;
}

export interface StepTelemetry {
  step: number;
  label?: string;
  startMs: number;
  endMs: number;
  /** 'measured': the bench's measured window (see windowEfficiency); 'step': the whole step phase */
  window: 'measured' | 'step';
  efficiency: RunEfficiency;
}

export interface RunTelemetryResult {
  startMs: number;
  endMs: number;
  /** energy (and cost when priced): over the steps' measured windows when every step has one, else over the whole window */
  energy: RunEfficiency;
  steps: StepTelemetry[];
  /** every expert snapshot, in order (one per server per snapshot call, plus the final one) */
  experts: ExpertSnapshot[];
  /** first and last snapshot of the first server that has two (e.g. before and after EPLB) */
  expertsBefore?: ExpertSnapshot;
  expertsAfter?: ExpertSnapshot;
  eplb?: EplbComparison;
  /** compact charts for the final doc */
  charts: PlotBlock[];
  notices: TelemetryNotice[];
  gpuCount: number;
  gpuSamples: number;
  serverSamples: number;
  /** when a deep kind was collected: its charts, its collectors' notices, bytes per node */
  deep?: DeepTelemetryResult;
}

export interface RunTelemetry {
  /** start a phase now, ending the open one: 'warmup', or 'step' with its index and label */
  phase(name: Exclude<PhaseName, 'run'>, extra?: { step?: number; label?: string }): void;
  /** end the open phase without starting another */
  endPhase(): void;
  /**
   * a step's measured window (first dispatch after warm-up → last response), known once the step
   * is done: written as 'measured' markers, the window energy per token is computed over
   */
  measured(step: number, window: { startMs: number; endMs: number }): void;
  /** the newest sample of every node and server, and the accumulated state */
  latest(): { gpus: GpuSample[]; servers: ServerSample[]; state: TelemetryState };
  /** live charts (ids `${idPrefix}-...`, stable: emit them under one doc id, ≤ 1 per second) */
  liveCharts(idPrefix: string): PlotBlock[];
  /** dump the expert recorders now under `label` and start them again (e.g. "before-eplb") */
  snapshotExperts(label: string): Promise<ExpertSnapshot[]>;
  /** stop the collectors, take the final expert snapshot, flush telemetry.jsonl; idempotent */
  stop(options?: StopOptions): Promise<RunTelemetryResult>;
  readonly state: TelemetryState;
  /** the deep collectors' chart-ready state, when a deep kind is collected */
  readonly deepState?: DeepTelemetryState;
  /** scheduler log lines from elsewhere (the deploy log relay), when a deep kind is collected */
  readonly consumer?: SchedulerLogConsumer;
  /**
   * per-request PD time stats from the followed server logs (servers launched with
   * --enable-request-time-stats-logging), when schedLogs is collected: the TTFT decomposition
   * joins them with the run's requests by rid
   */
  readonly reqTimeStats?: ReqTimeStatsStore;
  /** add a record from outside (profile summaries) to the state and telemetry.jsonl */
  record(r: TelemetryRecord): void;
}

interface ExpertSource {
  target: ServerTarget;
  cluster: Cluster;
  node: string;
  epSize: number;
}

function hostPort(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function isLoopbackUrl(url: string): boolean {
  try {
    const h = new URL(url).hostname;
    return h === 'localhost' || h === '[::1]' || h === '::1' || /^127\./.test(h);
  } catch {
    return false;
  }
}

export function normalizeTargets(urls: readonly (string | ServerTarget)[] | undefined): ServerTarget[] {
  const seen = new Set<string>();
  const out: ServerTarget[] = [];
  for (const u of urls ?? []) {
    const t = typeof u === 'string' ? { name: hostPort(u), url: u.replace(/\/+$/, '') } : { ...u, url: u.url.replace(/\/+$/, '') };
    if (seen.has(t.url)) continue;
    seen.add(t.url);
    out.push(t);
  }
  return out;
}

/** Start collecting. Resolves once the collectors are started and the expert recorders asked to record. */
export async function startRunTelemetry(o: RunTelemetryOptions): Promise<RunTelemetry> {
  const now = o.now ?? Date.now;
  const intervalMs = Math.max(100, o.intervalMs ?? 1000);
  const state = new TelemetryState();
  const notices: TelemetryNotice[] = [];
  const notice = (n: TelemetryNotice): void => {
    notices.push(n);
    o.onNotice?.(n);
  };
  const sink = o.sink ?? (o.runDir ? runDirSink(o.runDir) : undefined);
  const recorder = sink ? new TelemetryRecorder(sink, { now, onError: (err) => notice({ level: 'error', message: `cannot write telemetry.jsonl: ${err instanceof Error ? err.message : String(err)}` }) }) : undefined;
  let collecting = true;
  let deepCollecting = true;
  let deep: DeepCollectors | undefined;
  const record = (r: TelemetryRecord): void => {
    // a chunk already in flight when the streams were stopped is not part of the run
    if (!collecting && (r.kind === 'gpu' || r.kind === 'server')) return;
    // deep ticks are kept until their commands have ended (their last tick closes on exit)
    if (!deepCollecting && (r.kind === 'gpu-deep' || r.kind === 'nic' || r.kind === 'sched')) return;
    state.add(r);
    deep?.state.add(r);
    recorder?.record(r);
    o.onRecord?.(r);
  };
  const startMs = now();
  const marker = (phase: PhaseName, edge: PhaseMarker['edge'], extra: { step?: number; label?: string } = {}): void => {
    const m: PhaseMarker = { kind: 'phase', tsMs: now(), phase, edge };
    if (extra.step !== undefined) m.step = extra.step;
    if (extra.label !== undefined) m.label = extra.label;
    record(m);
  };
  marker('run', 'start');

  const targets = normalizeTargets(o.serverUrls);
  let gpuCollector: GpuCollector | undefined;
  let serverCollector: ServerMetricsCollector | undefined;
  if (o.collect.includes('gpus')) {
    if (!o.cluster) notice({ level: 'warn', message: 'GPU telemetry needs a cluster (nodes to run nvidia-smi on); none was given' });
    else {
      const nodes = o.nodes && o.nodes.length > 0 ? [...o.nodes] : o.cluster.nodes.map((n) => n.name);
      gpuCollector = new GpuCollector({ cluster: o.cluster, nodes, intervalMs, streams: o.gpuStreams, onSample: record, onNotice: notice, now });
      gpuCollector.start();
    }
  }
  if (o.collect.includes('serverMetrics')) {
    if (targets.length === 0) notice({ level: 'warn', message: 'server metrics need a server URL or a deployment; none was given' });
    else {
      serverCollector = new ServerMetricsCollector({ endpoints: targets.map((t) => ({ name: t.name, url: t.url })), intervalMs, windowSec: Math.max(5, (2 * intervalMs) / 1000), onSample: record, onNotice: notice, now });
      serverCollector.start();
    }
  }

  let localCluster: LocalCluster | undefined;
  const experts: ExpertSource[] = o.collect.includes('experts')
    ? await startExperts(targets, o, notice, () => (localCluster ??= new LocalCluster('local', 0)))
    : [];

  const deepKinds = o.collect.filter(isDeepKind);
  const deepNotices: TelemetryNotice[] = [];
  if (deepKinds.length > 0) {
    deep = await DeepCollectors.start({
      cluster: o.cluster,
      nodes: o.cluster ? (o.nodes && o.nodes.length > 0 ? [...o.nodes] : o.cluster.nodes.map((n) => n.name)) : [],
      collect: deepKinds,
      intervalMs,
      logProcesses: o.logProcesses,
      dcgm: o.dcgm,
      epSize: o.epSize,
      onLogLine: o.onLogLine,
      record,
      notice: (n) => {
        deepNotices.push(n);
        o.onNotice?.(n);
      },
      now,
    });
  }

  let open: { phase: PhaseName; step?: number; label?: string } | undefined;
  const endOpen = (): void => {
    if (!open) return;
    marker(open.phase, 'end', { step: open.step, label: open.label });
    open = undefined;
  };

  let collectorsStopped: Promise<void> | undefined;
  const stopCollectors = (): Promise<void> => {
    collecting = false;
    collectorsStopped ??= Promise.all([gpuCollector?.dispose(), serverCollector?.dispose(), deep?.stop().then(() => void (deepCollecting = false))]).then(() => undefined);
    return collectorsStopped;
  };
  const onAbort = (): void => void stopCollectors();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  if (o.signal?.aborted) onAbort();

  const snapshot = async (label: string, restart: boolean): Promise<ExpertSnapshot[]> => {
    const out: ExpertSnapshot[] = [];
    for (const src of experts) {
      const signal = AbortSignal.timeout(120_000);
      try {
        await stopExpertRecord(src.target.url, { endpoint: src.target.name, signal });
        await dumpExpertRecord(src.target.url, { endpoint: src.target.name, signal });
        const dump = await fetchExpertDump(src.cluster, src.node, { dir: o.experts?.dir, python: o.experts?.python, epSize: src.epSize, maxPerPass: 0, maxAgeSec: 600, signal });
        const snap = expertSnapshot(dump, { epSize: src.epSize, label, endpoint: src.target.name, tsMs: now() });
        record(snap);
        out.push(snap);
      } catch (err) {
        notice({ endpoint: src.target.name, level: 'warn', message: `expert load "${label}" from ${src.target.name} not recorded: ${err instanceof Error ? err.message : String(err)}` });
      }
      if (restart) await startExpertRecord(src.target.url, { endpoint: src.target.name }).catch((err: unknown) => notice({ endpoint: src.target.name, level: 'warn', message: `cannot restart the expert recorder on ${src.target.name}: ${String(err)}` }));
    }
    return out;
  };

  let result: Promise<RunTelemetryResult> | undefined;
  const handle: RunTelemetry = {
    state,
    deepState: deep?.state,
    consumer: deep?.consumer,
    reqTimeStats: deepKinds.includes('schedLogs') ? deep?.reqTimeStats : undefined,
    record,
    phase(name, extra = {}) {
      if (result) return;
      endOpen();
      open = { phase: name, step: extra.step, label: extra.label };
      marker(name, 'start', extra);
    },
    endPhase() {
      if (!result) endOpen();
    },
    measured(step, window) {
      if (result) return;
      record({ kind: 'phase', tsMs: window.startMs, phase: 'measured', edge: 'start', step });
      record({ kind: 'phase', tsMs: window.endMs, phase: 'measured', edge: 'end', step });
    },
    latest() {
      return { gpus: [...state.latestGpu.values()], servers: [...state.latestServer.values()], state };
    },
    liveCharts(idPrefix) {
      return telemetryCharts(state, { idPrefix, t0Ms: startMs });
    },
    snapshotExperts(label) {
      return snapshot(label, true);
    },
    stop(options = {}) {
      result ??= (async () => {
        endOpen();
        await stopCollectors();
        o.signal?.removeEventListener('abort', onAbort);
        await snapshot(options.expertLabel ?? 'run', false);
        marker('run', 'end');
        const endMs = now();
        await recorder?.dispose();
        await localCluster?.dispose();
        const res = summarize(state, notices, { startMs, endMs, options, idPrefix: options.chartIdPrefix ?? 'telemetry' });
        if (deep) {
          res.deep = {
            charts: deep.charts(options.deepChartIdPrefix ?? 'deep', { phases: state.phases, t0Ms: startMs, final: true }),
            notices: [...deepNotices],
            overhead: deep.overhead((endMs - startMs) / 1000),
            counts: { ...deep.state.counts },
          };
        }
        return res;
      })();
      return result;
    },
  };
  return handle;
}

async function startExperts(targets: readonly ServerTarget[], o: RunTelemetryOptions, notice: (n: TelemetryNotice) => void, local: () => Cluster): Promise<ExpertSource[]> {
  const out: ExpertSource[] = [];
  for (const t of targets) {
    // a dump is a file on the server's node: without a cluster, only a server on this machine works
    const cluster = o.cluster && t.node ? o.cluster : isLoopbackUrl(t.url) && !t.node ? local() : undefined;
    const node = o.cluster && t.node ? t.node : 'local';
    if (!cluster) {
      notice({ endpoint: t.name, level: 'warn', message: `expert load of ${t.name} needs the node it runs on (use a deployment as the target)` });
      continue;
    }
    let epSize = o.experts?.epSize;
    if (epSize === undefined) {
      const info = await fetchServerInfo(t.url).catch(() => undefined);
      const ep = info?.['ep_size'] ?? info?.['tp_size'];
      epSize = typeof ep === 'number' && ep > 0 ? ep : undefined;
    }
    if (epSize === undefined) {
      notice({ endpoint: t.name, level: 'warn', message: `cannot tell the EP size of ${t.name} (no ep_size in /server_info); set experts.epSize` });
      continue;
    }
    try {
      await startExpertRecord(t.url, { endpoint: t.name, timeoutMs: 10_000 });
      out.push({ target: t, cluster, node, epSize });
    } catch (err) {
      if (isAbortError(err)) throw err;
      notice({ endpoint: t.name, level: 'warn', message: err instanceof Error ? err.message : String(err) });
    }
  }
  return out;
}

function phaseWindows(phases: readonly PhaseMarker[]): { step: number; label?: string; startMs: number; endMs: number }[] {
  const out: { step: number; label?: string; startMs: number; endMs: number }[] = [];
  const open = new Map<number, PhaseMarker>();
  for (const m of phases) {
    if (m.phase !== 'step' || m.step === undefined) continue;
    if (m.edge === 'start') open.set(m.step, m);
    else {
      const s = open.get(m.step);
      if (s) {
        out.push({ step: m.step, label: s.label, startMs: s.tsMs, endMs: m.tsMs });
        open.delete(m.step);
      }
    }
  }
  return out;
}

/** Power samples as the energy module takes them (one entry per GPU per tick). */
function powerSamples(state: TelemetryState): GpuSample[] {
  const out: GpuSample[] = [];
  for (const s of state.gpus.series()) {
    const w = s.values.power;
    for (let i = 0; i < s.tMs.length; i++) {
      if (Number.isFinite(w[i])) out.push({ kind: 'gpu', tsMs: s.tMs[i], node: s.node, gpus: [{ index: s.index, powerW: w[i] }] });
    }
  }
  return out;
}

export function summarize(
  state: TelemetryState,
  notices: TelemetryNotice[],
  o: { startMs: number; endMs: number; options: StopOptions; idPrefix: string },
): RunTelemetryResult {
  const samples = powerSamples(state);
  const price = o.options.usdPerGpuHour && o.options.usdPerGpuHour > 0 ? o.options.usdPerGpuHour : undefined;
  const steps: StepTelemetry[] = phaseWindows(state.phases).map((w) => {
    const tokens = o.options.stepOutputTokens?.[w.step] ?? 0;
    // energy per token over the step's measured window when the bench recorded it (the definition
    // the report uses too, see windowEfficiency); a bare step phase falls back to the phase itself
    const measured = phaseWindow(state.phases, 'measured', w.step);
    return measured
      ? { ...w, window: 'measured' as const, efficiency: windowEfficiency(samples, measured, { outputTokens: tokens, usdPerGpuHour: price, gpuCount: o.options.gpuCount }) }
      : { ...w, window: 'step' as const, efficiency: runEfficiency(samples, { outputTokens: tokens, usdPerGpuHour: price, gpuCount: o.options.gpuCount, startMs: w.startMs, endMs: w.endMs }) };
  });
  const allMeasured = steps.length > 0 && steps.every((s) => s.window === 'measured');
  const energy = allMeasured
    ? combineEfficiency(steps.map((s) => s.efficiency), steps.reduce((a, s) => a + (o.options.stepOutputTokens?.[s.step] ?? 0), 0), price)
    : runEfficiency(samples, { outputTokens: o.options.outputTokens ?? 0, usdPerGpuHour: price, gpuCount: o.options.gpuCount, startMs: o.startMs, endMs: o.endMs });
  const res: RunTelemetryResult = {
    startMs: o.startMs,
    endMs: o.endMs,
    energy,
    steps,
    experts: [...state.experts],
    charts: telemetryCharts(state, { idPrefix: o.idPrefix, t0Ms: o.startMs, final: true }),
    notices: [...notices],
    gpuCount: state.gpus.size,
    gpuSamples: state.gpuSamples,
    serverSamples: state.serverSamples,
  };
  const endpoints = [...new Set(state.experts.map((s) => s.endpoint))];
  for (const ep of endpoints) {
    const snaps = state.experts.filter((s) => s.endpoint === ep);
    if (snaps.length >= 2) {
      res.expertsBefore = snaps[0];
      res.expertsAfter = snaps[snaps.length - 1];
      res.eplb = compareEplb(snaps[0], snaps[snaps.length - 1]);
      break;
    }
  }
  return res;
}
