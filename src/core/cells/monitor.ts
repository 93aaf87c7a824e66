import type { Cluster } from '../launch/types';
import type { DeploymentHandle } from '../exec/handles';
import type { Badge, Block, OutputDoc } from '../output/doc';
import { clientHostInfo, newRunId, RunWriter } from '../results';
import { readingWarnings } from '../telemetry/gpu-warnings';
import { gpuNowTable, serverNowTable, telemetrySummaryKv, type TelemetryState } from '../telemetry/live-charts';
import type { TelemetryNotice } from '../telemetry/notice';
import { COLLECT_KINDS, startRunTelemetry, type CollectKind, type RunTelemetryResult, type ServerTarget } from '../telemetry/run-telemetry';
import { sleep, Throttle } from '../util/timing';
import { CellReferenceError } from '../util/errors';
import type { CellContext, CellExecutor } from '../exec/cell';
import { parseSpec } from '../spec/yaml-spec';
import { monitorSpecSchema, type MonitorSpec } from '../spec/monitor-spec';
import { resolveTarget } from '../exec/targets';




export interface MonitorTargets {
  cluster?: Cluster;
  nodes?: string[];
  servers: ServerTarget[];
  watch: CollectKind[];
  simulated: boolean;
  deployment?: string;
}

/** Spec -> cluster, nodes and servers to watch, from the session's named clusters and deployments. */
export async function resolveMonitorTargets(spec: MonitorSpec, ctx: Pick<CellContext, 'session'>): Promise<MonitorTargets> {
  const cell = spec.name;
  const servers: ServerTarget[] = [];
  let cluster: Cluster | undefined;
  let nodes: string[] | undefined;
  let simulated = false;
  let deployment: string | undefined;
  const target = spec.target ? resolveTarget(ctx.session, spec.target, cell) : undefined;
  if (target?.kind === 'url') {
    servers.push({ name: hostName(spec.target ?? target.url), url: spec.target ?? target.url });
  } else if (target) {
    const handle = target.deployment;
    deployment = handle.name;
    simulated = handle.simulated;
    const perRole = new Map<string, number>();
    for (const s of await handle.servers()) {
      // the router has its own metric names (and no GPUs); its workers are what we watch
      if (s.role === 'router') continue;
      const i = perRole.get(s.role) ?? 0;
      perRole.set(s.role, i + 1);
      servers.push({ name: `${s.role}-${i}`, url: s.url, node: s.node });
    }
    cluster = ctx.session.clusters.tryGet(handle.clusterName);
    // servers() lists rank 0 of each server; the launch commands name every node (rank 1.. of multi-node TP too)
    nodes = [...new Set([...servers.map((s) => s.node), ...handle.commands.map((c) => c.node)].filter((n): n is string => n !== undefined))];
  }
  for (const u of spec.urls ?? []) servers.push({ name: hostName(u), url: u });
  const watch: CollectKind[] = spec.watch ?? (servers.length > 0 ? ['gpus', 'serverMetrics'] : ['gpus']);

  if (spec.cluster) {
    cluster = ctx.session.clusters.get(spec.cluster, cell);
    nodes = undefined;
  }
  if (!cluster && watch.includes('gpus')) cluster = ctx.session.defaultCluster(cell);
  if (spec.nodes) {
    const c = cluster;
    if (!c) throw new CellReferenceError('`nodes` needs a cluster', { cell, field: 'nodes' }, 'Add `cluster: <name>`.');
    for (const n of spec.nodes) {
      if (!c.nodes.some((x) => x.name === n)) {
        throw new CellReferenceError(`Cluster "${c.name}" has no node "${n}"`, { cell, field: 'nodes' }, `Its nodes: ${c.nodes.map((x) => x.name).join(', ')}.`);
      }
    }
    nodes = [...spec.nodes];
  }
  if ((watch.includes('serverMetrics') || watch.includes('experts')) && servers.length === 0) {
    throw new CellReferenceError('Server metrics and expert load need a server to watch', { cell, field: 'target' }, 'Set `target:` to a deployment name or a URL, or `urls:`.');
  }
  if (cluster?.kind === 'sim') simulated = true;
  return { cluster, nodes: nodes && nodes.length > 0 ? nodes : undefined, servers, watch, simulated, deployment };
}

