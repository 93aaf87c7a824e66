import type { ApiKind, RequestRecord } from './record';
import { deriveRequest, type DerivedRequest, type MetricDefinition } from './definitions';
import { isCorrectAnswer, ngramRepetition } from './text-checks';
import { splitRecord } from './reasoning';

/**
 * Per-request numbers in columns instead of objects: a run of millions of requests keeps a few
 * Float64 values per request (and one per output-token gap), never the records themselves, and
 * the summary is computed from these columns with the exact numpy-linear percentiles (summary.ts).
 * Columns are chunked so growing never copies what is already stored; a worker's columns move to
 * the main thread as transferable buffers and merge by concatenation.
 */

const CHUNK = 1 << 16;

/** An append-only Float64 column in fixed-size chunks. */
export class F64Column {
  chunks: Float64Array[] = [];
  length = 0;

  push(v: number): void {
    const i = this.length & (CHUNK - 1);
    if (i === 0) this.chunks.push(new Float64Array(CHUNK));
    this.chunks[this.chunks.length - 1][i] = v;
    this.length++;
  }

  get(i: number): number {
    return this.chunks[i >>> 16][i & (CHUNK - 1)];
  }

  /** one contiguous copy (for sorting) */
  toArray(): Float64Array {
    const out = new Float64Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      const n = Math.min(CHUNK, this.length - at);
      out.set(n === CHUNK ? c : c.subarray(0, n), at);
      at += n;
    }
    return out;
  }

  /** append every value of `other` (plus `add`) */
  append(other: F64Column, add = 0): void {
    if (this.length === 0 && add === 0) {
      // the first share is taken over as is (no copy of a million-request column)
      this.chunks = other.chunks;
      this.length = other.length;
      return;
    }
    for (let i = 0; i < other.length; i++) this.push(other.get(i) + add);
  }

  static from(snapshot: ColumnSnapshot): F64Column {
    const c = new F64Column();
    c.chunks = snapshot.chunks;
    c.length = snapshot.length;
    return c;
  }

  snapshot(): ColumnSnapshot {
    return { chunks: this.chunks, length: this.length };
  }
}

export interface ColumnSnapshot {
  chunks: Float64Array[];
  length: number;
}

/** Everything the validity checks need from the records, summed as they arrive. */
export interface ValidityTally {
  measured: number;
  /** records with ok=true (the client received a complete response) */
  recOk: number;
  /** derived.ok=false under the metric definition */
  failed: number;
  /** failures the client caused (EMFILE, local ports, its own limits), a subset of `failed` */
  clientErrors: number;
  /** first distinct error texts by dispatch order: [seq, text] */
  errors: [number, string][];
  clientErrorSamples: [number, string][];
  minStart: number;
  maxStart: number;
  minScheduled: number;
  maxScheduled: number;
  cachedTokens: number;
  cachedPrompt: number;
  cachedReported: number;
  missingUsage: number;
  eosOff: number;
  eosShort: number;
  promptReported: number;
  serverPromptSum: number;
  datasetPromptSum: number;
  emptyOutputs: number;
  repetitiveOutputs: number;
  graded: number;
  correct: number;
  answerKind: 'gsm8k' | 'mmlu' | null;
  /** reasoning models: requests whose output had a thinking part (reasoning_content or <think>) */
  thinkingRequests: number;
  /** thinking / all output characters over the completed requests */
  thinkingChars: number;
  outputChars: number;
  /** output tokens split into thinking and answer (server's reasoning_tokens, else by character share) */
  thinkingTokens: number;
  answerTokens: number;
  /** requests that thought and were cut before any answer */
  thinkingNoAnswer: number;
}

export function emptyTally(): ValidityTally {
  return {
    measured: 0,
    recOk: 0,
    failed: 0,
    clientErrors: 0,
    errors: [],
    clientErrorSamples: [],
    minStart: Infinity,
    maxStart: -Infinity,
    minScheduled: Infinity,
    maxScheduled: -Infinity,
    cachedTokens: 0,
    cachedPrompt: 0,
    cachedReported: 0,
    missingUsage: 0,
    eosOff: 0,
    eosShort: 0,
    promptReported: 0,
    serverPromptSum: 0,
    datasetPromptSum: 0,
    emptyOutputs: 0,
    repetitiveOutputs: 0,
    graded: 0,
    correct: 0,
    answerKind: null,
    thinkingRequests: 0,
    thinkingChars: 0,
    outputChars: 0,
    thinkingTokens: 0,
    answerTokens: 0,
    thinkingNoAnswer: 0,
  };
}

