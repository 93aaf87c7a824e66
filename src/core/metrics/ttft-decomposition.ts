import { familyWindow, type FamilyWindow, type LabelFilter } from '../telemetry/server/family-window';
import { labelsOf, type PromScrape } from '../telemetry/server/prometheus';
import type { RequestRecord } from './record';
import { mean, percentileSorted } from './stats';
import { transferMsOf, type JoinedReqTimes, type ReqTimeStatsEntry } from '../telemetry/deep/sglang-log/req-time-stats';

/** One server's /metrics at the start and the end of a run (see telemetry/server/run-scrapes.ts). */
export type { ServerWindow } from '../telemetry/server/run-scrapes';
import type { ServerWindow } from '../telemetry/server/run-scrapes';

export type ServerRole = 'prefill' | 'decode' | 'unified' | 'router' | 'unknown';

export type TtftSegmentId = 'router' | 'prefillQueue' | 'prefillCompute' | 'kvTransfer' | 'decodeQueue' | 'firstDecodeStep' | 'unexplained';

export interface TtftSegment {
  id: TtftSegmentId;
  label: string;
  /** mean ms per request over the run; null when the servers do not export what it needs */
  ms: number | null;
  /** where the figure comes from, shown on hover */
  source: string;
}

/** A KV-transfer family as the servers declared it during the run. */
export interface KvFamilyReading {
  name: string;
  type: 'histogram' | 'gauge' | 'absent';
  /** histogram: mean over the run's requests; gauge: last value (one request per rank, not a run figure) */
  value: number | null;
  p50?: number | null;
  p99?: number | null;
  count?: number;
}

export interface TtftDecomposition {
  /** the client's mean TTFT (the bar the stack is drawn next to) */
  clientTtftMs: number;
  segments: TtftSegment[];
  /** server-side TTFT means by role (tokenizer histograms) */
  serverTtftMs: { prefill: number | null; decode: number | null };
  /** stages that overlap the stack (bootstrap and KV allocation run beside prefill), with sizes and speeds */
  kv: KvFamilyReading[];
  /** what the responses' own meta_info said (servers with --enable-metrics, /generate), when any did */
  perRequest?: PerRequestTimes;
  /** the servers' own per-request PD breakdown (their log lines), joined with the run's requests by rid */
  perRequestLog?: LoggedPdTimes;
  notes: string[];
}

/** The flag SGLang needs to print the per-request PD breakdown (server_args.py, observability). */
export const REQUEST_TIME_STATS_FLAG = '--enable-request-time-stats-logging';
export const REQUEST_LOG_SOURCE = `server log, ${REQUEST_TIME_STATS_FLAG}`;

export type LoggedStageId = 'prefillBootstrapQueue' | 'bootstrap' | 'allocWait' | 'prefillQueue' | 'prefillForward' | 'kvTransfer' | 'decodePreallocQueue' | 'decodeKvWait' | 'decodeQueue';

/** One stage of the logged breakdown over the joined requests that had it, ms. */
export interface LoggedStage {
  id: LoggedStageId;
  label: string;
  side: 'prefill' | 'decode';
  /** requests with a value */
  n: number;
  meanMs: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  /** how the server measured it (SchedulerReqTimeStats.convert_to_duration) */
  source: string;
}

/**
 * The per-request PD breakdown SGLang prints with --enable-request-time-stats-logging (see
 * telemetry/deep/sglang-log/req-time-stats.ts), over the run's completed measured requests
 * whose lines were found: `joined` of `of` had at least one side, `joinedPrefill` /
 * `joinedDecode` that side's line.
 */
export interface LoggedPdTimes {
  source: typeof REQUEST_LOG_SOURCE;
  of: number;
  joined: number;
  joinedPrefill: number;
  joinedDecode: number;
  stages: LoggedStage[];
  /** prefill retries over the joined requests */
  retries: number;
}

/** Where the per-request lines come from: the run's followed server logs (telemetry ReqTimeStatsStore). */
export interface ReqTimesSource {
  join(rid: string): JoinedReqTimes;
  /** request lines seen at all since the logs were followed */
  readonly seen: number;
}

export interface RequestLogOptions {
  /** the followed logs' per-request lines; undefined when no server log was followed */
  source?: ReqTimesSource;
  /** whether the prefill / decode launch commands carry the flag, when the commands are known */
  flagInCommands?: boolean;
}

