import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Engine, EngineTimes, JobHandle } from '../engine/types';
import type { FaultInjector, StreamFaults } from '../faults';
import type { SglangMetrics } from '../sglang-metrics';
import { DONE_EVENT, EMIT_FIELD, createFormatter, emitStamp, type JobFormatter, type Progress, type StreamContext } from './format';
import { decideOutcome, type Outcome } from './outcome';
import type { GenRequest, ParsedCall } from './request';

/** header on every emulator response: the output is simulated */
export const SIM_HEADER = 'x-moebench-simulated';

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  [SIM_HEADER]: 'true',
} as const;

/** tokens per socket write in zero-cost mode; one write per batch keeps syscalls few */
const ZERO_COST_BATCH_BYTES = 16 * 1024;

export interface CallEnv {
  seed: number;
  contextLength: number;
  cacheReport: boolean;
  metrics: SglangMetrics | null;
  faults: FaultInjector | null;
  /** null = zero-cost mode */
  engine: Engine | null;
  /** a PD prefill server answers with the first token only */
  role: 'unified' | 'prefill' | 'decode';
  /** +1 when a generation starts, -1 when it ends (busy tracking for telemetry) */
  activity(delta: number): void;
  /** --reasoning-parser given: chat separates thinking (reasoning_content) from the answer */
  reasoning?: boolean;
  /** --speculative-algorithm given: speculative_num_draft_tokens (per-request acceptance in meta_info) */
  specDraftTokens?: number;
  /**
   * per-request time stats in /generate meta_info (--enable-metrics, with an engine: zero-cost
   * mode has no scheduler to time), in the field names of the claimed release's layout
   */
  timeStats?: 'current' | 'legacy' | null;
  /**
   * speculative totals since start or the last /flush_cache: /server_info's avg_spec_accept_length
   * (what bench_serving reports as "Accept length") and the spec_accept_* gauges come from them
   */
  specTotals?: SpecTotals;
}

export interface SpecTotals {
  tokens: number;
  passes: number;
  correct: number;
  proposed: number;
}

interface Job {
  req: GenRequest;
  outcome: Outcome;
  fmt: JobFormatter;
  arrivalMs: number;
  firstTokenMs: number;
  lastTokenMs: number;
  cached: number;
  /** the scheduler's stamps (engine modes with time stats on) */
  times?: EngineTimes;
}

function makeJobs(call: ParsedCall, env: CallEnv, ctx: StreamContext, arrivalMs: number): Job[] {
  return call.requests.map((req) => {
    let outcome = decideOutcome(req, env.seed, env.contextLength, { reasoning: env.reasoning, specDraftTokens: env.specDraftTokens });
    if (env.role === 'prefill' && outcome.outputTokens > 1) outcome = { ...outcome, outputTokens: 1, finish: { type: 'length', length: 1 }, reasoningTokens: 0, spec: undefined };
    const job: Job = { req, outcome, fmt: createFormatter(call.api, req, outcome, ctx), arrivalMs, firstTokenMs: 0, lastTokenMs: 0, cached: 0 };
    // a unified or prefill scheduler queues the request on arrival (no tokenizer delay here); a
    // decode scheduler's wait queue starts when the KV has arrived (the scheduler stamps it)
    if (env.timeStats && env.engine) job.times = { waitQueueEntryMs: env.role === 'decode' ? 0 : arrivalMs, forwardEntryMs: 0, prefillRunStartMs: 0, prefillRunEndMs: 0, prefillFinishedMs: 0 };
    return job;
  });
}

function progressOf(job: Job, nowMs: number, env?: CallEnv, final = false): Progress {
  const p: Progress = { cachedTokens: job.cached, e2eLatencySec: Math.round((nowMs - job.arrivalMs) * 1e3) / 1e6 };
  if (env && (job.times || (final && job.outcome.spec))) p.meta = metaExtras(job, nowMs, env, final);
  return p;
}

const epochSec = (ms: number): number => Math.round((performance.timeOrigin + ms) * 1e3) / 1e6;
const sec = (ms: number): number => Math.round(ms * 1e3) / 1e6;

