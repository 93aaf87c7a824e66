import type { ApiKind, RequestRecord } from './record';
import { estimateTokens } from '../util/tokens';

/**
 * Which tool's metric definitions to reproduce. `sglang` (default) follows
 * sglang.benchmark.serving; `vllm` follows `vllm bench serve` where they differ:
 *  - TTFT: SGLang waits for the first chunk with non-empty text; vLLM takes the first chunk with choices.
 *  - ITL: SGLang's /generate client splits a chunk gap evenly over the new tokens; vLLM never splits.
 *  - E2E: SGLang stops at the last SSE line (usage chunk, [DONE]); vLLM at the last choice chunk.
 *  - output tokens without usage: SGLang falls back to the requested max tokens; vLLM re-counts the text.
 *  - input tokens: SGLang sums the dataset's prompt lengths; vLLM the server-reported prompt tokens.
 */
export type MetricDefinition = 'sglang' | 'vllm';

/** One request's numbers under a definition (ms throughout). */
export interface DerivedRequest {
  ok: boolean;
  /** 0 when no content chunk ever arrived (bench_serving leaves ttft at 0.0) */
  ttftMs: number;
  latencyMs: number;
  itlMs: number[];
  outputLen: number;
  promptLen: number;
  /** (latency - ttft) / (outputLen - 1), only when outputLen > 1 */
  tpotMs: number | null;
  startMs: number;
  queueMs: number;
}

export function deriveRequest(rec: RequestRecord, api: ApiKind, definition: MetricDefinition): DerivedRequest {
  return definition === 'vllm' ? deriveVllm(rec) : api === 'generate' ? deriveSglangGenerate(rec) : deriveSglangOpenAi(rec);
}

function finish(rec: RequestRecord, ok: boolean, ttftMs: number, latencyMs: number, itlMs: number[], outputLen: number, promptLen: number): DerivedRequest {
  return {
    ok,
    ttftMs,
    latencyMs,
    itlMs,
    outputLen,
    promptLen,
    tpotMs: outputLen > 1 ? (latencyMs - ttftMs) / (outputLen - 1) : null,
    startMs: rec.startMs,
    queueMs: rec.startMs - rec.dispatchedMs,
  };
}

/**
 * bench_serving's /generate client: `text` is cumulative, so once it is non-empty every chunk
 * counts; the gap since the previous counted chunk is split over Δcompletion_tokens, and chunks
 * with no new tokens are skipped without moving the previous timestamp.
 */
function deriveSglangGenerate(rec: RequestRecord): DerivedRequest {
  let ttft = 0;
  let seen = false;
  let prev = 0;
  let lastTokens = 0;
  let outputLen = rec.maxTokens;
  let cumChars = 0;
  const itl: number[] = [];
  for (let k = 0; k < rec.chunkMs.length; k++) {
    cumChars += rec.chunkChars[k];
    if (cumChars === 0) continue;
    const t = rec.chunkMs[k];
    // /generate always carries meta_info.completion_tokens; count one per chunk if a proxy dropped it
    const tokens = rec.chunkTokens[k] >= 0 ? rec.chunkTokens[k] : lastTokens + 1;
    outputLen = tokens;
    if (!seen) {
      seen = true;
      ttft = t;
    } else {
      const newTokens = tokens - lastTokens;
      if (newTokens <= 0) continue;
      const gap = (t - prev) / newTokens;
      for (let j = 0; j < newTokens; j++) itl.push(gap);
    }
    prev = t;
    lastTokens = tokens;
  }
  return finish(rec, rec.ok, ttft, rec.lastLineMs, itl, outputLen, rec.promptLen);
}

/** bench_serving's OpenAI clients: one ITL entry per non-empty content chunk, never split. */
function deriveSglangOpenAi(rec: RequestRecord): DerivedRequest {
  let ttft = 0;
  let seen = false;
  let prev = 0;
  const itl: number[] = [];
  for (let k = 0; k < rec.chunkMs.length; k++) {
    if (rec.chunkChars[k] === 0) continue;
    const t = rec.chunkMs[k];
    if (!seen) {
      seen = true;
      ttft = t;
    } else {
      itl.push(t - prev);
    }
    prev = t;
  }
  // SGLang falls back to the requested length when the server sent no usage
  const outputLen = rec.outputTokens ?? rec.maxTokens;
  return finish(rec, rec.ok, ttft, rec.lastLineMs, itl, outputLen, rec.promptLen);
}

/** vllm/benchmarks/lib/endpoint_request_func.py: every chunk with choices counts, text or not. */
function deriveVllm(rec: RequestRecord): DerivedRequest {
  const n = rec.chunkMs.length;
  const itl: number[] = [];
  for (let k = 1; k < n; k++) itl.push(rec.chunkMs[k] - rec.chunkMs[k - 1]);
  const ttft = n > 0 ? rec.chunkMs[0] : 0;
  const latency = n > 0 ? rec.chunkMs[n - 1] : rec.lastLineMs;
  // "Never received a valid chunk to calculate TTFT" is a failure in vLLM
  const ok = rec.ok && n > 0;
  const outputLen = rec.outputTokens && rec.outputTokens > 0 ? rec.outputTokens : estimateTokens(rec.text);
  const promptLen = rec.promptTokens ?? rec.promptLen;
  return finish(rec, ok, ttft, latency, itl, outputLen, promptLen);
}
