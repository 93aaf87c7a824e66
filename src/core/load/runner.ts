import { setMaxListeners } from 'node:events';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { MoeBenchError } from '../util/errors';
import type { ClientHealth } from '../metrics/validity';
import type { StreamResult } from './accumulator';
import type { DatasetRow, RequestRecord } from './types';

/** What the runner needs from a client (StreamClient, or a fake in tests). */
export interface RequestSender {
  send(row: DatasetRow, maxTokens: number, signal?: AbortSignal): Promise<StreamResult>;
}

export interface LoadRunOptions {
  rows: readonly DatasetRow[];
  client: RequestSender;
  /** planned offsets (ms after t0), see arrivals.ts */
  arrivals: Iterator<number>;
  /** closed loop: at most this many requests in flight; the rest wait in a FIFO queue */
  maxConcurrency?: number;
  /** bench_serving default: 1 warmup copy of the first row, output capped at 32 tokens */
  warmupRequests?: number;
  warmupMaxTokens?: number;
  /** stop after this many requests (rows repeat if there are fewer) */
  count?: number;
  /** stop dispatching after this many seconds; requests in flight finish */
  durationSec?: number;
  signal?: AbortSignal;
  /** every finished request, warmups included, as soon as it finishes (the run store appends it) */
  onRecord?: (record: RequestRecord) => void;
  /**
   * keep every record in memory for the result (default true). With a run store the records are
   * on disk already: the benchmark reads them back at the end, so a long run holds O(1) memory.
   */
  retainRecords?: boolean;
}

export interface LoadProgress {
  phase: 'warmup' | 'running' | 'draining' | 'done';
  dispatched: number;
  started: number;
  completed: number;
  failed: number;
  inFlight: number;
  queued: number;
  outputTokens: number;
  /** ms since t0 (0 during warmup) */
  elapsedMs: number;
}

export interface LoadResult {
  /** warmups first, then the measured requests in dispatch order */
  records: RequestRecord[];
  /** performance.now() at t0 (first planned dispatch) */
  t0: number;
  /** ms after t0 when the last request finished */
  endMs: number;
  cancelled: boolean;
  client: ClientHealth;
}

/** event-loop delay sampling period; Node's histogram records the period plus the delay */
const LOOP_RESOLUTION_MS = 5;

export class WarmupFailedError extends MoeBenchError {}

interface Pending {
  seq: number;
  rowIndex: number;
  row: DatasetRow;
  maxTokens: number;
  warmup: boolean;
  scheduledAt: number;
  dispatchedAt: number;
}

/**
 * Drives one load run: warmup, then dispatch against the planned schedule with per-request
 * dispatch lag, a FIFO concurrency gate (time waiting there is client queue time, outside the
 * latency as in bench_serving), stop by count or duration, and cancellation that keeps every
 * byte already received.
 */
export class LoadRun {
  private t0 = 0;
  private phase: LoadProgress['phase'] = 'warmup';
  private readonly records: RequestRecord[] = [];
  private readonly queue: (Pending | undefined)[] = [];
  private queueHead = 0;
  private inFlight = 0;
  private dispatched = 0;
  private started = 0;
  private completed = 0;
  private failed = 0;
  private outputTokens = 0;
  private nextOffset: number | undefined;
  private scheduleDone = false;
  private stopped = false;
  private lastFinishAt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private resolveDone: (() => void) | undefined;
  private readonly limit: number;
  private readonly abortInternal = new AbortController();

  constructor(private readonly o: LoadRunOptions) {
    if (o.rows.length === 0) throw new MoeBenchError('The workload has no prompts', {}, 'Check the dataset settings (numPrompts, path).');
    this.limit = o.maxConcurrency && o.maxConcurrency > 0 ? o.maxConcurrency : Infinity;
    // every request in flight listens for cancellation: thousands of listeners are expected
    setMaxListeners(Infinity, this.abortInternal.signal);
  }

