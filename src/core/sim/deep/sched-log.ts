/**
 * SGLang scheduler log lines as the emulator prints them: the v0.5.5+ format (see
 * src/core/telemetry/deep/sglang-log/formats.ts, which parses every supported version).
 * One line per DP rank, prefixed `[time DP<d> TP<t> EP<e>]` like SGLang's scheduler processes.
 */
export interface RankPrefixShape {
  dpSize: number;
  tpSize: number;
  epSize: number;
  enableDpAttention: boolean;
}

function stamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** SGLang's logger prefix for the scheduler of DP rank `rank` (its first TP rank) */
export function schedulerPrefix(shape: RankPrefixShape, rank: number, now = new Date()): string {
  const tpPerDp = Math.max(1, Math.floor(shape.tpSize / Math.max(1, shape.dpSize)));
  const tpRank = rank * tpPerDp;
  let tags = '';
  if (shape.enableDpAttention && shape.dpSize > 1) tags += ` DP${rank}`;
  if (shape.tpSize > 1) tags += ` TP${tpRank}`;
  if (shape.epSize > 1) tags += ` EP${tpRank}`;
  return `[${stamp(now)}${tags}]`;
}

export interface DecodeLogFields {
  runningReqs: number;
  usedTokens: number;
  tokenUsage: number;
  genThroughput: number;
  queueReqs: number;
  cudaGraph: boolean;
  /** PD decode only */
  pd?: { preallocatedUsage: number; preallocReqs: number; transferReqs: number; retractedReqs: number };
}

export function decodeBatchLine(f: DecodeLogFields): string {
  let msg = `Decode batch, #running-req: ${f.runningReqs}, #token: ${f.usedTokens}, token usage: ${f.tokenUsage.toFixed(2)}, `;
  if (f.pd) msg += `pre-allocated usage: ${f.pd.preallocatedUsage.toFixed(2)}, #prealloc-req: ${f.pd.preallocReqs}, #transfer-req: ${f.pd.transferReqs}, #retracted-req: ${f.pd.retractedReqs}, `;
  return `${msg}cuda graph: ${f.cudaGraph ? 'True' : 'False'}, gen throughput (token/s): ${f.genThroughput.toFixed(2)}, #queue-req: ${f.queueReqs}, `;
}

export interface PrefillLogFields {
  newSeqs: number;
  newTokens: number;
  cachedTokens: number;
  tokenUsage: number;
  runningReqs: number;
  queueReqs: number;
  /** PD prefill only */
  pd?: { bootstrapReqs: number; inflightReqs: number; inputThroughput: number };
}

export function prefillBatchLine(f: PrefillLogFields): string {
  let msg = `Prefill batch, #new-seq: ${f.newSeqs}, #new-token: ${f.newTokens}, #cached-token: ${f.cachedTokens}, token usage: ${f.tokenUsage.toFixed(2)}, #running-req: ${f.runningReqs}, #queue-req: ${f.queueReqs}, `;
  if (f.pd) msg += `#prealloc-req: ${f.pd.bootstrapReqs}, #inflight-req: ${f.pd.inflightReqs}, input throughput (token/s): ${f.pd.inputThroughput.toFixed(2)}, `;
  return msg;
}

export function balancednessLine(passId: number, current: number, averages: readonly [number, number][]): string {
  return `[Expert Balancedness] forward_pass_id=${passId} current_pass_balancedness=${current.toFixed(3)} ${averages.map(([n, v]) => `last_${n}_average_balancedness=${v.toFixed(3)} `).join('')} gpu_physical_count_sum=0`;
}

/**
 * One finished request's time stats as SGLang logs them with --enable-request-time-stats-logging
 * (durations in ms, `start` in the server's perf_counter seconds). Format: `Req.log_time_stats`
 * (managers/schedule_batch.py, the newer `ReqTimeStats(... input_len=, cached_input_len=,
 * output_len=, type=)` head) around `SchedulerReqTimeStats.convert_to_duration`
 * (sgl-project/sglang@00ce49e05c17e08f643afab34f3cdcef14935ac0 observability/req_time_stats.py:
 * the bootstrap / alloc_wait breakdown only when bootstrap_done_time was set); the parser and
 * every generation it reads: src/core/telemetry/deep/sglang-log/req-time-stats.ts.
 */
export type ReqTimeStatsLogFields = {
  rid: string;
  bootstrapRoom: number | null;
  inputLen: number;
  cachedInputLen: number;
  outputLen: number;
  startSec: number;
} & (
  | { type: 'prefill'; bootstrapQueueMs: number; breakdown?: { bootstrapMs: number; allocWaitMs: number }; queueMs: number; forwardMs: number; transferSpeedGbS: number; transferTotalMb: number; retries: number }
  | { type: 'decode'; preallocQueueMs: number; breakdown?: { bootstrapMs: number; allocWaitMs: number }; transferMs: number; queueMs: number; forwardMs: number }
  | { type: 'unified'; queueMs: number; forwardMs: number }
);

const ms = (v: number): string => `${v.toFixed(2)}ms`;

export function reqTimeStatsLine(f: ReqTimeStatsLogFields): string {
  const room = f.bootstrapRoom !== null ? `, bootstrap_room=${f.bootstrapRoom}` : '';
  const head = `ReqTimeStats(rid=${f.rid}${room}, input_len=${f.inputLen}, cached_input_len=${f.cachedInputLen}, output_len=${f.outputLen}, type=${f.type})`;
  const breakdown = (b: { bootstrapMs: number; allocWaitMs: number } | undefined): string => (b ? `= bootstrap(${ms(b.bootstrapMs)}) + alloc_wait(${ms(b.allocWaitMs)}); ` : '');
  let body: string;
  if (f.type === 'unified') body = `queue_duration=${ms(f.queueMs)}, forward_duration=${ms(f.forwardMs)}, start_time=${f.startSec.toFixed(3)}`;
  else if (f.type === 'prefill') {
    body = `bootstrap_queue_duration(${ms(f.bootstrapQueueMs)}) ${breakdown(f.breakdown)}queue_duration=${ms(f.queueMs)}, forward_duration=${ms(f.forwardMs)}, start=${f.startSec.toFixed(3)}, transfer_speed=${f.transferSpeedGbS.toFixed(2)}GB/s, transfer_total=${f.transferTotalMb.toFixed(2)}MB, #retries=${f.retries}`;
  } else body = `prealloc_queue_duration(${ms(f.preallocQueueMs)}) ${breakdown(f.breakdown)}transfer_duration=${ms(f.transferMs)}; queue_duration=${ms(f.queueMs)}, forward_duration=${ms(f.forwardMs)}, start=${f.startSec.toFixed(3)}`;
  return `${head}: ${body}`;
}
