import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { MetricDefinition } from '../metrics/definitions';
import { summarizeColumns, type RunSeries, type RunSummary, type SloSpec } from '../metrics/summary';
import { validityChecks, type ClientHealth, type ValidityCheck } from '../metrics/validity';
import { deriveRequest, type DerivedRequest } from '../metrics/definitions';
import { clientHostInfo, newRunId, RunWriter } from '../results/run-store';
import { redactSpecHeaders } from '../util/redact';
import type { RunMeta } from '../results/types';
import { arrivalForRate, type ArrivalSpec } from '../load/arrivals';
import { applyCacheBust, loadDataset, newCacheSalt, type DatasetSpec } from '../load/datasets';
import { StreamClient } from '../load/http-client';
import { defaultWorkers, PooledRun, type LoadPlan } from '../load/pool';
import { openClientNodes, type ClientNodeSession, type ClientNodesContext } from '../load/client-nodes';
import { RemoteShardRun } from '../load/remote-shards';
import type { PayloadOptions } from '../load/payloads';
import { acceptLengthOf, engineVersionOf, fetchModelId, fetchModelPath, fetchServerInfo } from '../telemetry/server/probe';
import type { LoadProgress } from '../load/runner';
import { createRng } from '../load/rng';
import { loadTrace, traceRows } from '../load/trace';
import type { ApiKind, DatasetRow, RequestRecord } from '../metrics/record';
import { buildWorkloadPlan, plannedRequests, sessionThreadsHint, summarizeWorkload, type WorkloadPlan, type WorkloadSpec } from '../load/workloads/plan';
import { hitRateOf, sessionStats, turnStats, type WorkloadReport } from '../load/workloads/report';

/** One benchmark run (one sweep step): everything needed to drive load and judge the result. */
export interface BenchmarkConfig {
  /** cell name or CLI label */
  name: string;
  url: string;
  api: ApiKind;
  /** served model name for the OpenAI APIs; read from /v1/models when absent */
  model?: string;
  headers?: Record<string, string>;
  dataset: DatasetSpec;
  /** relative dataset and trace paths resolve here (the notebook folder) */
  baseDir?: string;
  cacheBust: boolean;
  /** replay arrival times (and sizes, when the trace has them) from a JSONL file */
  trace?: { path: string; timeScale?: number };
  /**
   * a trace replayed with its prefix structure (Mooncake) or lengths (Azure, BurstGPT), or
   * multi-turn sessions: replaces the dataset and the arrival schedule (workloads/plan.ts)
   */
  workload?: WorkloadSpec;
  /** req/s; Infinity = all at once (bench_serving's default) */
  requestRate: number;
  /** gamma shape of the gaps; 1 = Poisson, Infinity = constant */
  burstiness: number;
  /** vLLM's schedule: gaps rescaled so the last request lands at N / rate */
  rescaleSchedule?: boolean;
  maxConcurrency?: number;
  durationSec?: number;
  warmupRequests: number;
  definition: MetricDefinition;
  percentiles: number[];
  slo?: SloSpec;
  payload: Omit<PayloadOptions, 'model'>;
  /** fail a request whose connection is silent this long (default: the client's 10 min) */
  idleTimeoutMs?: number;
  /** load threads (default: enough for the load, up to cores - 1; see pool.ts) */
  workers?: number;
  /** requests to send when it is not the dataset's size (the rows repeat); default numPrompts */
  requestCount?: number;
}

/** whole records kept with an outcome for plots and fault analysis (a uniform sample past this) */
export const RECORD_SAMPLE_SIZE = 20_000;

/** the live run, for progress polling and cancellation */
export interface LiveRun {
  progress(): LoadProgress;
}