/**
 * meta_info's per-request extras, as SGLang builds them in TokenizerManager._handle_batch_output
 * (managers/tokenizer_manager.py @001067ff): with --enable-metrics the scheduler's time stats on
 * every chunk (SchedulerReqTimeStats.convert_to_output_meta_info, observability/req_time_stats.py
 * @00ce49e0: forward_entry_time and prefill_finished_time as epoch seconds when reached,
 * queue_time, prefill_waiting_latency, prefill_launch_latency); at finish the speculative figures
 * (_calculate_spec_decoding_metrics) and the API server's stamps (request_received_ts,
 * api_server_dispatch_finish_ts, request_finished_ts, inference_time, decode_throughput). The
 * legacy layout (releases before the observability/ refactor) sends queue_time,
 * prefill_launch_delay and prefill_launch_latency per chunk (`_add_metric_if_present` in the older
 * tokenizer_manager.py) and spec_accept_token_num / spec_draft_token_num at finish; its
 * finish-time stamps are not emulated.
 */
function metaExtras(job: Job, nowMs: number, env: CallEnv, final: boolean): { sched: Record<string, number | null>; finish: Record<string, number | null> } {
  const sched: Record<string, number | null> = {};
  const finish: Record<string, number | null> = {};
  const t = job.times;
  const legacy = env.timeStats === 'legacy';
  if (t) {
    const waiting = t.prefillRunStartMs > 0 && t.forwardEntryMs > 0 ? sec(t.prefillRunStartMs - t.forwardEntryMs) : null;
    const launch = t.prefillRunStartMs > 0 && t.prefillRunEndMs > 0 ? sec(t.prefillRunEndMs - t.prefillRunStartMs) : null;
    if (legacy) {
      sched.queue_time = sec(t.forwardEntryMs - t.waitQueueEntryMs);
      if (waiting !== null) sched.prefill_launch_delay = waiting;
      if (launch !== null) sched.prefill_launch_latency = launch;
    } else {
      if (t.forwardEntryMs > 0) sched.forward_entry_time = epochSec(t.forwardEntryMs);
      if (t.prefillFinishedMs > 0) sched.prefill_finished_time = epochSec(t.prefillFinishedMs);
      sched.queue_time = sec(t.forwardEntryMs - t.waitQueueEntryMs);
      sched.prefill_waiting_latency = waiting;
      sched.prefill_launch_latency = launch;
    }
  }
  if (!final) return { sched, finish };
  const spec = job.outcome.spec;
  if (spec && spec.verifyCt > 0) {
    const proposed = spec.verifyCt * (spec.draftTokens - 1);
    finish.spec_accept_rate = proposed > 0 ? spec.correctDrafts / proposed : 0;
    finish.spec_accept_length = job.outcome.outputTokens / spec.verifyCt;
    if (legacy) {
      finish.spec_accept_token_num = spec.correctDrafts;
      finish.spec_draft_token_num = proposed;
      finish.spec_verify_ct = spec.verifyCt;
    } else {
      finish.spec_num_correct_drafts = spec.correctDrafts;
      finish.spec_num_proposed_drafts = proposed;
      finish.spec_verify_ct = spec.verifyCt;
      finish.spec_accepted_drafts = spec.correctDrafts;
      finish.spec_proposed_drafts = proposed;
    }
  }
  if (t && !legacy) {
    finish.request_received_ts = epochSec(job.arrivalMs);
    finish.api_server_dispatch_finish_ts = epochSec(job.arrivalMs);
    finish.request_finished_ts = epochSec(nowMs);
    if (t.forwardEntryMs > 0) finish.inference_time = sec(nowMs - t.forwardEntryMs);
    const decodeMs = nowMs - job.firstTokenMs;
    if (job.firstTokenMs > 0 && decodeMs > 0 && job.outcome.outputTokens > 0) finish.decode_throughput = job.outcome.outputTokens / (decodeMs / 1000);
  }
  return { sched, finish };
}

