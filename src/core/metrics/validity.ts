import type { RequestRecord } from '../load/types';
import type { DerivedRequest } from './definitions';
import type { RunSummary } from './summary';
import { percentile } from './stats';
import { isCorrectAnswer, ngramRepetition } from './text-checks';

export type CheckLevel = 'ok' | 'info' | 'warn' | 'error';

/** One validity signal; the bench cell turns these into badges on top of its output. */
export interface ValidityCheck {
  id: 'client-saturated' | 'rate' | 'warm-cache' | 'token-counts' | 'error-rate' | 'outputs' | 'accuracy';
  level: CheckLevel;
  text: string;
  detail: string;
  value?: number;
}

/** How busy the client process was during the run (measured by the runner). */
export interface ClientHealth {
  /** event-loop delay percentiles over the run, ms */
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  /** CPU time / wall time of this process, percent of one core */
  cpuPct: number;
}

export interface ValidityInput {
  summary: RunSummary;
  /** non-warmup records, same order as `derived` */
  records: readonly RequestRecord[];
  derived: readonly DerivedRequest[];
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

export function validityChecks(input: ValidityInput): ValidityCheck[] {
  return [clientSaturation(input), rateDelivery(input), warmCache(input), tokenCounts(input), errorRate(input), outputQuality(input), accuracy(input)].filter(
    (c): c is ValidityCheck => c !== undefined,
  );
}

/** The client itself was the bottleneck: requests left late, or the event loop lagged (timestamps late). */
function clientSaturation(input: ValidityInput): ValidityCheck {
  const lagP99 = input.summary.dispatchLagMs.p['p99'] ?? percentileOrZero(input.records.map((r) => r.dispatchedMs - r.scheduledMs), 99);
  const loop = input.client;
  const paced = Number.isFinite(input.requestRate) || input.traceReplay === true;
  const problems: string[] = [];
  let level: CheckLevel = 'ok';
  if (paced && lagP99 > 5) {
    problems.push(`dispatch lag p99 ${fmt(lagP99, 2)} ms`);
    level = lagP99 > 50 ? 'error' : 'warn';
  }
  if (loop && loop.eventLoopDelayP99Ms > 10) {
    problems.push(`event-loop delay p99 ${fmt(loop.eventLoopDelayP99Ms)} ms (TTFT/ITL timestamps can be late by as much)`);
    if (level === 'ok') level = 'warn';
  }
  if (loop && loop.cpuPct > 90) {
    problems.push(`client process at ${fmt(loop.cpuPct, 0)}% of a core`);
    if (level === 'ok') level = 'warn';
  }
  const facts = [
    paced ? `dispatch lag p99 ${fmt(lagP99, 3)} ms` : 'no pacing (all requests due at once)',
    loop ? `event-loop delay p99 ${fmt(loop.eventLoopDelayP99Ms, 2)} ms, max ${fmt(loop.eventLoopDelayMaxMs, 1)} ms` : undefined,
    loop ? `client CPU ${fmt(loop.cpuPct, 0)}%` : undefined,
  ].filter((s): s is string => s !== undefined);
  return level === 'ok'
    ? { id: 'client-saturated', level, text: 'client kept up', detail: facts.join('; '), value: lagP99 }
    : { id: 'client-saturated', level, text: 'client saturated', detail: `${problems.join('; ')}. Lower the load per client process, or run the client on a less busy host.`, value: lagP99 };
}

function percentileOrZero(values: number[], p: number): number {
  return values.length ? percentile(values, p) : 0;
}

/** Requests did not reach the server at the rate asked for. */
function rateDelivery(input: ValidityInput): ValidityCheck | undefined {
  const recs = input.records;
  if (!Number.isFinite(input.requestRate) || recs.length < 2) return undefined;
  const starts = recs.map((r) => r.startMs).sort((a, b) => a - b);
  const scheduled = recs.map((r) => r.scheduledMs).sort((a, b) => a - b);
  const spanStart = (starts[starts.length - 1] - starts[0]) / 1000;
  const spanPlan = (scheduled[scheduled.length - 1] - scheduled[0]) / 1000;
  if (spanStart <= 0 || spanPlan <= 0) return undefined;
  const achieved = (recs.length - 1) / spanStart;
  const planned = (recs.length - 1) / spanPlan;
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
function warmCache(input: ValidityInput): ValidityCheck | undefined {
  let cached = 0;
  let prompt = 0;
  let reported = 0;
  for (const r of input.records) {
    if (!r.ok || r.cachedTokens === null) continue;
    reported++;
    cached += r.cachedTokens;
    prompt += r.promptTokens ?? r.promptLen;
  }
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
function tokenCounts(input: ValidityInput): ValidityCheck | undefined {
  const ok = input.records.filter((r) => r.ok);
  if (ok.length === 0) return undefined;
  const problems: string[] = [];
  const missing = ok.filter((r) => r.outputTokens === null).length;
  if (missing > 0) problems.push(`${missing} of ${ok.length} responses carried no token usage (output counts fall back to the requested length)`);
  if (input.ignoreEos) {
    const off = ok.filter((r) => r.outputTokens !== null && r.outputTokens !== r.maxTokens);
    if (off.length > 0) {
      const short = off.filter((r) => (r.outputTokens ?? 0) < r.maxTokens).length;
      problems.push(`${off.length} of ${ok.length} outputs were not the requested length (${short} shorter) although ignore_eos was set`);
    }
  }
  const withPrompt = ok.filter((r) => r.promptTokens !== null && r.promptLen > 0);
  let promptDrift = 0;
  if (withPrompt.length > 0) {
    const serverMean = withPrompt.reduce((a, r) => a + (r.promptTokens ?? 0), 0) / withPrompt.length;
    const datasetMean = withPrompt.reduce((a, r) => a + r.promptLen, 0) / withPrompt.length;
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

function errorRate(input: ValidityInput): ValidityCheck {
  const total = input.summary.completed + input.summary.failed;
  const failed = input.derived.map((d, i) => ({ d, r: input.records[i] })).filter((x) => !x.d.ok);
  const rate = total > 0 ? failed.length / total : 0;
  if (failed.length === 0) return { id: 'error-rate', level: 'ok', text: 'no errors', detail: `${total} requests, none failed`, value: 0 };
  const distinct = [...new Set(failed.map((x) => x.r.error ?? 'no content received'))].slice(0, 3);
  return {
    id: 'error-rate',
    level: rate > 0.01 ? 'error' : 'warn',
    text: `${pct(rate)} errors`,
    detail: `${failed.length} of ${total} requests failed and are excluded from every metric. First errors: ${distinct.join(' | ')}`,
    value: rate,
  };
}

function outputQuality(input: ValidityInput): ValidityCheck | undefined {
  const ok = input.records.filter((r) => r.ok);
  if (ok.length === 0) return undefined;
  const empty = ok.filter((r) => r.text.trim().length === 0).length;
  const repetitive = ok.filter((r) => ngramRepetition(r.text) > 0.5).length;
  const parts: string[] = [];
  if (empty > 0) parts.push(`${empty} of ${ok.length} outputs were empty`);
  if (repetitive > 0) parts.push(`${repetitive} of ${ok.length} outputs repeat themselves (over half of their 4-grams are repeats)`);
  if (parts.length === 0) return { id: 'outputs', level: 'ok', text: 'outputs look sane', detail: `no empty or looping outputs among ${ok.length}` };
  const share = (empty + repetitive) / ok.length;
  return { id: 'outputs', level: share > 0.1 || empty > 0 ? 'warn' : 'info', text: empty > 0 ? 'empty outputs' : 'repeated outputs', detail: parts.join('; '), value: share };
}

function accuracy(input: ValidityInput): ValidityCheck | undefined {
  const graded = input.records.filter((r) => r.ok && r.answer !== undefined && r.answerKind !== undefined);
  if (graded.length === 0) return undefined;
  const kind = graded[0].answerKind ?? 'gsm8k';
  const correct = graded.filter((r) => isCorrectAnswer(r.answerKind ?? kind, r.answer ?? '', r.text)).length;
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