export interface BenchmarkContext {
  /** where `<run-id>/` goes; undefined = keep nothing on disk */
  runStoreDir?: string;
  signal?: AbortSignal;
  /** the run began; `runDir` is its directory in the run store (absent without a store) */
  onStart?: (run: LiveRun, runDir?: string) => void;
  /** rows already loaded (a sweep loads its dataset once) */
  rows?: DatasetRow[];
  /** meta.json extras */
  spec?: unknown;
  toolVersion: string;
  tags?: Record<string, string>;
  step?: RunMeta['step'];
  deployment?: { name: string; engine: string; simulated: boolean; commands: RunMeta['provenance']['commands'] };
  /** drive the load from these cluster nodes instead of this machine's threads (client-nodes.ts) */
  clients?: ClientNodesContext;
}

export interface BenchmarkOutcome {
  runId: string;
  runDir?: string;
  simulated: boolean;
  summary: RunSummary;
  series: RunSeries;
  validity: ValidityCheck[];
  client: ClientHealth;
  cancelled: boolean;
  /**
   * measured (non-warmup) requests and their derived numbers, same order: every request of a run
   * up to RECORD_SAMPLE_SIZE, a uniform sample of a larger one (the metrics always use all)
   */
  records: RequestRecord[];
  /** requests the run measured (records.length unless sampled) */
  measuredRequests: number;
  derived: DerivedRequest[];
  model?: string;
  engineVersion?: string;
  /**
   * The measured window on the wall clock (Date.now(), the clock telemetry samples carry): the
   * shared start t0 to t0 + summary.durationSec. Energy per token is integrated over it.
   */
  window?: { startMs: number; endMs: number };
  /** trace and multi-turn workloads: expected vs measured prefix-cache reuse, metrics by turn */
  workload?: WorkloadReport;
}

export type { LoadProgress };

/** The dataset rows a config asks for (trace sizes win over the dataset when the trace has them). */
export async function prepareRows(config: BenchmarkConfig): Promise<DatasetRow[]> {
  // a workload builds its prompts on the load threads (workloads/plan.ts)
  if (config.workload) return [];
  if (config.trace) {
    const entries = await loadTrace(resolvePath(config.trace.path, config.baseDir));
    const rows = traceRows(entries, createRng(config.dataset.seed), config.dataset.outputLen ?? 256);
    if (rows) return rows;
  }
  return loadDataset(config.dataset, config.baseDir);
}

function resolvePath(p: string, baseDir?: string): string {
  return baseDir && !p.startsWith('/') ? `${baseDir.replace(/\/+$/, '')}/${p}` : p;
}

async function arrivalSpec(config: BenchmarkConfig): Promise<ArrivalSpec> {
  if (config.trace) {
    const entries = await loadTrace(resolvePath(config.trace.path, config.baseDir));
    return { kind: 'trace', offsetsMs: entries.map((e) => e.offsetMs), timeScale: config.trace.timeScale };
  }
  return arrivalForRate(config.requestRate, config.burstiness);
}

/**
 * Run one benchmark: probe the server for provenance, drive the load, store every request as it
 * finishes, compute SGLang's (or vLLM's) metrics and the validity checks, write summary.json.
 */
