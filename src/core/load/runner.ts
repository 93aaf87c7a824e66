import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { MoeBenchError } from '../util/errors';
import type { ClientHealth } from '../metrics/validity';
import type { StreamResult } from './accumulator';
import type { DatasetRow, RequestRecord } from '../metrics/record';
import type { DueTurn, SessionSchedule } from './workloads/sessions';

/** What the runner needs from a client (StreamClient, or a fake in tests). */
export interface RequestSender {
  send(row: DatasetRow, maxTokens: number, signal?: AbortSignal): Promise<StreamResult>;
  /**
   * Cancels every request in flight (each returns what it received). A client that has it is
   * not handed a per-request AbortSignal: thousands of listeners on one signal cost O(n) each.
   */
  abortAll?(): void;
}

/** Rows built on demand (a trace replay builds each prompt when it is sent, not all ahead). */
export interface RowSource {
  readonly length: number;
  at(index: number): DatasetRow;
  /** the warmup's prompt, when row 0 must not be it (it would warm the cache for row 0) */
  warmupRow?(): DatasetRow;
}

export interface LoadRunOptions {
  rows: readonly DatasetRow[] | RowSource;
  /**
   * multi-turn workloads: dependent requests. The schedule releases a session's next turn when
   * the previous one has finished (plus a think time); `arrivals`, `slice` and `rows` are then
   * not used (the schedule holds this runner's sessions and builds each turn's prompt).
   */
  sessions?: SessionSchedule;
  client: RequestSender;
  /** planned offsets (ms after t0), see arrivals.ts; the whole run's schedule */
  arrivals: Iterator<number>;
  /**
   * this runner's share of the schedule when several load threads or client nodes drive one run:
   * arrival i (0-based, = the request's seq) is this runner's when i % count === index
   */
  slice?: { index: number; count: number };
  /** closed loop: at most this many requests in flight (this runner's share) */
  maxConcurrency?: number;
  /**
   * the client's own socket cap (open loop: requests beyond it wait, counted as client queue
   * time and reported as socket-cap waits, never failed); default from the file-descriptor limit
   */
  maxSockets?: number;
  /** bench_serving default: 1 warmup copy of the first row, output capped at 32 tokens */
  warmupRequests?: number;
  warmupMaxTokens?: number;
  /** stop after this many requests in the whole run (rows repeat if there are fewer) */
  count?: number;
  /** stop dispatching this many seconds after t0, whatever the rate; requests in flight finish */
  durationSec?: number;
  /**
   * called after the warmup; resolves to the performance.now() of the shared start (several
   * load threads start together); default: start at once
   */
  beforeStart?: () => Promise<number>;
  signal?: AbortSignal;
  /** every finished request, warmups included, as soon as it finishes (the run store appends it) */
  onRecord?: (record: RequestRecord) => void;
  /** keep every record in memory for the result (default true; the bench path keeps columns instead) */
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
  /** warmups first, then the measured requests in dispatch order (empty unless retainRecords) */
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
/**
 * Requests started per event-loop turn. Starting thousands at once (the all-at-once start, or a
 * wave of a closed loop finishing together) would hold the loop while tokens of other streams
 * wait to be stamped; between batches the loop reads sockets.
 */
const START_BURST = 32;

export class WarmupFailedError extends MoeBenchError {}

/** errno codes that mean the client ran out of something, not that the server failed */
const CLIENT_ERROR_CODES = new Set(['EMFILE', 'ENFILE', 'EADDRNOTAVAIL', 'ENOBUFS', 'ENOMEM', 'EADDRINUSE']);

/** the request failed because of the client itself (see RequestRecord.clientError) */
export function isClientError(error: string | undefined): boolean {
  if (!error) return false;
  if (error.startsWith('client error:')) return true;
  const code = /^([A-Z][A-Z0-9_]+):/.exec(error)?.[1];
  return code !== undefined && CLIENT_ERROR_CODES.has(code);
}

/**
 * The soft limit on open files (Linux /proc/self/limits), so the socket cap stays below it:
 * past it, connects fail with EMFILE, which is the client's failure, not the server's.
 */
export function openFileLimit(): number {
  try {
    const text = readFileSync('/proc/self/limits', 'utf8');
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
    if (m) return m[1] === 'unlimited' ? 1 << 20 : Number(m[1]);
  } catch {
    // not Linux: assume the common default
  }
  return 1024;
}

/** sockets one load thread may hold open: the descriptor limit, less room for files and pipes, shared by the threads */
export function defaultSocketCap(threads = 1): number {
  return Math.max(64, Math.floor((openFileLimit() - 256) / Math.max(1, threads)));
}

interface Pending {
  seq: number;
  /** multi-turn: the released turn this request sends */
  turn?: DueTurn;
  rowIndex: number;
  row: DatasetRow;
  maxTokens: number;
  warmup: boolean;
  scheduledAt: number;
  dispatchedAt: number;
}

/**
 * Drives one load run (or one thread's share of it): warmup, then dispatch against the planned
 * schedule with per-request dispatch lag, a concurrency gate (time waiting there is client queue
 * time, outside the latency as in bench_serving), stop by count or deadline, and cancellation that
 * keeps every byte already received. Nothing is queued ahead of time: an arrival that is due while
 * the gate is full stays in the schedule until a slot frees, so memory stays flat under any
 * overload (rate inf with a duration included).
 */
export class LoadRun {
  private t0 = 0;
  private phase: LoadProgress['phase'] = 'warmup';
  private readonly records: RequestRecord[] = [];
  private inFlight = 0;
  private dispatched = 0;
  private started = 0;
  private completed = 0;
  private failed = 0;
  private outputTokens = 0;
  private socketCapWaits = 0;
  /** the next arrival of this runner's slice: seq and planned offset */
  private nextSeq = -1;
  private nextOffset: number | undefined;
  /** performance.now() when the dispatcher first found `nextOffset` due but the gate full */
  private blockedSince: number | undefined;
  private arrivalIndex = 0;
  private scheduleDone = false;
  private stopped = false;
  private lastFinishAt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private resolveDone: (() => void) | undefined;
  private readonly limit: number;
  private readonly concurrencyCap: number;
  private readonly deadlineMs: number;
  private readonly abortInternal = new AbortController();
  private readonly rowAt: (i: number) => DatasetRow;
  private readonly rowCount: number;
  private readonly sessions: SessionSchedule | undefined;
  /** multi-turn: the released turn the dispatcher holds next */
  private nextTurn: DueTurn | undefined;