function recordFinished(env: CallEnv, job: Job, nowMs: number, streaming: boolean): void {
  env.metrics?.observeFinished({ promptTokens: job.req.promptTokens, outputTokens: job.outcome.outputTokens, cachedTokens: job.cached, e2eSec: (nowMs - job.arrivalMs) / 1000, streaming });
  const spec = job.outcome.spec;
  const t = env.specTotals;
  if (!spec || !t || spec.verifyCt <= 0) return;
  t.tokens += job.outcome.outputTokens;
  t.passes += spec.verifyCt;
  t.correct += spec.correctDrafts;
  t.proposed += spec.verifyCt * (spec.draftTokens - 1);
  // SGLang's gauges cover the scheduler's recent window; here: everything since the last flush
  const m = env.metrics;
  if (m) {
    for (const l of m.rankLabels) {
      m.specAcceptLength.set(l, t.tokens / t.passes);
      if (t.proposed > 0) m.specAcceptRate.set(l, t.correct / t.proposed);
    }
  }
}

function recordFirstToken(env: CallEnv, job: Job, nowMs: number, streaming: boolean): void {
  env.metrics?.observeFirstToken((nowMs - job.arrivalMs) / 1000, streaming);
}

/** one ITL observation per chunk, SGLang's rule: sum += interval, bucket(interval/n) += n */
function recordChunk(env: CallEnv, intervalMs: number, tokens: number): void {
  if (!env.metrics || tokens <= 0) return;
  env.metrics.itl.observe(env.metrics.requestLabels, intervalMs / 1000 / tokens, tokens, intervalMs / 1000);
}

function streamErrorEvent(call: ParsedCall, message: string, status: number): string {
  if (call.api === 'generate') return `data: ${JSON.stringify({ error: { message } })}\n\n`;
  return `data: ${JSON.stringify({ object: 'error', message, type: status >= 500 ? 'InternalServerError' : 'BadRequestError', param: null, code: status })}\n\n`;
}

/** the socket closes after what was written is flushed, with no terminating chunk: a dropped stream */
function dropConnection(res: ServerResponse): void {
  const socket = res.socket;
  if (socket) socket.destroySoon();
  else res.destroy();
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), [SIM_HEADER]: 'true' });
  res.end(text);
}

/**
 * Answers one generation call (any API, stream or not) in zero-cost mode or through the
 * performance model.
 */
export function serveCall(req: IncomingMessage, res: ServerResponse, call: ParsedCall, env: CallEnv): void {
  const arrivalMs = performance.now();
  const ctx: StreamContext = {
    model: call.model,
    created: Math.floor(Date.now() / 1000),
    includeUsage: call.includeUsage,
    continuousUsage: call.continuousUsage,
    cacheReport: env.cacheReport,
    batch: call.batch,
    reasoning: env.reasoning === true,
  };
  const jobs = makeJobs(call, env, ctx, arrivalMs);
  const streamFaults = env.faults?.streamFaults() ?? null;
  env.activity(1);
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    env.activity(-1);
  };
  res.on('close', finish);
  if (env.engine === null) {
    if (call.stream) pumpZeroCost(res, call, jobs, env, streamFaults, finish);
    else {
      const now = performance.now();
      for (const j of jobs) {
        j.firstTokenMs = now;
        recordFirstToken(env, j, now, false);
        recordFinished(env, j, now, false);
      }
      respondWhole(res, call, jobs, now, env);
      finish();
    }
    return;
  }
  runOnEngine(req, res, call, jobs, env, env.engine, streamFaults, finish);
}

