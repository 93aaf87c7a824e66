/**
 * Plain data shared by the load generator, the metrics and the run store.
 * Times are milliseconds from `performance.now()`; a record's stream times are relative to its
 * own start (`startMs`), its schedule times relative to the run's t0.
 */

/** Which HTTP API a request goes to (SGLang bench_serving backends: sglang, sglang-oai, sglang-oai-chat). */
export type ApiKind = 'generate' | 'completions' | 'chat';

export const API_PATHS: Record<ApiKind, string> = {
  generate: '/generate',
  completions: '/v1/completions',
  chat: '/v1/chat/completions',
};

/** One prompt of a workload. */
export interface DatasetRow {
  /** text, or token ids (sent as `input_ids` on /generate, as a token-array prompt on /v1/completions) */
  prompt: string | number[];
  /** input length the dataset intends (SGLang sums this for "Total input tokens") */
  promptLen: number;
  /** requested output tokens (max_new_tokens / max_tokens) */
  outputLen: number;
  /** expected answer when the dataset has one (GSM8K final number, MMLU letter) */
  answer?: string;
  /** how to grade `answer` */
  answerKind?: 'gsm8k' | 'mmlu';
  /** shared-prefix group (generated-shared-prefix) */
  group?: number;
  /** a multi-turn history, sent as is on the chat API (`prompt` is its flattened text for the others) */
  messages?: { role: 'system' | 'user' | 'assistant'; content: string }[];
}

/**
 * Everything received for one request, raw enough to compute SGLang's and vLLM's metric
 * definitions afterwards. One line of requests.jsonl.
 */
export interface RequestRecord {
  /** dispatch order within the run (warmups are numbered separately, negative) */
  seq: number;
  /** dataset row index (multi-turn workloads: the session index) */
  row: number;
  /** multi-turn workloads: the session (its index in the workload) and the turn within it (0-based) */
  session?: number;
  turn?: number;
  warmup?: boolean;
  /** planned dispatch time, ms after t0 */
  scheduledMs: number;
  /** when the dispatcher actually handed it out, ms after t0 (dispatch lag = dispatchedMs - scheduledMs) */
  dispatchedMs: number;
  /** after the concurrency slot was acquired, just before the request was written (bench_serving's `st`), ms after t0 */
  startMs: number;
  promptLen: number;
  /** requested output tokens */
  maxTokens: number;
  ok: boolean;
  error?: string;
  /**
   * the client caused the failure (no file descriptor or local port, its own socket cap or
   * timeout): not a server error; the run is marked invalid
   */
  clientError?: boolean;
  httpStatus?: number;
  /** response headers arrived, ms after startMs */
  headersMs?: number;
  /** last SSE line of any kind (usage-only chunk, [DONE] included), ms after startMs; SGLang's latency */
  lastLineMs: number;
  /** arrival of every chunk that carries a choice (OpenAI) or a `text` field (/generate), ms after startMs */
  chunkMs: number[];
  /** characters of new text in that chunk (0 = empty text) */
  chunkChars: number[];
  /** cumulative completion tokens the server reported with that chunk, -1 when it reported none */
  chunkTokens: number[];
  /** server-reported completion tokens (usage / meta_info), null when the server sent none */
  outputTokens: number | null;
  /** server-reported prompt tokens */
  promptTokens: number | null;
  /** server-reported prefix-cache hit tokens */
  cachedTokens: number | null;
  finishReason?: string;
  /** generated text (kept for empty/repetition checks and answer grading) */
  text: string;
  answer?: string;
  answerKind?: 'gsm8k' | 'mmlu';
}
