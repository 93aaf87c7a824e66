import type { RequestRecord } from './record';
import type { DerivedRequest } from './definitions';
import type { RunSummary } from './summary';
import { percentile } from './stats';
import { emptyTally, tallyRecord, type ValidityTally } from './columns';

export type CheckLevel = 'ok' | 'info' | 'warn' | 'error';

/** One validity signal; the bench cell turns these into badges on top of its output. */
export interface ValidityCheck {
  /** `server-gate`: the servers' own counters failed the run (metrics/run-gate.ts, stored as gate.json) */
  id: 'client-saturated' | 'rate' | 'warm-cache' | 'token-counts' | 'error-rate' | 'outputs' | 'accuracy' | 'server-gate';
  level: CheckLevel;
  text: string;
  detail: string;
  value?: number;
}

/** How busy the client process was during the run (measured by the runner). */
export interface ClientHealth {
  /** event-loop delay percentiles over the run, ms (the worst worker's) */
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  /** CPU time / wall time of this process, percent of one core (all its threads) */
  cpuPct: number;
  /** the busiest load thread's event-loop utilization (0..1): near 1, stamps wait for the loop */
  loopUtilization?: number;
  /** load threads (workers) and client nodes that drove the run */
  workers?: number;
  /** requests that waited for a socket because the client's own socket cap was reached */
  socketCapWaits?: number;
  /** per worker or client shard, for the saturation detail */
  shards?: {
    name: string;
    eventLoopDelayP99Ms: number;
    eventLoopDelayMaxMs: number;
    loopUtilization: number;
    requests: number;
    /** client nodes: the node's clock minus the owner's, and the round trip it was measured over (exact to half of it) */
    clockOffsetMs?: number;
    clockRttMs?: number;
  }[];
}

/** event-loop delay at which TTFT/ITL stamps are late enough to matter (p99 / worst stall), ms */
export const LOOP_DELAY_P99_WARN_MS = 5;
export const LOOP_DELAY_MAX_WARN_MS = 25;
/** a load thread busier than this cannot stamp arrivals on time */
export const LOOP_UTILIZATION_WARN = 0.9;

export interface ValidityInput {
  summary: RunSummary;
  /** non-warmup records, same order as `derived` (or their `tally`, for runs kept as columns) */
  records?: readonly RequestRecord[];
  derived?: readonly DerivedRequest[];
  tally?: ValidityTally;
  /** target request rate, Infinity for all-at-once / closed loop */
  requestRate: number;
  maxConcurrency?: number;
  /** trace replay: the schedule comes from a file */
  traceReplay?: boolean;
  datasetName: string;
  cacheBust: boolean;
  /** requests asked the server to ignore EOS, so every output should be exactly max tokens */
  ignoreEos: boolean;
  client?: ClientHealth;
}

const fmt = (x: number, digits = 1): string => x.toFixed(digits);
const pct = (x: number): string => `${fmt(x * 100)}%`;

interface Tallied extends ValidityInput {
  tally: ValidityTally;
}

export function validityChecks(input: ValidityInput): ValidityCheck[] {
  const t: Tallied = { ...input, tally: input.tally ?? tallyOf(input) };
  return [clientSaturation(t), rateDelivery(t), warmCache(t), tokenCounts(t), errorRate(t), outputQuality(t), accuracy(t)].filter((c): c is ValidityCheck => c !== undefined);
}

function tallyOf(input: ValidityInput): ValidityTally {
  const t = emptyTally();
  const recs = input.records ?? [];
  const derived = input.derived ?? [];
  for (let i = 0; i < recs.length; i++) tallyRecord(t, recs[i], derived[i] ?? { ok: recs[i].ok, ttftMs: 0, latencyMs: 0, itlMs: [], outputLen: 0, promptLen: 0, tpotMs: null, startMs: 0, queueMs: 0 }, input.ignoreEos);
  return t;
}

/**
 * The client itself was the bottleneck: requests left late, its event loop stalled (every
 * arrival stamped during a stall is late by as much, so TTFT/ITL tails are wrong), a load thread
 * was busy nearly all the time, it ran out of sockets, or it failed requests itself.
 */