  constructor(private readonly o: LoadRunOptions) {
    const rows = o.rows;
    this.rowCount = rows.length;
    this.rowAt = isRowSource(rows) ? (i) => rows.at(i) : (i) => rows[i];
    this.sessions = o.sessions;
    if (this.rowCount === 0 && !o.sessions) throw new MoeBenchError('The workload has no prompts', {}, 'Check the dataset settings (numPrompts, path).');
    this.concurrencyCap = o.maxConcurrency && o.maxConcurrency > 0 ? o.maxConcurrency : Infinity;
    this.limit = Math.min(this.concurrencyCap, o.maxSockets ?? defaultSocketCap());
    this.deadlineMs = o.durationSec !== undefined ? o.durationSec * 1000 : Infinity;
    // every request in flight listens for cancellation (clients without abortAll)
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
      queued: this.waiting(),
      outputTokens: this.outputTokens,
      elapsedMs: this.t0 ? performance.now() - this.t0 : 0,
    };
  }

  /**
   * arrivals due but held by the gate: all the rest of this runner's share when everything is due
   * at once (rate inf with a count), else at least the one the dispatcher holds
   */
  private waiting(): number {
    if (this.blockedSince === undefined || this.nextOffset === undefined) return 0;
    const count = this.o.count;
    if (count === undefined || this.nextOffset !== 0) return 1;
    const of = this.o.slice?.count ?? 1;
    return Math.max(1, Math.ceil((count - this.nextSeq) / of));
  }