/**
 * Means over the requests whose final meta_info carried time stats. In PD these come from the
 * decode server (the one that streams): its queue_time is the decode queue, and forward entry −
 * queue − arrival is how long it held the request before the KV was in place (bootstrap, the
 * prefill's queue and compute, the transfer), the span the histograms split.
 */
export interface PerRequestTimes {
  requests: number;
  /** measured requests with ok responses (the share that reported is requests / of) */
  of: number;
  queueMs: number | null;
  /** decode server arrival -> KV in place (PD only; needs the epoch stamps of current releases) */
  kvWaitMs: number | null;
  /** finish − forward entry */
  inferenceMs: number | null;
  /** prefill_launch_latency (unified / prefill servers) */
  prefillLaunchMs: number | null;
}

/** engine_type label of any scheduler sample (SGLang labels every scheduler metric with it), else the endpoint's name */
export function serverRole(w: ServerWindow): ServerRole {
  for (const samples of w.after.byName.values()) {
    for (const s of samples) {
      const t = labelsOf(s).engine_type;
      if (t === 'prefill' || t === 'decode' || t === 'unified') return t;
    }
  }
  const m = /^(prefill|decode|router|unified)/.exec(w.endpoint);
  return m ? (m[1] as ServerRole) : 'unknown';
}

/** The windows of several servers of one role merged: histograms pooled (Σsum/Σcount), gauges averaged. */
export function pooled(windows: readonly ServerWindow[], name: string, filter?: LabelFilter): FamilyWindow | undefined {
  const parts = windows.map((w) => familyWindow(w.before, w.after, name, filter)).filter((x): x is FamilyWindow => x !== undefined);
  if (parts.length === 0) return undefined;
  const hist = parts.filter((p): p is Extract<FamilyWindow, { type: 'histogram' }> => p.type === 'histogram');
  if (hist.length > 0) {
    const count = hist.reduce((a, p) => a + p.count, 0);
    const sum = hist.reduce((a, p) => a + p.sum, 0);
    // quantiles do not pool; keep the busiest server's as an indication
    const busiest = hist.reduce((a, b) => (b.count > a.count ? b : a));
    return { name, type: 'histogram', count, sum, mean: count > 0 ? sum / count : null, p50: busiest.p50, p90: busiest.p90, p99: busiest.p99 };
  }
  const gauges = parts.filter((p): p is Extract<FamilyWindow, { type: 'gauge' }> => p.type === 'gauge');
  if (gauges.length > 0) return { name, type: 'gauge', value: gauges.reduce((a, g) => a + g.value, 0) / gauges.length, series: gauges.reduce((a, g) => a + g.series, 0) };
  const counters = parts.filter((p): p is Extract<FamilyWindow, { type: 'counter' }> => p.type === 'counter');
  return { name, type: 'counter', increase: counters.reduce((a, c) => a + c.increase, 0) };
}

function meanMs(w: FamilyWindow | undefined, scale: number): number | null {
  if (!w || w.type !== 'histogram' || w.mean === null || w.count <= 0) return null;
  return w.mean * scale;
}

const KV_FAMILIES: readonly [string, string][] = [
  ['sglang:kv_transfer_latency_ms', 'prefill'],
  ['sglang:kv_transfer_bootstrap_ms', 'any'],
  ['sglang:kv_transfer_alloc_ms', 'any'],
  ['sglang:kv_transfer_total_mb', 'prefill'],
  ['sglang:kv_transfer_speed_gb_s', 'prefill'],
];

function kvReading(windows: readonly ServerWindow[], name: string): KvFamilyReading {
  const w = pooled(windows, name);
  if (!w || w.type === 'counter') return { name, type: 'absent', value: null };
  if (w.type === 'gauge') return { name, type: 'gauge', value: w.value };
  return { name, type: 'histogram', value: w.count > 0 ? w.mean : null, p50: w.p50, p99: w.p99, count: w.count };
}

/**
 * Where a PD deployment's TTFT went, as a mean per request over one run: router (client TTFT
 * minus the decode server's own TTFT), prefill queue and compute, KV transfer, decode queue and
 * the first decode step, each from the servers' histograms; what is left is shown as
 * "unexplained" (negative when stages overlap or a figure over-counts), never dropped.
 * Returns undefined unless both a prefill and a decode server were scraped.
 */
