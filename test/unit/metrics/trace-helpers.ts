import type { RequestRecord } from '../../../src/core/metrics/record';

/** A request record with sensible defaults; tests override what they compute by hand. */
export function rec(over: Partial<RequestRecord>): RequestRecord {
  return {
    seq: 0,
    row: 0,
    scheduledMs: 0,
    dispatchedMs: 0,
    startMs: 0,
    promptLen: 10,
    maxTokens: 10,
    ok: true,
    lastLineMs: 0,
    chunkMs: [],
    chunkChars: [],
    chunkTokens: [],
    outputTokens: null,
    promptTokens: null,
    cachedTokens: null,
    text: '',
    ...over,
  };
}