const KEEP_ERRORS = 8;

function keepFirst(list: [number, string][], seq: number, text: string): void {
  if (list.some((e) => e[1] === text)) {
    const e = list.find((x) => x[1] === text);
    if (e && seq < e[0]) e[0] = seq;
    return;
  }
  list.push([seq, text]);
  list.sort((a, b) => a[0] - b[0]);
  if (list.length > KEEP_ERRORS) list.length = KEEP_ERRORS;
}

/**
 * fold one measured record (and its derived numbers) into the tally; returns the record's time
 * to first answer token when it thought and then answered (NaN otherwise)
 */
export function tallyRecord(t: ValidityTally, r: RequestRecord, d: DerivedRequest, ignoreEos: boolean): number {
  t.measured++;
  if (r.startMs < t.minStart) t.minStart = r.startMs;
  if (r.startMs > t.maxStart) t.maxStart = r.startMs;
  if (r.scheduledMs < t.minScheduled) t.minScheduled = r.scheduledMs;
  if (r.scheduledMs > t.maxScheduled) t.maxScheduled = r.scheduledMs;
  if (!d.ok) {
    t.failed++;
    keepFirst(t.errors, r.seq, r.error ?? 'no content received');
    if (r.clientError) {
      t.clientErrors++;
      keepFirst(t.clientErrorSamples, r.seq, r.error ?? 'client error');
    }
  }
  if (!r.ok) return Number.NaN;
  t.recOk++;
  if (r.cachedTokens !== null) {
    t.cachedReported++;
    t.cachedTokens += r.cachedTokens;
    t.cachedPrompt += r.promptTokens ?? r.promptLen;
  }
  if (r.outputTokens === null) t.missingUsage++;
  else if (ignoreEos && r.outputTokens !== r.maxTokens) {
    t.eosOff++;
    if (r.outputTokens < r.maxTokens) t.eosShort++;
  }
  if (r.promptTokens !== null && r.promptLen > 0) {
    t.promptReported++;
    t.serverPromptSum += r.promptTokens;
    t.datasetPromptSum += r.promptLen;
  }
  if (r.text.trim().length === 0) t.emptyOutputs++;
  if (ngramRepetition(r.text) > 0.5) t.repetitiveOutputs++;
  if (r.answer !== undefined && r.answerKind !== undefined) {
    t.graded++;
    if (t.answerKind === null) t.answerKind = r.answerKind;
    if (isCorrectAnswer(r.answerKind, r.answer, r.text)) t.correct++;
  }
  return tallyThinking(t, r);
}

/** the thinking/answer split of one completed record (reasoning.ts), summed into the tally */
function tallyThinking(t: ValidityTally, r: RequestRecord): number {
  const tokens = r.outputTokens ?? 0;
  const s = splitRecord(r);
  if (!s) {
    t.outputChars += r.text.length;
    t.answerTokens += tokens;
    return Number.NaN;
  }
  t.thinkingRequests++;
  t.thinkingChars += s.reasoningChars;
  t.outputChars += s.reasoningChars + s.answerChars;
  const chars = s.reasoningChars + s.answerChars;
  const thinking = r.reasoningTokens !== undefined ? Math.min(tokens, r.reasoningTokens) : chars > 0 ? Math.round((tokens * s.reasoningChars) / chars) : 0;
  t.thinkingTokens += thinking;
  t.answerTokens += tokens - thinking;
  if (s.firstAnswerMs === null) {
    t.thinkingNoAnswer++;
    return Number.NaN;
  }
  return s.firstAnswerMs;
}

export function mergeTally(a: ValidityTally, b: ValidityTally): ValidityTally {
  const out: ValidityTally = { ...a, errors: [...a.errors], clientErrorSamples: [...a.clientErrorSamples] };
  for (const k of Object.keys(b) as (keyof ValidityTally)[]) {
    const v = b[k];
    if (typeof v === 'number' && typeof out[k] === 'number') {
      if (k === 'minStart' || k === 'minScheduled') (out[k] as number) = Math.min(out[k], v);
      else if (k === 'maxStart' || k === 'maxScheduled') (out[k] as number) = Math.max(out[k], v);
      else (out[k] as number) = (out[k] as number) + v;
    }
  }
  for (const [s, e] of b.errors) keepFirst(out.errors, s, e);
  for (const [s, e] of b.clientErrorSamples) keepFirst(out.clientErrorSamples, s, e);
  out.answerKind = a.answerKind ?? b.answerKind;
  return out;
}