export function decomposeTtft(clientTtftMs: number, windows: readonly ServerWindow[], records: readonly RequestRecord[] = [], requestLog: RequestLogOptions = {}): TtftDecomposition | undefined {
  const prefill = windows.filter((w) => serverRole(w) === 'prefill');
  const decode = windows.filter((w) => serverRole(w) === 'decode');
  if (prefill.length === 0 || decode.length === 0) return undefined;
  const notes: string[] = [];
  const decodeTtft = meanMs(pooled(decode, 'sglang:time_to_first_token_seconds'), 1000);
  const prefillTtft = meanMs(pooled(prefill, 'sglang:time_to_first_token_seconds'), 1000);

  const kv = KV_FAMILIES.map(([name, side]) => kvReading(side === 'prefill' ? prefill : windows, name));
  const latency = kv[0];
  let kvTransferMs: number | null = null;
  let kvSource = 'kv_transfer_latency_ms (prefill side)';
  if (latency.type === 'histogram') kvTransferMs = latency.value;
  else if (latency.type === 'gauge') {
    kvTransferMs = latency.value;
    kvSource = 'kv_transfer_latency_ms is a gauge on this SGLang (before PR #19009): the last request per rank, not a run mean';
    notes.push('KV-transfer metrics are gauges on these servers (SGLang before PR #19009): the transfer segment is the last request per rank, not a mean over the run.');
  }

  const per = perRequestTimes(records);
  let decodeQueue = meanMs(pooled(decode, 'sglang:queue_time_seconds'), 1000);
  let decodeQueueSource = 'queue_time_seconds mean (decode servers)';
  if (per && per.queueMs !== null) {
    decodeQueue = per.queueMs;
    decodeQueueSource = `meta_info.queue_time per request (the decode server's), mean over ${per.requests} of ${per.of} responses`;
  }
  // the decode server's first token comes out of its prebuilt pass (stage fake_output: forward
  // entry -> prebuilt finish, observability/req_time_stats.py @00ce49e0); without that stage the
  // step is estimated from the decode ITL
  let firstStep = meanMs(pooled(decode, 'sglang:per_stage_req_latency_seconds', { stage: 'fake_output' }), 1000);
  let firstStepSource = 'per_stage_req_latency_seconds{stage="fake_output"} mean on the decode servers (the prebuilt pass that emits the first token)';
  let firstStepLabel = 'first decode step';
  if (firstStep === null) {
    firstStep = meanMs(pooled(decode, 'sglang:inter_token_latency_seconds'), 1000);
    firstStepSource = 'estimate: inter_token_latency_seconds mean on the decode servers (one decode step; the servers export no fake_output stage)';
    firstStepLabel = 'first decode step (estimate)';
  }
  if (firstStep === null) {
    const itl = clientItlMedian(records);
    if (itl !== null) {
      firstStep = itl;
      firstStepSource = "estimate: the client's median gap between chunks (the decode servers export neither the fake_output stage nor an ITL histogram)";
      firstStepLabel = 'first decode step (estimate)';
    }
  }
  const segments: TtftSegment[] = [
    { id: 'router', label: 'router + network + client', ms: decodeTtft === null ? null : clientTtftMs - decodeTtft, source: 'client TTFT − decode server time_to_first_token_seconds mean' },
    { id: 'prefillQueue', label: 'prefill queue', ms: meanMs(pooled(prefill, 'sglang:queue_time_seconds'), 1000), source: 'queue_time_seconds mean (prefill servers)' },
    { id: 'prefillCompute', label: 'prefill compute', ms: meanMs(pooled(prefill, 'sglang:per_stage_req_latency_seconds', { stage: 'prefill_forward' }), 1000), source: 'per_stage_req_latency_seconds{stage="prefill_forward"} mean' },
    { id: 'kvTransfer', label: 'KV transfer', ms: kvTransferMs, source: kvSource },
    { id: 'decodeQueue', label: 'decode queue', ms: decodeQueue, source: decodeQueueSource },
    { id: 'firstDecodeStep', label: firstStepLabel, ms: firstStep, source: firstStepSource },
  ];
  for (const s of segments) if (s.ms === null) notes.push(`${s.label}: not exported by these servers (${s.source}); its time is in "unexplained".`);
  const explained = segments.reduce((a, s) => a + (s.ms ?? 0), 0);
  const rest = clientTtftMs - explained;
  segments.push({ id: 'unexplained', label: rest < 0 ? 'over-attributed (stages overlap)' : 'unexplained', ms: rest, source: 'client TTFT − Σ segments above' });
  if (per && per.kvWaitMs !== null) {
    const histParts = ['prefillQueue', 'prefillCompute', 'kvTransfer'].map((id) => segments.find((x) => x.id === id)?.ms ?? 0).reduce((a, b) => a + b, 0);
    const boot = kv[1].type === 'histogram' && kv[1].value !== null ? kv[1].value : 0;
    notes.push(`Per request (meta_info): the decode server held a request ${per.kvWaitMs.toFixed(1)} ms on average before its KV was in place; the histograms put bootstrap + prefill queue + prefill compute + KV transfer at ${(histParts + boot).toFixed(1)} ms.`);
  }
  const logged = requestLog.source ? loggedPdTimes(records, requestLog.source) : undefined;
  notes.push(...requestLogNotes(logged, requestLog));
  const out: TtftDecomposition = { clientTtftMs, segments, serverTtftMs: { prefill: prefillTtft, decode: decodeTtft }, kv, notes };
  if (per) out.perRequest = per;
  if (logged) out.perRequestLog = logged;
  return out;
}

