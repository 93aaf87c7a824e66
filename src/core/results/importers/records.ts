import type { ApiKind, RequestRecord } from '../../metrics/record';
import { deriveRequest, type DerivedRequest } from '../../metrics/definitions';

/** One request as a peer tool timed it: TTFT, then the gap before each later chunk it counted (ms). */
export interface ToolRequestTiming {
  seq: number;
  ok: boolean;
  error?: string;
  httpStatus?: number;
  /** ms after the run's first request; 0 when the tool kept no start times */
  startMs: number;
  ttftMs: number | null;
  /** the tool's inter-token (inter-chunk) gaps, ms */
  gapsMs: readonly number[];
  /** request latency, ms; when absent the last chunk ends the request */
  latencyMs: number | null;
  promptLen: number;
  /** output tokens as the tool counted them */
  outputTokens: number | null;
  /** prompt tokens as the server reported them, when the tool kept that apart */
  promptTokens?: number | null;
  cachedTokens?: number | null;
  text?: string;
}

/**
 * Our request record from a tool's per-request timings: one chunk at TTFT and one after each of
 * the tool's gaps, so that deriving it (either definition) gives back the tool's TTFT, ITLs and
 * latency exactly. A successful request with no timed chunk (non-streaming) gets one chunk at its
 * latency, because a record without chunks reads as "no content received".
 */
export function recordFromTiming(t: ToolRequestTiming): RequestRecord {
  const chunkMs: number[] = [];
  if (t.ttftMs !== null && Number.isFinite(t.ttftMs)) {
    let at = t.ttftMs;
    chunkMs.push(at);
    for (const gap of t.gapsMs) {
      at += gap;
      chunkMs.push(at);
    }
  } else if (t.ok && t.latencyMs !== null) {
    chunkMs.push(t.latencyMs);
  }
  const lastChunk = chunkMs.length > 0 ? chunkMs[chunkMs.length - 1] : 0;
  const lastLineMs = t.latencyMs !== null && Number.isFinite(t.latencyMs) ? Math.max(t.latencyMs, lastChunk) : lastChunk;
  return {
    seq: t.seq,
    row: t.seq,
    scheduledMs: t.startMs,
    dispatchedMs: t.startMs,
    startMs: t.startMs,
    promptLen: t.promptLen,
    maxTokens: t.outputTokens ?? 0,
    ok: t.ok,
    ...(t.error ? { error: t.error } : {}),
    ...(t.httpStatus !== undefined ? { httpStatus: t.httpStatus } : {}),
    lastLineMs,
    chunkMs,
    // one unit of text and one token per timed chunk: bench_serving's /generate split then adds nothing
    chunkChars: chunkMs.map(() => 1),
    chunkTokens: chunkMs.map((_, k) => k + 1),
    outputTokens: t.outputTokens,
    promptTokens: t.promptTokens ?? null,
    cachedTokens: t.cachedTokens ?? null,
    text: t.text ?? '',
  };
}

/**
 * An imported run's requests under the definition its records were built for (vLLM's: one
 * chunk per timed gap), i.e. the `derived` list our runs hand to the CDF and timeline plots.
 */
export function importedDerived(records: readonly RequestRecord[], api: ApiKind): DerivedRequest[] {
  return records.map((r) => deriveRequest(r, api, 'vllm'));
}

/** min/max without spreading: a run of 100k requests would overflow the argument list */
export function minOf(values: readonly number[]): number {
  let m = Number.POSITIVE_INFINITY;
  for (const v of values) if (v < m) m = v;
  return m;
}

export function maxOf(values: readonly number[]): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const v of values) if (v > m) m = v;
  return m;
}