function respondWhole(res: ServerResponse, call: ParsedCall, jobs: Job[], nowMs: number, env?: CallEnv): void {
  const bodies = jobs.map((j) => {
    const b = j.fmt.whole(progressOf(j, nowMs, env, true));
    b[EMIT_FIELD] = Number(emitStamp());
    return b;
  });
  if (call.api === 'generate') {
    sendJson(res, 200, call.batch ? bodies : bodies[0]);
    return;
  }
  // OpenAI batch (n > 1 or several prompts): one response whose choices are all the jobs
  const first = bodies[0];
  if (jobs.length > 1) {
    first.choices = bodies.flatMap((b) => (Array.isArray(b.choices) ? b.choices : []));
    let completion = 0;
    let prompt = 0;
    for (const j of jobs) {
      completion += j.outcome.outputTokens;
      prompt += j.req.promptTokens;
    }
    first.usage = { prompt_tokens: prompt, total_tokens: prompt + completion, completion_tokens: completion, prompt_tokens_details: null, reasoning_tokens: 0 };
  }
  sendJson(res, 200, first);
}

/**
 * Zero-cost streaming: every token is ready at once; the only limit is the socket. Events are
 * written in ~16 KiB batches; when the socket's buffer is full we wait for 'drain'; after
 * each batch we yield (setImmediate) so thousands of streams share the event loop fairly.
 */
function pumpZeroCost(res: ServerResponse, call: ParsedCall, jobs: Job[], env: CallEnv, faults: StreamFaults | null, finish: () => void): void {
  res.writeHead(200, SSE_HEADERS);
  let jobIndex = 0;
  let sent = 0;
  let started = false;
  let stalled = false;
  let lastWriteMs = performance.now();
  const step = (): void => {
    if (res.destroyed) return;
    let bytes = 0;
    const stamp = emitStamp();
    const now = performance.now();
    let out = '';
    while (jobIndex < jobs.length && bytes < ZERO_COST_BATCH_BYTES) {
      const job = jobs[jobIndex];
      if (!started) {
        started = true;
        out += job.fmt.start(stamp);
      }
      const total = job.outcome.outputTokens;
      if (faults?.dropAt != null && sent >= faults.dropAt) {
        if (out) res.write(out);
        env.metrics?.numAbortedRequests.inc(env.metrics.requestLabels);
        dropConnection(res);
        finish();
        return;
      }
      if (faults?.stallAt != null && !stalled && sent >= faults.stallAt) {
        stalled = true;
        if (out) res.write(out);
        // a stalled stream whose client or server went away must not keep the process alive
        const resume = setTimeout(step, faults.stallMs);
        res.once('close', () => clearTimeout(resume));
        return;
      }
      let limit = total;
      if (faults?.dropAt != null) limit = Math.min(limit, faults.dropAt);
      if (faults?.stallAt != null && !stalled) limit = Math.min(limit, faults.stallAt);
      // grow the batch until it is ~16 KiB (8 tokens first to learn the event size)
      let n = Math.min(limit - sent, 8);
      while (n > 0) {
        const chunk = job.fmt.tokens(sent, sent + n, sent + n === total, progressOf(job, now, env, sent + n === total), stamp);
        if (sent === 0) {
          job.firstTokenMs = now;
          recordFirstToken(env, job, now, true);
          recordChunk(env, 0, n - 1);
        } else recordChunk(env, now - lastWriteMs, n);
        sent += n;
        out += chunk;
        bytes += chunk.length;
        const per = chunk.length / n;
        n = Math.min(limit - sent, Math.max(1, Math.floor((ZERO_COST_BATCH_BYTES - bytes) / per)));
        if (bytes >= ZERO_COST_BATCH_BYTES) break;
      }
      if (sent >= total) {
        out += job.fmt.end(progressOf(job, now), stamp);
        recordFinished(env, job, now, true);
        jobIndex++;
        sent = 0;
        started = false;
      } else if (sent >= limit) {
        continue;
      }
    }
    lastWriteMs = now;
    if (jobIndex >= jobs.length) {
      res.end(out + DONE_EVENT);
      finish();
      return;
    }
    if (res.write(out)) setImmediate(step);
    else res.once('drain', step);
  };
  step();
}