const LOGGED_STAGES: readonly { id: LoggedStageId; label: string; side: 'prefill' | 'decode'; source: string; pick: (e: ReqTimeStatsEntry) => number | undefined }[] = [
  { id: 'prefillBootstrapQueue', label: 'prefill bootstrap queue', side: 'prefill', source: 'prefill bootstrap_queue_duration: bootstrap-queue entry -> wait-queue entry (bootstrap + alloc wait)', pick: (e) => e.firstQueueMs },
  { id: 'bootstrap', label: 'bootstrap', side: 'prefill', source: 'prefill bootstrap(...): bootstrap-queue entry -> bootstrap done (the handshake with the decode server; printed since PR #19009)', pick: (e) => e.bootstrapMs },
  { id: 'allocWait', label: 'alloc wait', side: 'prefill', source: "prefill alloc_wait(...): bootstrap done -> wait-queue entry (the decode server's KV allocation; printed since PR #19009)", pick: (e) => e.allocWaitMs },
  { id: 'prefillQueue', label: 'prefill queue', side: 'prefill', source: 'prefill queue_duration: wait-queue entry -> forward entry', pick: (e) => e.queueMs },
  { id: 'prefillForward', label: 'prefill forward (compute + KV send)', side: 'prefill', source: 'prefill forward_duration: forward entry -> completion, which comes once the KV transfer is done', pick: (e) => e.forwardMs },
  { id: 'kvTransfer', label: 'KV transfer', side: 'prefill', source: 'prefill transfer_total ÷ transfer_speed (the latency the server derived the speed from)', pick: (e) => transferMsOf(e) },
  { id: 'decodePreallocQueue', label: 'decode prealloc queue', side: 'decode', source: 'decode prealloc_queue_duration: prealloc entry -> transfer-queue entry (KV reserved on the decode server)', pick: (e) => e.firstQueueMs },
  { id: 'decodeKvWait', label: 'decode waiting for KV', side: 'decode', source: "decode transfer_duration: transfer-queue entry -> KV in place (spans the prefill's queue, compute and the transfer)", pick: (e) => e.transferWaitMs },
  { id: 'decodeQueue', label: 'decode queue', side: 'decode', source: 'decode queue_duration: KV in place -> forward entry', pick: (e) => e.queueMs },
];

/** the run's completed measured requests joined with the servers' per-request lines by rid (undefined when none joined) */
export function loggedPdTimes(records: readonly RequestRecord[], source: ReqTimesSource): LoggedPdTimes | undefined {
  const values = LOGGED_STAGES.map(() => [] as number[]);
  let of = 0;
  let joined = 0;
  let joinedPrefill = 0;
  let joinedDecode = 0;
  let retries = 0;
  for (const r of records) {
    if (!r.ok || r.warmup) continue;
    of++;
    if (r.rid === undefined) continue;
    const j = source.join(r.rid);
    if (!j.prefill && !j.decode) continue;
    joined++;
    if (j.prefill) joinedPrefill++;
    if (j.decode) joinedDecode++;
    retries += j.prefill?.retries ?? 0;
    LOGGED_STAGES.forEach((st, k) => {
      const e = st.side === 'prefill' ? j.prefill : j.decode;
      const v = e ? st.pick(e) : undefined;
      if (v !== undefined && Number.isFinite(v)) values[k].push(v);
    });
  }
  if (joined === 0) return undefined;
  const stages = LOGGED_STAGES.map((st, k): LoggedStage => {
    const v = values[k].sort((a, b) => a - b);
    const has = v.length > 0;
    return { id: st.id, label: st.label, side: st.side, n: v.length, meanMs: has ? mean(v) : null, p50Ms: has ? percentileSorted(v, 50) : null, p99Ms: has ? percentileSorted(v, 99) : null, source: st.source };
  });
  return { source: REQUEST_LOG_SOURCE, of, joined, joinedPrefill, joinedDecode, stages, retries };
}