  progress(): LoadProgress {
    return {
      phase: this.phase,
      dispatched: this.dispatched,
      started: this.started,
      completed: this.completed,
      failed: this.failed,
      inFlight: this.inFlight,
      queued: this.queue.length - this.queueHead,
      outputTokens: this.outputTokens,
      elapsedMs: this.t0 ? performance.now() - this.t0 : 0,
    };
  }

  async run(): Promise<LoadResult> {
    const signal = this.o.signal;
    const onAbort = (): void => this.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const warmups = await this.warmup();
      const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
      loop.enable();
      const cpu0 = process.cpuUsage();
      const wall0 = performance.now();
      const finished = new Promise<void>((resolve) => (this.resolveDone = resolve));
      this.t0 = performance.now();
      this.phase = 'running';
      this.advance();
      if (signal?.aborted) this.abort();
      if (this.stopped) this.resolveDone?.();
      else this.pump();
      await finished;
      loop.disable();
      const cpu = process.cpuUsage(cpu0);
      const wallMs = performance.now() - wall0;
      this.phase = 'done';
      const measured = this.records.filter((r) => !r.warmup).sort((a, b) => a.seq - b.seq);
      return {
        records: [...warmups, ...measured],
        t0: this.t0,
        endMs: this.lastFinishAt ? this.lastFinishAt - this.t0 : 0,
        cancelled: this.stopped,
        client: {
          eventLoopDelayP99Ms: loop.count > 0 ? Math.max(0, loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS) : 0,
          eventLoopDelayMaxMs: loop.count > 0 ? Math.max(0, loop.max / 1e6 - LOOP_RESOLUTION_MS) : 0,
          cpuPct: wallMs > 0 ? ((cpu.user + cpu.system) / 1000 / wallMs) * 100 : 0,
        },
      };
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.clearTimers();
    }
  }

  private async warmup(): Promise<RequestRecord[]> {
    const n = this.o.warmupRequests ?? 1;
    if (n <= 0) return [];
    const row = this.o.rows[0];
    const maxTokens = Math.min(row.outputLen, this.o.warmupMaxTokens ?? 32);
    const width = Math.min(n, this.limit);
    const out: RequestRecord[] = [];
    // warmup times are relative to the warmup's own start; they never enter the metrics
    const warmupT0 = performance.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < n && !this.stopped) {
        const k = next++;
        const at = performance.now();
        const p: Pending = { seq: -(k + 1), rowIndex: 0, row, maxTokens, warmup: true, scheduledAt: at, dispatchedAt: at };
        const res = await this.safeSend(p);
        const rec = this.toRecord(p, res, warmupT0);
        out.push(rec);
        this.o.onRecord?.(rec);
      }
    };
    await Promise.all(Array.from({ length: width }, worker));
    if (!this.stopped && out.length > 0 && out.every((r) => !r.ok)) {
      throw new WarmupFailedError(`Warmup failed: ${out[0].error ?? 'no content received'}`, {}, 'Check the target URL, the API kind and the model name; the server must stream responses.');
    }
    return out.sort((a, b) => b.seq - a.seq);
  }

  private advance(): void {
    const count = this.o.count;
    if (this.stopped || (count !== undefined && this.dispatched >= count)) {
      this.nextOffset = undefined;
      return;
    }
    const it = this.o.arrivals.next();
    const limitMs = this.o.durationSec !== undefined ? this.o.durationSec * 1000 : Infinity;
    this.nextOffset = it.done || it.value > limitMs ? undefined : it.value;
  }

  private readonly pump = (): void => {
    this.timer = undefined;
    this.immediate = undefined;
    if (this.stopped) return;
    while (this.nextOffset !== undefined && this.nextOffset <= performance.now() - this.t0) {
      this.dispatch(this.nextOffset);
      this.advance();
    }
    if (this.nextOffset === undefined) {
      this.scheduleDone = true;
      this.phase = 'draining';
      this.maybeFinish();
      return;
    }
    const waitMs = this.nextOffset - (performance.now() - this.t0);
    // timers fire late by up to ~1 ms: sleep to just short of the due time, then poll each loop turn
    if (waitMs > 2) this.timer = setTimeout(this.pump, waitMs - 1.5);
    else this.immediate = setImmediate(this.pump);
  };

  private dispatch(offsetMs: number): void {
    const seq = this.dispatched++;
    const rowIndex = seq % this.o.rows.length;
    const row = this.o.rows[rowIndex];
    const p: Pending = { seq, rowIndex, row, maxTokens: row.outputLen, warmup: false, scheduledAt: this.t0 + offsetMs, dispatchedAt: performance.now() };
    if (this.inFlight < this.limit) this.start(p);
    else this.queue.push(p);
  }

  private start(p: Pending): void {
    this.inFlight++;
    this.started++;
    void this.safeSend(p).then((res) => this.finish(p, res));
  }

  private async safeSend(p: Pending): Promise<StreamResult> {
    try {
      return await this.o.client.send(p.row, p.maxTokens, this.abortInternal.signal);
    } catch (err) {
      const now = performance.now();
      return { startAt: now, ok: false, error: `client error: ${(err as Error).message}`, lastLineMs: 0, chunkMs: [], chunkChars: [], chunkTokens: [], outputTokens: null, promptTokens: null, cachedTokens: null, text: '' };
    }
  }

  private finish(p: Pending, res: StreamResult): void {
    this.inFlight--;
    this.lastFinishAt = performance.now();
    const rec = this.toRecord(p, res, this.t0);
    if (this.o.retainRecords !== false) this.records.push(rec);
    if (rec.ok) this.completed++;
    else this.failed++;
    this.outputTokens += res.outputTokens ?? res.chunkMs.length;
    this.o.onRecord?.(rec);
    if (!this.stopped && this.queueHead < this.queue.length && this.inFlight < this.limit) {
      const nextP = this.queue[this.queueHead];
      this.queue[this.queueHead++] = undefined;
      if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
        this.queue.splice(0, this.queueHead);
        this.queueHead = 0;
      }
      if (nextP) this.start(nextP);
    }
    this.maybeFinish();
  }

  private toRecord(p: Pending, res: StreamResult, t0: number): RequestRecord {
    const rec: RequestRecord = {
      seq: p.seq,
      row: p.rowIndex,
      scheduledMs: p.scheduledAt - t0,
      dispatchedMs: p.dispatchedAt - t0,
      startMs: res.startAt - t0,
      promptLen: p.row.promptLen,
      maxTokens: p.maxTokens,
      ok: res.ok,
      lastLineMs: res.lastLineMs,
      chunkMs: res.chunkMs,
      chunkChars: res.chunkChars,
      chunkTokens: res.chunkTokens,
      outputTokens: res.outputTokens,
      promptTokens: res.promptTokens,
      cachedTokens: res.cachedTokens,
      text: res.text,
    };
    if (p.warmup) rec.warmup = true;
    if (res.error !== undefined) rec.error = res.error;
    if (res.httpStatus !== undefined) rec.httpStatus = res.httpStatus;
    if (res.headersMs !== undefined) rec.headersMs = res.headersMs;
    if (res.finishReason !== undefined) rec.finishReason = res.finishReason;
    if (p.row.answer !== undefined) rec.answer = p.row.answer;
    if (p.row.answerKind !== undefined) rec.answerKind = p.row.answerKind;
    return rec;
  }

  private maybeFinish(): void {
    const idle = this.inFlight === 0 && (this.stopped || this.queueHead >= this.queue.length);
    if (idle && (this.scheduleDone || this.stopped)) this.resolveDone?.();
  }

  private abort(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.clearTimers();
    // requests still waiting for a slot were never sent: drop them; in-flight ones return partial results
    this.queue.length = 0;
    this.queueHead = 0;
    this.abortInternal.abort();
    this.maybeFinish();
  }

  private clearTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }
}
