/**
 * Dependent requests: the schedule of a multi-turn workload. A session's turn k+1 is released
 * when turn k has finished plus a think time, with the reply appended to its history; sessions
 * start by a rate (their first turns on a seeded Poisson schedule) or by a concurrency (N
 * sessions open at once, a new one starting when one ends). One schedule serves one load
 * thread: every turn of a session stays on the thread that started it (its history is there);
 * the threads split the sessions, session s going to thread s % threads.
 */
import { arrivalOffsets } from '../arrivals';
import { estimateTokens } from '../../util/tokens';
import { randomWords } from '../datasets/words';
import { createRng, type Rng } from '../rng';
import type { DatasetRow } from '../../metrics/record';
import { sample, type Distribution } from './distribution';
import type { SessionPlan } from './conversations';

export interface SessionWorkload {
  kind: 'sessions';
  sessions: SessionPlan[];
  /** how sessions start: first turns on a Poisson schedule, or N sessions open at a time */
  start: { kind: 'rate'; sessionsPerSec: number } | { kind: 'concurrency'; sessions: number };
  /** seconds between a reply and the next turn */
  thinkTimeSec: Distribution;
  seed: number;
  /** the run's cache-bust salt: one marker in front of every history (sharing inside the run survives) */
  salt?: string;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** one released turn */
export interface DueTurn {
  seq: number;
  session: number;
  turn: number;
  dueMs: number;
  row: DatasetRow;
}

interface SessionState {
  index: number;
  plan: SessionPlan;
  messages: ChatMessage[];
  /** flattened history for the text APIs */
  text: string;
  textTokens: number;
  next: number;
  rng: Rng;
}

const SEPARATOR = '\n\n';

/**
 * The schedule of one load thread. `take` hands out turns in due order; `finished` releases the
 * next turn of that session (or ends it). Turns of one session are strictly ordered: a turn is
 * never released before the previous one has finished.
 */
export class SessionSchedule {
  private readonly ready: DueTurn[] = [];
  private readonly mine: number[];
  /** next of `mine` to open (concurrency start) */
  private opened = 0;
  private open = 0;
  private inFlight = 0;
  private localSeq = 0;
  private readonly states = new Map<number, SessionState>();
  /** sessions that ended early because a turn failed */
  endedEarly = 0;

  constructor(
    private readonly w: SessionWorkload,
    private readonly slice: { index: number; count: number } = { index: 0, count: 1 },
    /** this thread's share of the session concurrency */
    concurrencyShare?: number,
  ) {
    this.mine = w.sessions.map((_, i) => i).filter((i) => i % slice.count === slice.index);
    if (w.start.kind === 'rate') {
      const offsets = arrivalOffsets({ kind: 'poisson', ratePerSec: w.start.sessionsPerSec }, createRng((w.seed ^ 0x51ed27) >>> 0));
      for (let i = 0; i < w.sessions.length; i++) {
        const it = offsets.next();
        const at = it.done ? 0 : it.value;
        if (i % slice.count === slice.index) this.release(this.state(i), at);
      }
      this.opened = this.mine.length;
    } else {
      const n = concurrencyShare ?? w.start.sessions;
      while (this.opened < this.mine.length && this.open < n) this.startNext(0);
    }
  }

  /** the earliest released turn's due time (ms after t0), undefined when none is released */
  nextDueMs(): number | undefined {
    return this.ready.length ? this.ready[this.ready.length - 1].dueMs : undefined;
  }

  take(): DueTurn | undefined {
    const t = this.ready.pop();
    if (t) this.inFlight++;
    return t;
  }

  /** no turn released, none in flight, no session left to open: this thread's share is done */
  exhausted(): boolean {
    return this.ready.length === 0 && this.inFlight === 0 && this.opened >= this.mine.length;
  }

  /**
   * The warmup's prompt: as long as the first session's first turn, made of other words, so the
   * warmup leaves nothing in the prefix cache that a session will find.
   */
  warmupRow(): DatasetRow {
    const first = this.w.sessions[this.mine[0] ?? 0];
    const tokens = estimateTokens((first.system ?? '') + ' ' + first.turns[0].user);
    return { prompt: randomWords(Math.max(1, tokens), createRng((this.w.seed ^ 0xa11ce) >>> 0)), promptLen: Math.max(1, tokens), outputLen: first.turns[0].outputLen };
  }

  /** turns this thread will send if every session runs to its end */
  plannedTurns(): number {
    return this.mine.reduce((a, i) => a + this.w.sessions[i].turns.length, 0);
  }

  /** turn `t` finished at `atMs` (after t0) with this reply */
  finished(t: DueTurn, ok: boolean, reply: string, atMs: number): void {
    this.inFlight--;
    const s = this.states.get(t.session);
    if (!s) return;
    if (ok && s.next < s.plan.turns.length) {
      s.messages.push({ role: 'assistant', content: reply });
      s.text += SEPARATOR + reply;
      s.textTokens += estimateTokens(reply);
      this.release(s, atMs + Math.max(0, sample(this.w.thinkTimeSec, s.rng)) * 1000);
      return;
    }
    if (!ok && s.next < s.plan.turns.length) this.endedEarly++;
    this.states.delete(t.session);
    this.open--;
    if (this.w.start.kind === 'concurrency' && this.opened < this.mine.length) this.startNext(atMs);
  }

  private startNext(atMs: number): void {
    const i = this.mine[this.opened++];
    this.release(this.state(i), atMs);
  }

  private state(i: number): SessionState {
    const plan = this.w.sessions[i];
    this.open++;
    const marker = this.w.salt ? `[${this.w.salt}] ` : '';
    const messages: ChatMessage[] = [];
    let text = '';
    if (plan.system !== undefined) {
      messages.push({ role: 'system', content: marker + plan.system });
      text = marker + plan.system;
    }
    const s: SessionState = { index: i, plan, messages, text, textTokens: estimateTokens(text), next: 0, rng: createRng((this.w.seed * 0x9e3779b1 + i * 0x85ebca6b + 1) >>> 0) };
    this.states.set(i, s);
    return s;
  }

  /** appends the session's next user turn to its history and queues it at `dueMs` */
  private release(s: SessionState, dueMs: number): void {
    const k = s.next++;
    const turn = s.plan.turns[k];
    const first = s.messages.length === 0;
    const user = first && this.w.salt && s.plan.system === undefined ? `[${this.w.salt}] ${turn.user}` : turn.user;
    s.messages.push({ role: 'user', content: user });
    s.text = s.text ? s.text + SEPARATOR + turn.user : user;
    s.textTokens += estimateTokens(turn.user);
    const row: DatasetRow = { prompt: s.text, promptLen: Math.max(1, s.textTokens), outputLen: turn.outputLen, messages: s.messages.slice() };
    const seq = this.localSeq++ * this.slice.count + this.slice.index;
    const t: DueTurn = { seq, session: s.index, turn: k, dueMs, row };
    // sorted by due time, latest first (pop takes the earliest); equal times keep release order
    let lo = 0;
    let hi = this.ready.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ready[mid].dueMs > dueMs) lo = mid + 1;
      else hi = mid;
    }
    this.ready.splice(lo, 0, t);
  }
}