function requestLogNotes(logged: LoggedPdTimes | undefined, o: RequestLogOptions): string[] {
  const how = `Per-request PD breakdown (bootstrap, alloc wait, prefill queue and forward, KV transfer, decode prealloc queue and queue): SGLang prints it per request in the server log when prefill and decode are launched with ${REQUEST_TIME_STATS_FLAG}`;
  if (!o.source) {
    return o.flagInCommands ? [`${how}; these servers have it, but their logs were not followed: add schedLogs to the bench's collect list.`] : [`${how}, read when the bench collects schedLogs.`];
  }
  if (o.source.seen === 0) {
    return o.flagInCommands === true
      ? [`${how}; these servers were launched with it, yet their followed logs printed no per-request line during the run.`]
      : [`${how}: the servers' logs were followed but printed no per-request line, so the flag is absent; launch prefill and decode with ${REQUEST_TIME_STATS_FLAG}.`];
  }
  if (!logged) return [`Per-request PD breakdown (${REQUEST_LOG_SOURCE}): the servers logged requests, but none carried a request id of this run (the client keeps meta_info.id / the OpenAI id).`];
  const notes: string[] = [];
  if (logged.joined < logged.of) notes.push(`Per-request PD breakdown (${REQUEST_LOG_SOURCE}): ${logged.joined} of ${logged.of} completed requests were found in the server logs; the figures are over those.`);
  if (logged.joinedPrefill < logged.joined) notes.push(`Per-request PD breakdown: ${logged.joined - logged.joinedPrefill} joined request(s) have no prefill line (the decode line carries no bootstrap_room, or the prefill's log was not followed).`);
  if (logged.retries > 0) notes.push(`Per-request PD breakdown: the prefill servers retried ${logged.retries} time(s) over these requests (#retries).`);
  return notes;
}

/** the response time stats of the completed records (undefined when none carried any) */
export function perRequestTimes(records: readonly RequestRecord[]): PerRequestTimes | undefined {
  let n = 0;
  let of = 0;
  const sums = { queue: [0, 0], kvWait: [0, 0], inference: [0, 0], launch: [0, 0] };
  const add = (k: keyof typeof sums, v: number | undefined | null): void => {
    if (v === undefined || v === null || !Number.isFinite(v)) return;
    sums[k][0] += v;
    sums[k][1]++;
  };
  for (const r of records) {
    if (!r.ok || r.warmup) continue;
    of++;
    const t = r.serverTimes;
    if (!t) continue;
    n++;
    add('queue', t.queueTime !== undefined ? t.queueTime * 1000 : undefined);
    if (t.forwardEntryTime !== undefined && t.requestReceivedTs !== undefined && t.queueTime !== undefined) add('kvWait', (t.forwardEntryTime - t.queueTime - t.requestReceivedTs) * 1000);
    add('inference', t.inferenceTime !== undefined ? t.inferenceTime * 1000 : undefined);
    add('launch', t.prefillLaunchLatency !== undefined ? t.prefillLaunchLatency * 1000 : undefined);
  }
  if (n === 0) return undefined;
  const mean = (k: keyof typeof sums): number | null => (sums[k][1] > 0 ? sums[k][0] / sums[k][1] : null);
  return { requests: n, of, queueMs: mean('queue'), kvWaitMs: mean('kvWait'), inferenceMs: mean('inference'), prefillLaunchMs: mean('launch') };
}

/** median gap between consecutive text chunks over the completed records, ms */
function clientItlMedian(records: readonly RequestRecord[]): number | null {
  const gaps: number[] = [];
  for (const r of records) {
    if (!r.ok || r.warmup) continue;
    let prev = -1;
    for (let k = 0; k < r.chunkMs.length && gaps.length < 200_000; k++) {
      if (r.chunkChars[k] <= 0) continue;
      if (prev >= 0) gaps.push(r.chunkMs[k] - prev);
      prev = r.chunkMs[k];
    }
  }
  if (gaps.length === 0) return null;
  gaps.sort((a, b) => a - b);
  const m = gaps.length >> 1;
  return gaps.length % 2 ? gaps[m] : (gaps[m - 1] + gaps[m]) / 2;
}
