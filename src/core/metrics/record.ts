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
  /** generated text (kept for empty/repetition checks and answer grading); reasoning_content included, in arrival order */
  text: string;
  /**
   * characters of `reasoning_content` (or `reasoning`) in each chunk, same length as chunkChars;
   * present only when the server separated thinking from the answer (SGLang's --reasoning-parser)
   */
  reasoningChars?: number[];
  /** the server's count of thinking tokens (usage / meta_info `reasoning_tokens`) when it sent a non-zero one */
  reasoningTokens?: number;
  /**
   * the server's request id: `meta_info.id` (/generate) or the OpenAI `id` of the chunks (SGLang
   * sets both to the rid its scheduler logs); joins the request with the server's per-request
   * log lines (--enable-request-time-stats-logging)
   */
  rid?: string;
  /** per-request time stats from the final meta_info (/generate on a server with --enable-metrics) */
  serverTimes?: ServerRequestTimes;
  /** per-request speculative-decoding figures from the final meta_info (servers with --speculative-algorithm) */
  spec?: SpecRequestStats;
  answer?: string;
  answerKind?: 'gsm8k' | 'mmlu';
}

/**
 * What SGLang puts in a finished request's `meta_info` about where its time went (only with
 * --enable-metrics). Seconds as the server sends them; the epoch stamps are the server's wall
 * clock. Names from sgl-project/sglang@00ce49e0 python/sglang/srt/observability/req_time_stats.py
 * (SchedulerReqTimeStats / APIServerReqTimeStats.convert_to_output_meta_info) and
 * managers/tokenizer_manager.py@001067ff (_handle_batch_output: the scheduler's stats on every
 * chunk, the API server's at finish); older releases send `prefill_launch_delay` instead of
 * `prefill_waiting_latency` and no epoch stamps. In PD the client talks to the decode server, so
 * these are the decode server's: `queue_time` is its decode queue. The PD bootstrap / KV-alloc /
 * transfer split is not in meta_info (SGLang logs it with --enable-request-time-stats-logging);
 * it comes from the histograms.
 */
export interface ServerRequestTimes {
  /** forward entry − wait-queue entry, s (in PD on the decode server: KV arrived -> running batch) */
  queueTime?: number;
  /** forward entry -> prefill batch launch, s (`prefill_waiting_latency`, older `prefill_launch_delay`) */
  prefillWaitingLatency?: number;
  /** prefill batch launch -> end, s */
  prefillLaunchLatency?: number;
  /** epoch s */
  forwardEntryTime?: number;
  prefillFinishedTime?: number;
  requestReceivedTs?: number;
  requestFinishedTs?: number;
  /** finish − scheduler forward entry, s */
  inferenceTime?: number;
  /** server-side arrival -> finish, s */
  e2eLatency?: number;
}

/** tokenizer_manager._calculate_spec_decoding_metrics (sgl-project/sglang@001067ff) */
export interface SpecRequestStats {
  verifyCt: number;
  /** completion tokens / verify passes (bonus token included) */
  acceptLength: number | null;
  /** correct drafts / proposed drafts */
  acceptRate: number | null;
}