function clientSaturation(input: Tallied): ValidityCheck {
  const lagP99 = input.summary.dispatchLagMs.p['p99'] ?? percentileOrZero((input.records ?? []).map((r) => r.dispatchedMs - r.scheduledMs), 99);
  const loop = input.client;
  const paced = Number.isFinite(input.requestRate) || input.traceReplay === true;
  const problems: string[] = [];
  let level: CheckLevel = 'ok';
  const raise = (to: CheckLevel): void => {
    if (to === 'error' || level === 'ok') level = to;
  };
  const t = input.tally;
  if (t.clientErrors > 0) {
    problems.push(`${t.clientErrors} request(s) failed in the client itself (${t.clientErrorSamples.slice(0, 2).map((e) => e[1]).join(' | ')}); they are not server errors, and the run is not valid`);
    raise('error');
  }
  if (paced && lagP99 > 5) {
    problems.push(`dispatch lag p99 ${fmt(lagP99, 2)} ms`);
    raise(lagP99 > 50 ? 'error' : 'warn');
  }
  if (loop && (loop.eventLoopDelayP99Ms > LOOP_DELAY_P99_WARN_MS || loop.eventLoopDelayMaxMs > LOOP_DELAY_MAX_WARN_MS)) {
    problems.push(`event-loop delay p99 ${fmt(loop.eventLoopDelayP99Ms)} ms, worst stall ${fmt(loop.eventLoopDelayMaxMs)} ms (TTFT/ITL stamps taken then are late by as much)`);
    raise('warn');
  }
  if (loop?.loopUtilization !== undefined && loop.loopUtilization > LOOP_UTILIZATION_WARN) {
    problems.push(`busiest load thread ${fmt(loop.loopUtilization * 100, 0)}% busy`);
    raise('warn');
  }
  // one load thread: its process CPU is that thread's; with several, loopUtilization says it per thread
  if (loop && (loop.workers ?? 1) <= 1 && loop.cpuPct > 90) {
    problems.push(`client process at ${fmt(loop.cpuPct, 0)}% of a core`);
    raise('warn');
  }
  if (loop?.socketCapWaits) {
    problems.push(`${loop.socketCapWaits} request(s) waited for the client's socket cap, set below the open-file limit (counted as client queue time; Node raises its soft limit to the hard one at start, so raise the hard limit, ulimit -Hn, or add client nodes)`);
    raise('warn');
  }
  const worst = loop?.shards?.length ? [...loop.shards].sort((a, b) => b.eventLoopDelayMaxMs - a.eventLoopDelayMaxMs)[0] : undefined;
  const facts = [
    paced ? `dispatch lag p99 ${fmt(lagP99, 3)} ms` : 'no pacing (all requests due at once)',
    loop ? `event-loop delay p99 ${fmt(loop.eventLoopDelayP99Ms, 2)} ms, max ${fmt(loop.eventLoopDelayMaxMs, 1)} ms` : undefined,
    loop?.loopUtilization !== undefined ? `busiest load thread ${fmt(loop.loopUtilization * 100, 0)}%` : undefined,
    loop?.workers !== undefined ? `${loop.workers} load thread(s)` : undefined,
    worst && (loop?.shards?.length ?? 0) > 1 ? `worst: ${worst.name}` : undefined,
    loop ? `client CPU ${fmt(loop.cpuPct, 0)}%` : undefined,
  ].filter((s): s is string => s !== undefined);
  return level === 'ok'
    ? { id: 'client-saturated', level, text: 'client kept up', detail: facts.join('; '), value: lagP99 }
    : { id: 'client-saturated', level, text: t.clientErrors > 0 ? 'client failed requests' : 'client saturated', detail: `${problems.join('; ')}. ${facts.join('; ')}. Add load threads (workers) or client nodes, or run the client on a less busy host.`, value: lagP99 };
}

function percentileOrZero(values: number[], p: number): number {
  return values.length ? percentile(values, p) : 0;
}

/** Requests did not reach the server at the rate asked for. */
function rateDelivery(input: Tallied): ValidityCheck | undefined {
  const t = input.tally;
  if (!Number.isFinite(input.requestRate) || t.measured < 2) return undefined;
  const spanStart = (t.maxStart - t.minStart) / 1000;
  const spanPlan = (t.maxScheduled - t.minScheduled) / 1000;
  if (spanStart <= 0 || spanPlan <= 0) return undefined;
  const achieved = (t.measured - 1) / spanStart;
  const planned = (t.measured - 1) / spanPlan;
  const ratio = achieved / input.requestRate;
  const detail = `sent ${fmt(achieved, 2)} req/s against a target of ${fmt(input.requestRate, 2)} (the sampled schedule itself averaged ${fmt(planned, 2)})`;
  if (achieved >= planned * 0.95) return { id: 'rate', level: 'ok', text: `rate ${pct(ratio)} of target`, detail, value: achieved };
  const queue = input.summary.clientQueueMs.mean ?? 0;
  const why =
    input.maxConcurrency !== undefined && queue > 1
      ? `the max-concurrency cap (${input.maxConcurrency}) held requests back: mean client queue time ${fmt(queue)} ms.`
      : 'the client could not send fast enough.';
  return { id: 'rate', level: 'warn', text: 'rate under-delivered', detail: `${detail}; ${why}`, value: achieved };
}