function hostName(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** doc id of a monitor's output: the live doc and the final one share it (replaced in place) */
export const monitorDocId = (name: string): string => `${name}-monitor`;

function gpuBadges(state: TelemetryState, notices: readonly TelemetryNotice[]): Badge[] {
  const counts = { hot: 0, throttled: 0, ecc: 0 };
  for (const sample of state.latestGpu.values()) {
    for (const g of sample.gpus) for (const w of readingWarnings(g)) if (w !== 'memory-held-after-stop') counts[w]++;
  }
  const badges: Badge[] = [];
  if (counts.hot) badges.push({ level: 'warn', text: `${counts.hot} GPU(s) hot`, detail: 'at or above 85 °C, or thermal slowdown active' });
  if (counts.throttled) badges.push({ level: 'warn', text: `${counts.throttled} GPU(s) throttled`, detail: 'hardware/thermal slowdown or power brake active' });
  if (counts.ecc) badges.push({ level: 'error', text: `${counts.ecc} GPU(s) with ECC errors`, detail: 'uncorrected volatile ECC errors since boot' });
  // the last few distinct problems; every notice is also in the cell log
  const seen = new Set<string>();
  for (const n of notices) {
    if (n.level === 'info' || seen.has(n.message)) continue;
    seen.add(n.message);
    badges.push({ level: n.level, text: n.node ?? n.endpoint ?? 'telemetry', detail: n.message });
  }
  return badges.slice(-8);
}

function fmtSec(sec: number): string {
  return sec >= 120 ? `${Math.floor(sec / 60)} min ${Math.round(sec % 60)} s` : `${Math.round(sec)} s`;
}

/**
 * `moebench-monitor`: watches GPUs, server metrics and expert load, live, for a duration or until
 * the cell is stopped. The live doc is redrawn in place at most once a second (same doc id, same
 * chart ids, so the renderer uses Plotly.react); when it ends the same doc is replaced by a
 * compact final one that is small enough to keep in the notebook. Raw samples go to
 * `<runStoreDir>/<run id>/telemetry.jsonl`.
 */
export class MonitorCellExecutor implements CellExecutor {
  readonly language = 'moebench-monitor';

  async execute(source: string, ctx: CellContext): Promise<void> {
    const { spec } = parseSpec(monitorSpecSchema, source, { cell: ctx.cell.name, kind: 'moebench-monitor' });
    const t = await resolveMonitorTargets(spec, ctx);
    const intervalMs = spec.intervalMs ?? ctx.host.setting('telemetry.intervalMs', 1000);
    const runId = newRunId(spec.name);
    const writer = await RunWriter.create(ctx.session.runStoreDir, {
      id: runId,
      name: spec.name,
      spec,
      // a monitor is not a benchmark: the target says what was watched, tags.kind tells readers
      target: { url: t.servers[0]?.url ?? `cluster:${t.cluster?.name ?? ''}`, api: 'generate', deployment: t.deployment, simulated: t.simulated },
      provenance: { toolVersion: ctx.session.toolVersion, client: clientHostInfo(), seeds: { dataset: 0, arrivals: 0 } },
      tags: { kind: 'monitor' },
    });
    ctx.session.runs.set(spec.name, { runIds: [runId], cell: spec.name }, spec.name);
    const docId = monitorDocId(spec.name);
    const notices: TelemetryNotice[] = [];
    const startedMs = Date.now();
    const what = t.watch.join(', ');
    const where = [t.cluster ? `${t.nodes?.length ?? t.cluster.nodes.length} node(s) of ${t.cluster.name}` : '', t.servers.length ? `${t.servers.length} server(s)` : ''].filter(Boolean).join(', ');
    ctx.emit({ kind: 'log', stream: 'stdout', text: `${spec.name}: watching ${what} on ${where || 'nothing'} every ${intervalMs} ms${spec.durationSec ? ` for ${spec.durationSec} s` : ' until stopped'}; run ${runId}\n` });

    let liveDoc = (): OutputDoc => ({ title: `${spec.name} — starting`, blocks: [] });
    const throttle = new Throttle(Math.max(1000, intervalMs), () => ctx.emit({ kind: 'doc', id: docId, doc: liveDoc() }));
    const tel = await startRunTelemetry({
      cluster: t.cluster,
      nodes: t.nodes,
      serverUrls: t.servers,
      runDir: writer.dir,
      intervalMs,
      collect: t.watch,
      // the node's one nvidia-smi stream, shared with the Cluster view and other cells
      gpuStreams: ctx.session.gpuStreams,
      experts: spec.experts,
      signal: ctx.signal,
      onRecord: () => throttle.poke(),
      onNotice: (n) => {
        notices.push(n);
        ctx.emit({ kind: 'log', stream: n.level === 'info' ? 'stdout' : 'stderr', text: `${spec.name}: ${n.message}\n` });
        throttle.poke();
      },
    });
    liveDoc = () => {
      const elapsedSec = (Date.now() - startedMs) / 1000;
      const blocks: Block[] = [];
      const badges = gpuBadges(tel.state, notices);
      if (badges.length) blocks.push({ type: 'badges', items: badges });
      const gpuNow = gpuNowTable(tel.state);
      if (gpuNow) blocks.push(gpuNow);
      const serverNow = serverNowTable(tel.state);
      if (serverNow) blocks.push(serverNow);
      blocks.push(...tel.liveCharts(docId));
      const left = spec.durationSec ? ` of ${fmtSec(spec.durationSec)}` : ' (stop the cell to finish)';
      ctx.emit({ kind: 'status', text: `${spec.name}: monitoring ${fmtSec(elapsedSec)}${left}` });
      return { title: `${spec.name} — live, ${fmtSec(elapsedSec)}${left}`, simulated: t.simulated || undefined, runIds: [runId], blocks };
    };

    let result: RunTelemetryResult | undefined;
    try {
      throttle.poke();
      await sleep(spec.durationSec ? spec.durationSec * 1000 : 2 ** 31 - 1, ctx.signal);
      result = await tel.stop({ chartIdPrefix: docId });
    } finally {
      throttle.dispose();
      if (!result) await tel.stop({ chartIdPrefix: docId }).catch(() => undefined);
      await writer.close(ctx.signal.aborted ? 'cancelled' : result ? 'completed' : 'failed');
    }
    const stopped = ctx.signal.aborted;
    const durationSec = (result.endMs - result.startMs) / 1000;
    const energyItems: [string, string | number | null][] = [];
    if (result.energy.gpuCount > 0 && result.energy.joules > 0) {
      energyItems.push(['GPU energy (kJ)', Math.round(result.energy.joules / 100) / 10]);
      energyItems.push(['mean GPU power, all GPUs (W)', Math.round(result.energy.avgPowerW)]);
    }
    if (result.eplb) energyItems.push(['balancedness before → after', `${result.eplb.before.toFixed(3)} → ${result.eplb.after.toFixed(3)}`]);
    else if (result.experts.length > 0) energyItems.push(['expert balancedness', Number(result.experts[result.experts.length - 1].balancednessMean.toFixed(3))]);
    energyItems.push(['run', runId]);
    const blocks: Block[] = [];
    const badges = gpuBadges(tel.state, result.notices);
    if (badges.length) blocks.push({ type: 'badges', items: badges });
    blocks.push(telemetrySummaryKv(tel.state, energyItems));
    blocks.push(...result.charts);
    const doc: OutputDoc = { title: `${spec.name} — ${fmtSec(durationSec)} monitored${stopped ? ' (stopped)' : ''}`, simulated: t.simulated || undefined, runIds: [runId], blocks };
    ctx.emit({ kind: 'doc', id: docId, doc });
    ctx.emit({ kind: 'log', stream: 'stdout', text: `${spec.name}: ${result.gpuSamples} GPU samples, ${result.serverSamples} server scrapes over ${fmtSec(durationSec)}; telemetry in ${writer.dir}\n` });
  }
}