/** Streams or collects a call whose tokens come from the performance model. */
function runOnEngine(req: IncomingMessage, res: ServerResponse, call: ParsedCall, jobs: Job[], env: CallEnv, engine: Engine, faults: StreamFaults | null, finish: () => void): void {
  const handles: JobHandle[] = [];
  let remaining = jobs.length;
  let headersSent = false;
  let failed = false;
  const sentPerJob = new Array<number>(jobs.length).fill(0);
  let stalledUntilMs = 0;
  let stallDone = false;
  const pending: string[] = [];
  const ensureHead = (): void => {
    if (headersSent) return;
    headersSent = true;
    res.writeHead(200, SSE_HEADERS);
  };
  const write = (text: string): void => {
    if (!text || res.destroyed) return;
    ensureHead();
    if (stalledUntilMs > performance.now()) {
      pending.push(text);
      return;
    }
    res.write(text);
  };
  const abortAll = (): void => {
    for (const h of handles) h.abort();
  };
  res.on('close', () => {
    if (remaining > 0 && !failed) {
      abortAll();
      env.metrics?.numAbortedRequests.inc(env.metrics.requestLabels, remaining);
      remaining = 0;
    }
  });
  // /generate's StreamingResponse starts at once; OpenAI handlers send headers with the first chunk
  if (call.stream && call.api === 'generate') ensureHead();
  jobs.forEach((job, i) => {
    const handle = engine.submit(
      { req: job.req, outcome: job.outcome, arrivalMs: job.arrivalMs, times: job.times },
      {
        onProgress: (produced, cached) => {
          if (failed || res.destroyed) return;
          job.cached = cached;
          const now = performance.now();
          const from = sentPerJob[i];
          if (produced <= from) return;
          if (from === 0) {
            job.firstTokenMs = now;
            recordFirstToken(env, job, now, call.stream);
            recordChunk(env, 0, produced - 1);
          } else recordChunk(env, now - job.lastTokenMs, produced - from);
          job.lastTokenMs = now;
          sentPerJob[i] = produced;
          if (!call.stream) return;
          const stamp = emitStamp();
          if (from === 0) write(job.fmt.start(stamp));
          const final = produced === job.outcome.outputTokens;
          write(job.fmt.tokens(from, produced, final, progressOf(job, now, env, final), stamp));
          if (faults?.dropAt != null && produced >= faults.dropAt && produced < job.outcome.outputTokens) {
            failed = true;
            abortAll();
            env.metrics?.numAbortedRequests.inc(env.metrics.requestLabels);
            dropConnection(res);
            finish();
            return;
          }
          if (faults?.stallAt != null && !stallDone && produced >= faults.stallAt) {
            stallDone = true;
            stalledUntilMs = now + faults.stallMs;
            const resume = setTimeout(() => {
              stalledUntilMs = 0;
              if (!res.destroyed && pending.length) res.write(pending.splice(0).join(''));
              if (remaining === 0 && !res.writableEnded && !res.destroyed) res.end(DONE_EVENT);
            }, faults.stallMs);
            res.once('close', () => clearTimeout(resume));
          }
        },
        onDone: () => {
          if (failed) return;
          const now = performance.now();
          recordFinished(env, job, now, call.stream);
          if (call.stream) write(job.fmt.end(progressOf(job, now, env, true), emitStamp()));
          remaining--;
          if (remaining > 0) return;
          if (!call.stream) {
            respondWhole(res, call, jobs, now, env);
            finish();
            return;
          }
          if (stalledUntilMs > performance.now()) return; // the stall timer ends the stream
          ensureHead();
          res.end(DONE_EVENT);
          finish();
        },
        onFail: (message, status) => {
          if (failed) return;
          failed = true;
          abortAll();
          env.metrics?.numAbortedRequests.inc(env.metrics.requestLabels);
          if (!call.stream && !headersSent) {
            sendJson(res, status, call.api === 'generate' ? { error: { message } } : { object: 'error', message, type: 'InternalServerError', param: null, code: status });
          } else {
            write(streamErrorEvent(call, message, status));
            ensureHead();
            res.end(DONE_EVENT);
          }
          finish();
        },
      },
    );
    handles.push(handle);
  });
  void req;
}