/** A random dataset should not hit the prefix cache; when it does, throughput is inflated. */
function warmCache(input: Tallied): ValidityCheck | undefined {
  const { cachedTokens: cached, cachedPrompt: prompt, cachedReported: reported } = input.tally;
  if (reported === 0 || prompt === 0) return undefined;
  const share = cached / prompt;
  const randomData = input.datasetName === 'random' || input.datasetName === 'random-ids';
  const detail = `${cached} of ${prompt} prompt tokens (${pct(share)}) came from the prefix cache`;
  if (!randomData) return { id: 'warm-cache', level: 'info', text: `prefix cache ${pct(share)}`, detail, value: share };
  if (share > 0.1) {
    return {
      id: 'warm-cache',
      level: 'warn',
      text: 'prefix cache warm',
      detail: `${detail}; a random workload should not reuse prefixes, so throughput and TTFT are flattered. Set workload.cacheBust, change the seed, or flush the cache between runs.`,
      value: share,
    };
  }
  return { id: 'warm-cache', level: 'ok', text: 'cache cold', detail, value: share };
}

/** Server-reported token counts against what was asked for. */
function tokenCounts(input: Tallied): ValidityCheck | undefined {
  const t = input.tally;
  const ok = { length: t.recOk };
  if (ok.length === 0) return undefined;
  const problems: string[] = [];
  const missing = t.missingUsage;
  if (missing > 0) problems.push(`${missing} of ${ok.length} responses carried no token usage (output counts fall back to the requested length)`);
  if (input.ignoreEos && t.eosOff > 0) {
    problems.push(`${t.eosOff} of ${ok.length} outputs were not the requested length (${t.eosShort} shorter) although ignore_eos was set`);
  }
  let promptDrift = 0;
  if (t.promptReported > 0) {
    const serverMean = t.serverPromptSum / t.promptReported;
    const datasetMean = t.datasetPromptSum / t.promptReported;
    promptDrift = datasetMean > 0 ? (serverMean - datasetMean) / datasetMean : 0;
    if (Math.abs(promptDrift) > 0.1) {
      problems.push(`server counted ${fmt(serverMean)} prompt tokens per request on average, the dataset intended ${fmt(datasetMean)} (${promptDrift > 0 ? '+' : ''}${pct(promptDrift)}); input throughput uses the dataset's count`);
    }
  }
  if (problems.length === 0) {
    return { id: 'token-counts', level: 'ok', text: 'token counts agree', detail: `server usage matches the requested lengths for ${ok.length} requests` };
  }
  return { id: 'token-counts', level: 'warn', text: 'token counts disagree', detail: problems.join('; '), value: promptDrift };
}

function errorRate(input: Tallied): ValidityCheck {
  const total = input.summary.completed + input.summary.failed;
  const failed = { length: input.tally.failed };
  const rate = total > 0 ? failed.length / total : 0;
  if (failed.length === 0) return { id: 'error-rate', level: 'ok', text: 'no errors', detail: `${total} requests, none failed`, value: 0 };
  const distinct = input.tally.errors.slice(0, 3).map((e) => e[1]);
  return {
    id: 'error-rate',
    level: rate > 0.01 ? 'error' : 'warn',
    text: `${pct(rate)} errors`,
    detail: `${failed.length} of ${total} requests failed and are excluded from every metric. First errors: ${distinct.join(' | ')}`,
    value: rate,
  };
}

function outputQuality(input: Tallied): ValidityCheck | undefined {
  const ok = { length: input.tally.recOk };
  if (ok.length === 0) return undefined;
  const empty = input.tally.emptyOutputs;
  const repetitive = input.tally.repetitiveOutputs;
  const parts: string[] = [];
  if (empty > 0) parts.push(`${empty} of ${ok.length} outputs were empty`);
  if (repetitive > 0) parts.push(`${repetitive} of ${ok.length} outputs repeat themselves (over half of their 4-grams are repeats)`);
  if (parts.length === 0) return { id: 'outputs', level: 'ok', text: 'outputs look sane', detail: `no empty or looping outputs among ${ok.length}` };
  const share = (empty + repetitive) / ok.length;
  return { id: 'outputs', level: share > 0.1 || empty > 0 ? 'warn' : 'info', text: empty > 0 ? 'empty outputs' : 'repeated outputs', detail: parts.join('; '), value: share };
}

function accuracy(input: Tallied): ValidityCheck | undefined {
  const graded = { length: input.tally.graded };
  if (graded.length === 0) return undefined;
  const kind = input.tally.answerKind ?? 'gsm8k';
  const correct = input.tally.correct;
  const share = correct / graded.length;
  const label = kind === 'mmlu' ? 'MMLU' : 'GSM8K';
  return {
    id: 'accuracy',
    level: correct === 0 ? 'warn' : 'info',
    text: `${label} accuracy ${pct(share)}`,
    detail: `${correct} of ${graded.length} answers correct${correct === 0 ? ' — a deployment that answers nothing right is likely broken (or the emulator, which does not reason)' : ''}`,
    value: share,
  };
}