  async run(): Promise<LoadResult> {
    const signal = this.o.signal;
    const onAbort = (): void => this.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const warmups = await this.warmup();
      const startAt = this.o.beforeStart ? await this.o.beforeStart() : undefined;
      if (startAt !== undefined) await sleepUntil(startAt);
      const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
      loop.enable();
      const elu0 = performance.eventLoopUtilization();
      const cpu0 = process.cpuUsage();
      const wall0 = performance.now();
      const finished = new Promise<void>((resolve) => (this.resolveDone = resolve));
      this.t0 = startAt ?? performance.now();
      this.phase = 'running';
      this.advance();
      if (signal?.aborted) this.abort();
      if (this.stopped) this.resolveDone?.();
      else this.pump();
      await finished;
      loop.disable();
      const elu = performance.eventLoopUtilization(elu0);
      const cpu = process.cpuUsage(cpu0);
      const wallMs = performance.now() - wall0;
      this.phase = 'done';
      const measured = this.records.filter((r) => !r.warmup).sort((a, b) => a.seq - b.seq);
      return {
        records: this.o.retainRecords === false ? [] : [...warmups, ...measured],
        t0: this.t0,
        endMs: this.lastFinishAt ? this.lastFinishAt - this.t0 : 0,
        cancelled: this.stopped,
        client: {
          eventLoopDelayP99Ms: loop.count > 0 ? Math.max(0, loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS) : 0,
          eventLoopDelayMaxMs: loop.count > 0 ? Math.max(0, loop.max / 1e6 - LOOP_RESOLUTION_MS) : 0,
          cpuPct: wallMs > 0 ? ((cpu.user + cpu.system) / 1000 / wallMs) * 100 : 0,
          loopUtilization: elu.utilization,
          workers: 1,
          socketCapWaits: this.socketCapWaits,
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
    // multi-turn: the warmup sends a first turn alone (outside every session's history)
    const rows = this.o.rows;
    const row = this.sessions ? this.sessions.warmupRow() : isRowSource(rows) && rows.warmupRow ? rows.warmupRow() : this.rowAt(0);
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

  /** the next arrival of this runner's slice (skipping the other slices' ones) */
  private advance(): void {
    if (this.sessions) return this.advanceSessions();
    const count = this.o.count;
    const slice = this.o.slice;
    for (;;) {
      if (this.stopped) break;
      const seq = this.arrivalIndex;
      if (count !== undefined && seq >= count) break;
      const it = this.o.arrivals.next();
      if (it.done || it.value > this.deadlineMs) break;
      this.arrivalIndex++;
      if (slice && seq % slice.count !== slice.index) continue;
      this.nextSeq = seq;
      this.nextOffset = it.value;
      return;
    }
    this.nextOffset = undefined;
  }

  /** multi-turn: the earliest released turn; none released (waiting on replies) leaves nextOffset undefined */
  private advanceSessions(): void {
    const s = this.sessions;
    this.nextTurn = undefined;
    this.nextOffset = undefined;
    if (!s || this.stopped) return;
    if (this.o.count !== undefined && this.arrivalIndex >= this.o.count) return;
    const due = s.nextDueMs();
    if (due === undefined || due > this.deadlineMs) return;
    this.nextOffset = due;
    this.nextSeq = -1;
  }

  /** multi-turn: the schedule has nothing more to release (or the count or deadline is reached) and nothing is in flight */
  private sessionsDone(): boolean {
    const s = this.sessions;
    if (!s || this.stopped) return true;
    if (this.o.count !== undefined && this.arrivalIndex >= this.o.count) return true;
    if (this.deadlineMs !== Infinity && performance.now() - this.t0 >= this.deadlineMs) return true;
    if (s.exhausted()) return true;
    // nothing in flight can release a turn any more, and what is released falls after the deadline
    const due = s.nextDueMs();
    return this.inFlight === 0 && (due === undefined || due > this.deadlineMs);
  }

  private readonly pump = (): void => {
    this.timer = undefined;
    this.immediate = undefined;
    if (this.stopped) return;
    let startedNow = 0;
    for (;;) {
      const next = this.nextOffset;
      if (next === undefined) break;
      const now = performance.now();
      const elapsed = now - this.t0;
      if (elapsed >= this.deadlineMs && this.blockedSince !== undefined) {
        // Arrivals planned after the deadline never leave the schedule (advance); one planned
        // inside it but held by the gate until after it is not sent either, so the deadline
        // holds at every rate (with rate inf every arrival is due at once).
        this.nextOffset = undefined;
        break;
      }
      if (next > elapsed) {
        this.blockedSince = undefined;
        break;
      }
      if (this.inFlight >= this.limit) {
        this.blockedSince ??= now;
        return; // a finishing request calls pump again
      }
      if (startedNow >= START_BURST) {
        this.immediate = setImmediate(this.pump);
        return;
      }
      const scheduledAt = this.t0 + next;
      // While the gate is full nothing is queued: arrivals stay in the schedule. One that fell due
      // during that time left the dispatcher on time (its wait is client queue time); one already
      // due when the dispatcher found the gate full left when it was found.
      let dispatchedAt = now;
      if (this.blockedSince !== undefined) {
        dispatchedAt = Math.max(scheduledAt, this.blockedSince);
        if (this.limit < this.concurrencyCap) this.socketCapWaits++;
      }
      this.dispatch(this.nextSeq, scheduledAt, dispatchedAt);
      startedNow++;
      this.advance();
    }
    if (this.nextOffset === undefined) {
      // multi-turn: nothing released yet; a finishing turn releases the next and pumps again
      if (this.sessions && !this.sessionsDone()) return;
      this.scheduleDone = true;
      this.phase = 'draining';
      this.maybeFinish();
      return;
    }
    const waitMs = Math.min(this.nextOffset, this.deadlineMs) - (performance.now() - this.t0);
    // timers fire late by up to ~1 ms: sleep to just short of the due time, then poll each loop turn
    if (waitMs > 2) this.timer = setTimeout(this.pump, waitMs - 1.5);
    else this.immediate = setImmediate(this.pump);
  };

  private dispatch(seq: number, scheduledAt: number, dispatchedAt: number): void {
    if (this.sessions) return this.dispatchTurn(scheduledAt, dispatchedAt);
    this.dispatched++;
    const rowIndex = seq % this.rowCount;
    const row = this.rowAt(rowIndex);
    const p: Pending = { seq, rowIndex, row, maxTokens: row.outputLen, warmup: false, scheduledAt, dispatchedAt };
    this.inFlight++;
    this.started++;
    void this.safeSend(p).then((res) => this.finish(p, res));
  }

  private dispatchTurn(scheduledAt: number, dispatchedAt: number): void {
    const turn = this.sessions?.take();
    if (!turn) return;
    this.dispatched++;
    this.arrivalIndex++;
    const p: Pending = { seq: turn.seq, turn, rowIndex: turn.session, row: turn.row, maxTokens: turn.row.outputLen, warmup: false, scheduledAt, dispatchedAt };
    this.inFlight++;
    this.started++;
    void this.safeSend(p).then((res) => this.finish(p, res));
  }

  private async safeSend(p: Pending): Promise<StreamResult> {
    try {
      return await this.o.client.send(p.row, p.maxTokens, this.o.client.abortAll ? undefined : this.abortInternal.signal);
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
    if (p.turn && this.sessions) {
      // the session's next turn is due at this finish plus its think time
      this.sessions.finished(p.turn, rec.ok, res.text, this.lastFinishAt - this.t0);
      if (!this.stopped) {
        this.advance();
        if (this.timer) clearTimeout(this.timer);
        this.timer = undefined;
        if (this.immediate === undefined) this.immediate = setImmediate(this.pump);
      }
    }
    // the next due arrival starts from the dispatcher, a burst at a time, not inside this callback
    if (!this.stopped && this.nextOffset !== undefined && this.timer === undefined && this.immediate === undefined) this.immediate = setImmediate(this.pump);
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
    if (p.turn) {
      rec.session = p.turn.session;
      rec.turn = p.turn.turn;
    }
    if (res.error !== undefined) {
      rec.error = res.error;
      if (isClientError(res.error)) rec.clientError = true;
    }
    if (res.httpStatus !== undefined) rec.httpStatus = res.httpStatus;
    if (res.headersMs !== undefined) rec.headersMs = res.headersMs;
    if (res.finishReason !== undefined) rec.finishReason = res.finishReason;
    if (res.reasoningChars !== undefined) rec.reasoningChars = res.reasoningChars;
    if (res.reasoningTokens !== undefined) rec.reasoningTokens = res.reasoningTokens;
    if (res.rid !== undefined) rec.rid = res.rid;
    if (res.serverTimes !== undefined) rec.serverTimes = res.serverTimes;
    if (res.spec !== undefined) rec.spec = res.spec;
    if (p.row.answer !== undefined) rec.answer = p.row.answer;
    if (p.row.answerKind !== undefined) rec.answerKind = p.row.answerKind;
    return rec;
  }

  private maybeFinish(): void {
    if (this.inFlight === 0 && (this.scheduleDone || this.stopped)) this.resolveDone?.();
  }

  /** stop dispatching and cancel what is in flight (each returns what it received) */
  abort(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.clearTimers();
    this.nextOffset = undefined;
    this.abortInternal.abort();
    this.o.client.abortAll?.();
    this.maybeFinish();
  }

  private clearTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }
}

function isRowSource(rows: readonly DatasetRow[] | RowSource): rows is RowSource {
  return !Array.isArray(rows);
}

/** resolves at performance.now() >= at (coarse timer, then a few loop turns) */
async function sleepUntil(at: number): Promise<void> {
  for (;;) {
    const left = at - performance.now();
    if (left <= 0) return;
    await new Promise<void>((r) => (left > 2 ? setTimeout(r, left - 1.5) : setImmediate(r)));
  }
}
