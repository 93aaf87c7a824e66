import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Engine, JobHandle } from '../engine/types';
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
}

interface Job {
  req: GenRequest;
  outcome: Outcome;
  fmt: JobFormatter;
  arrivalMs: number;
  firstTokenMs: number;
  lastTokenMs: number;
  cached: number;
}

function makeJobs(call: ParsedCall, env: CallEnv, ctx: StreamContext, arrivalMs: number): Job[] {
  return call.requests.map((req) => {
    let outcome = decideOutcome(req, env.seed, env.contextLength);
    if (env.role === 'prefill' && outcome.outputTokens > 1) outcome = { ...outcome, outputTokens: 1, finish: { type: 'length', length: 1 } };
    return { req, outcome, fmt: createFormatter(call.api, req, outcome, ctx), arrivalMs, firstTokenMs: 0, lastTokenMs: 0, cached: 0 };
  });
}

function progressOf(job: Job, nowMs: number): Progress {
  return { cachedTokens: job.cached, e2eLatencySec: Math.round((nowMs - job.arrivalMs) * 1e3) / 1e6 };
}

function recordFinished(env: CallEnv, job: Job, nowMs: number, streaming: boolean): void {
  env.metrics?.observeFinished({ promptTokens: job.req.promptTokens, outputTokens: job.outcome.outputTokens, cachedTokens: job.cached, e2eSec: (nowMs - job.arrivalMs) / 1000, streaming });
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
      respondWhole(res, call, jobs, now);
      finish();
    }
    return;
  }
  runOnEngine(req, res, call, jobs, env, env.engine, streamFaults, finish);
}

function respondWhole(res: ServerResponse, call: ParsedCall, jobs: Job[], nowMs: number): void {
  const bodies = jobs.map((j) => {
    const b = j.fmt.whole(progressOf(j, nowMs));
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
        const chunk = job.fmt.tokens(sent, sent + n, sent + n === total, progressOf(job, now), stamp);
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
      { req: job.req, outcome: job.outcome, arrivalMs: job.arrivalMs },
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
          write(job.fmt.tokens(from, produced, produced === job.outcome.outputTokens, progressOf(job, now), stamp));
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
          if (call.stream) write(job.fmt.end(progressOf(job, now), emitStamp()));
          remaining--;
          if (remaining > 0) return;
          if (!call.stream) {
            respondWhole(res, call, jobs, now);
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