export async function runBenchmark(config: BenchmarkConfig, ctx: BenchmarkContext): Promise<BenchmarkOutcome> {
  let rows = ctx.rows ?? (await prepareRows(config));
  const salt = config.cacheBust ? newCacheSalt() : undefined;
  if (salt && !config.workload) rows = applyCacheBust(rows, salt, config.dataset.vocabSize);
  // the salt goes into the workload's blocks and histories: sharing inside the run survives
  const workload: WorkloadPlan | undefined = config.workload ? await buildWorkloadPlan(config.workload, config.baseDir ?? process.cwd(), salt) : undefined;
  const serverInfo = await fetchServerInfo(config.url, config.headers);
  const simulated = ctx.deployment?.simulated === true || serverInfo?.['simulated'] === true;
  const model = config.api === 'generate' ? config.model : (config.model ?? (await fetchModelId(config.url, config.headers)) ?? modelPathOf(serverInfo));
  // /generate takes no model field, but the run still names the model the server reports
  // (the run block showed "Model: null" for /generate targets)
  const shownModel = model ?? modelPathOf(serverInfo) ?? (await fetchModelPath(config.url, config.headers));
  const engineVersion = engineVersionOf(serverInfo);
  const arrivals: ArrivalSpec =
    workload?.kind === 'trace' ? { kind: 'trace', offsetsMs: workload.requests.map((r) => r.offsetMs), timeScale: workload.timeScale } : workload ? { kind: 'all-at-once' } : await arrivalSpec(config);
  const count = workload
    ? workload.kind === 'trace'
      ? Math.min(workload.requests.length, config.requestCount ?? Infinity)
      : config.requestCount
    : config.trace
      ? rows.length
      : config.durationSec !== undefined
        ? undefined
        : (config.requestCount ?? config.dataset.numPrompts);
  const arrivalSeed = (config.dataset.seed ^ 0x5bd1e995) >>> 0;

  // a bad URL or header fails here, before a run directory exists that would stay "running"
  const clientOptions = { baseUrl: config.url, api: config.api, headers: config.headers, payload: { ...config.payload, model }, idleTimeoutMs: config.idleTimeoutMs };
  new StreamClient(clientOptions).dispose();
  const workers = config.workers ?? (workload ? (sessionThreadsHint(workload) ?? defaultWorkers(config.maxConcurrency, Infinity)) : defaultWorkers(config.maxConcurrency, config.trace ? Infinity : config.requestRate));
  const workloadSummary = workload ? summarizeWorkload(workload) : undefined;
  const runId = newRunId(config.name);
  const writer = ctx.runStoreDir
    ? await RunWriter.create(ctx.runStoreDir, {
        id: runId,
        name: config.name,
        step: ctx.step,
        // header values are credentials as often as not: the run store keeps their names only
        spec: redactSpecHeaders(ctx.spec ?? config),
        target: { url: config.url, api: config.api, deployment: ctx.deployment?.name, engine: ctx.deployment?.engine, model: shownModel, simulated },
        provenance: {
          toolVersion: ctx.toolVersion,
          client: clientHostInfo(),
          seeds: { dataset: config.dataset.seed, arrivals: arrivalSeed },
          cacheSalt: salt,
          serverInfo: serverInfo ?? null,
          engineVersion,
          commands: ctx.deployment?.commands,
        },
        tags: ctx.tags,
      })
    : undefined;

  let closed = false;
  // --- client nodes (issue 14 part 5): the load runs on cluster nodes instead of local threads
  let clientNodes: ClientNodeSession[] = [];
  try {
    const plan: LoadPlan = {
        client: clientOptions,
        api: config.api,
        definition: config.definition,
        ignoreEos: config.payload.ignoreEos,
        rows,
        workload,
        arrivals,
        arrivalSeed,
        rescaleToCount: config.rescaleSchedule && count !== undefined ? count : undefined,
        maxConcurrency: config.maxConcurrency,
        count_: count,
        durationSec: config.durationSec,
        warmupRequests: config.warmupRequests,
        sampleSize: RECORD_SAMPLE_SIZE,
    };
    const onLines = (lines: string[]): void => void writer?.appendLines(lines);
    let run: PooledRun | RemoteShardRun;
    if (ctx.clients) {
      clientNodes = await openClientNodes(ctx.clients, ctx.signal);
      run = new RemoteShardRun({ ...plan, client: { ...plan.client, baseUrl: ctx.clients.url } }, { links: clientNodes.map((c) => c.link), workers: ctx.clients.workers }, onLines);
    } else run = new PooledRun(plan, workers, onLines);
    ctx.onStart?.(run, writer?.dir);
    const result = await run.run(ctx.signal);
    if (writer) await writer.drainRequests();
    // the run's clock: the shared start to the last finished request, in this thread's terms
    const t0 = result.startEpoch - performance.timeOrigin;
    let endMs = result.endEpoch ? result.endEpoch - result.startEpoch : 0;
    let acceptLength: number | null = null;
    if (config.definition === 'sglang' && !result.cancelled) {
      // bench_serving reads the accept length from /server_info before stopping its clock
      acceptLength = acceptLengthOf(await fetchServerInfo(config.url, config.headers));
      endMs = performance.now() - t0;
    }
    const durationSec = Math.max(endMs, 0) / 1000;
    // t0 is on the monotonic clock (timeOrigin + performance.now()), which drifts from Date.now()
    // by tens of ms in a long process: convert it at one instant
    const startWallMs = result.startEpoch + (Date.now() - (performance.timeOrigin + performance.now()));
    const window = { startMs: startWallMs, endMs: startWallMs + durationSec * 1000 };
    const measured = result.sample;
    const derived = measured.map((r) => deriveRequest(r, config.api, config.definition));
    const computed = { ...summarizeColumns(result.columns, { api: config.api, definition: config.definition, durationSec, percentiles: config.percentiles, slo: config.slo, acceptLength }), derived };
    const validity = validityChecks({
      summary: computed.summary,
      tally: result.columns.tally,
      requestRate: config.trace || workload ? Infinity : config.requestRate,
      traceReplay: config.trace !== undefined || workload?.kind === 'trace',
      maxConcurrency: config.maxConcurrency,
      datasetName: workload ? `workload:${workload.kind === 'trace' ? workload.format : 'sessions'}` : config.dataset.name,
      cacheBust: config.cacheBust,
      ignoreEos: config.payload.ignoreEos,
      client: result.health,
    });
    const workloadReport = workload && workloadSummary ? workloadReportOf(workload, workloadSummary, result.columns.tally, measured, derived) : undefined;
    // the run store keeps the workload's figures beside summary.json
    if (writer && workloadReport) await writeFile(path.join(writer.dir, 'workload.json'), JSON.stringify(workloadReport, null, 2) + '\n');
    if (writer) {
      await writer.writeSummary({ summary: computed.summary, series: computed.series, validity, client: result.health, cancelled: result.cancelled });
      await writer.close(result.cancelled ? 'cancelled' : 'completed');
    }
    closed = true;
    return {
      runId,
      window,
      runDir: writer?.dir,
      simulated,
      summary: computed.summary,
      series: computed.series,
      validity,
      client: result.health,
      cancelled: result.cancelled,
      records: measured,
      measuredRequests: result.columns.tally.measured,
      derived: computed.derived,
      model: shownModel,
      engineVersion,
      workload: workloadReport,
    };
  } catch (err) {
    // the requests already appended stay on disk; meta.json says why the run stopped
    if (writer && !closed) await writer.close('failed', (err as Error).message).catch(() => undefined);
    throw err;
  } finally {
    await Promise.all(clientNodes.map((c) => c.dispose()));
  }
}