/** Transferable form of a RunColumns (worker -> main). */
export interface ColumnsSnapshot {
  warmups: number;
  good: Record<GoodColumn, ColumnSnapshot>;
  itl: ColumnSnapshot;
  lag: ColumnSnapshot;
  tally: ValidityTally;
}

/** `ttfat`: time to first answer token of a request that thought first, NaN for the others */
type GoodColumn = 'ttft' | 'latency' | 'tpot' | 'start' | 'queue' | 'promptLen' | 'outputLen' | 'itlFrom' | 'itlCount' | 'ttfat';
const GOOD_COLUMNS: GoodColumn[] = ['ttft', 'latency', 'tpot', 'start', 'queue', 'promptLen', 'outputLen', 'itlFrom', 'itlCount', 'ttfat'];

/**
 * The columns one run's metrics are computed from. `add` takes every finished record (warmups
 * are only counted); successful requests (under the metric definition) go to the "good"
 * columns, their output-token gaps to `itl`, every measured request's dispatch lag to `lag`.
 */
export class RunColumns {
  warmups = 0;
  readonly good: Record<GoodColumn, F64Column>;
  readonly itl = new F64Column();
  readonly lag = new F64Column();
  tally = emptyTally();

  constructor(
    readonly api: ApiKind,
    readonly definition: MetricDefinition,
    readonly ignoreEos = false,
  ) {
    this.good = Object.fromEntries(GOOD_COLUMNS.map((k) => [k, new F64Column()])) as Record<GoodColumn, F64Column>;
  }

  get goodCount(): number {
    return this.good.ttft.length;
  }

  /** add one finished record; returns its derived numbers (undefined for a warmup) */
  add(rec: RequestRecord): DerivedRequest | undefined {
    if (rec.warmup) {
      this.warmups++;
      return undefined;
    }
    const d = deriveRequest(rec, this.api, this.definition);
    this.addDerived(rec, d);
    return d;
  }

  addDerived(rec: RequestRecord, d: DerivedRequest): void {
    this.lag.push(rec.dispatchedMs - rec.scheduledMs);
    const ttfat = tallyRecord(this.tally, rec, d, this.ignoreEos);
    if (!d.ok) return;
    const g = this.good;
    g.ttft.push(d.ttftMs);
    g.latency.push(d.latencyMs);
    g.tpot.push(d.tpotMs ?? Number.NaN);
    g.start.push(d.startMs);
    g.queue.push(d.queueMs);
    g.promptLen.push(d.promptLen);
    g.outputLen.push(d.outputLen);
    g.itlFrom.push(this.itl.length);
    g.itlCount.push(d.itlMs.length);
    g.ttfat.push(ttfat);
    for (const x of d.itlMs) this.itl.push(x);
  }

  snapshot(): ColumnsSnapshot {
    return {
      warmups: this.warmups,
      good: Object.fromEntries(GOOD_COLUMNS.map((k) => [k, this.good[k].snapshot()])) as Record<GoodColumn, ColumnSnapshot>,
      itl: this.itl.snapshot(),
      lag: this.lag.snapshot(),
      tally: this.tally,
    };
  }

  /** the buffers a snapshot can hand over without copying */
  static transferables(s: ColumnsSnapshot): ArrayBuffer[] {
    const all = [...Object.values(s.good), s.itl, s.lag];
    return all.flatMap((c) => c.chunks.map((a) => a.buffer as ArrayBuffer));
  }

  /** append another run's columns (a worker's or a client node's share of the same run) */
  merge(s: ColumnsSnapshot): void {
    this.warmups += s.warmups;
    const base = this.itl.length;
    for (const k of GOOD_COLUMNS) this.good[k].append(F64Column.from(s.good[k]), k === 'itlFrom' ? base : 0);
    this.itl.append(F64Column.from(s.itl));
    this.lag.append(F64Column.from(s.lag));
    this.tally = mergeTally(this.tally, s.tally);
  }
}