function modelPathOf(info: Record<string, unknown> | undefined): string | undefined {
  const p = info?.['served_model_name'] ?? info?.['model_path'];
  return typeof p === 'string' ? p : undefined;
}

/**
 * Expected vs measured reuse (the tally counts every request; the sample would do for the rate
 * but not for a run past RECORD_SAMPLE_SIZE), and for sessions the metrics by turn from the sample.
 */
function workloadReportOf(plan: WorkloadPlan, summary: WorkloadReport['summary'], tally: { cachedTokens: number; cachedPrompt: number; cachedReported: number }, records: readonly RequestRecord[], derived: readonly DerivedRequest[]): WorkloadReport {
  const fromRecords = hitRateOf(records);
  const report: WorkloadReport = {
    summary,
    measuredHitRate: tally.cachedReported > 0 && tally.cachedPrompt > 0 ? tally.cachedTokens / tally.cachedPrompt : fromRecords.rate,
    measuredCachedTokens: tally.cachedReported > 0 ? tally.cachedTokens : fromRecords.cached,
    measuredPromptTokens: tally.cachedReported > 0 ? tally.cachedPrompt : fromRecords.prompt,
  };
  if (plan.kind === 'sessions') {
    report.byTurn = turnStats(records, derived);
    report.sessions = sessionStats(records, plan.sessions.map((s) => s.turns.length));
  }
  return report;
}

export { plannedRequests };
