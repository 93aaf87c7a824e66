/**
 * SGLang scheduler log line formats this parser reads, and the versions they were taken from.
 * Read from SGLang's source (python/sglang/srt/managers/scheduler.py `log_prefill_stats` /
 * `log_decode_stats`, later moved to scheduler_metrics_mixin.py; eplb/expert_distribution.py;
 * the logger prefix in `run_scheduler_process`) and from logs quoted in SGLang issues. Fixtures
 * per version are in test/fixtures/deep-telemetry/sglang/.
 *
 * Prefix (all versions): `[%Y-%m-%d %H:%M:%S<ranks>] ` where <ranks> is ` DP<d>` (DP attention),
 * ` PP<p>` (pp_size > 1), ` TP<t>` (tp_size > 1), ` EP<e>` (ep_size > 1) in that order (newer
 * builds add ATTN_CP / MOE_DP); processes outside the scheduler print no ranks. Some 2024
 * builds print the time only (`[11:19:46 TP0]`).
 *
 * v0.3.x-v0.4.5 (2024-09 .. 2025-04):
 *   Prefill batch. #new-seq: 1, #new-token: 6, #cached-token: 0, token usage: 0.00, #running-req: 0, #queue-req: 0
 *   Decode batch. #running-req: 1, #token: 234, token usage: 0.00, gen throughput (token/s): 147.64, #queue-req: 0
 *   (from v0.4.1 the decode line may carry `accept len: F, ` with speculative decoding)
 *
 * v0.4.6-v0.4.10 (2025-05 .. 2025-08; the PD + large-EP release of the 96-GPU blog):
 *   PD prefill: Prefill batch. #new-seq, #new-token, #cached-token, token usage, [#running-req,]
 *               #unbootstrapped-req, #queue-req, #transferring-req[, input throughput (token/s)]
 *   Decode batch. #running-req, #token, token usage, [pre-allocated usage, #retracted-req,]
 *               cuda graph: True|False, gen throughput (token/s), #queue-req
 *
 * v0.5.0-v0.5.4 (2025-08 .. 2025-10): same keys, every line ends with ", ".
 *
 * v0.5.5+ (2025-11 ..; scheduler_metrics_mixin.py @ 01bb3c80):
 *   Prefill batch, #new-seq, #new-token, #cached-token, token usage, #running-req, #queue-req,
 *               PD prefill adds #prealloc-req (bootstrap queue), #inflight-req, input throughput (token/s)
 *   Decode batch, #running-req, #token, token usage, [accept len, accept rate,] PD decode adds
 *               pre-allocated usage, #prealloc-req, #transfer-req, #retracted-req; then
 *               cuda graph, gen throughput (token/s), #queue-req
 *   Hybrid models print `#full token` / `full token usage` / `swa token usage` instead of
 *   `#token` / `token usage`; SGLANG_LOG_FORWARD_ITERS adds ` [<forward ct>]` after "batch".
 *
 * Expert balancedness (eplb/expert_distribution.py, v0.4.6+ with --enable-expert-distribution-metrics,
 * newer: --expert-balancedness-report-mode server_log), rank 0 only:
 *   [Expert Balancedness] forward_pass_id=123 current_pass_balancedness=0.812 last_10_average_balancedness=0.801 ... gpu_physical_count_sum=65536
 *
 * The parser is key-driven, not position-driven: keys can come and go between versions
 * without breaking it, and a key it does not know is ignored.
 */
export const SGLANG_LOG_FORMAT_VERSIONS = ['0.4.0', '0.4.6', '0.5.0', '0.5.5'] as const;
export type SglangLogFormatVersion = (typeof SGLANG_LOG_FORMAT_VERSIONS)[number];

/** the time stamp and rank tags SGLang's logger prints */
export const SGLANG_PREFIX = /\[((?:\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d(?:[.,]\d+)?)((?:\s+(?:DP|PP|TP|EP|ATTN_CP|MOE_DP)\d+)*)\]\s?/;

/** "Prefill batch. ", "Decode batch, ", "Decode batch [42], " */
export const BATCH_HEAD = /^(Prefill|Decode) batch(?:\s*\[\d+\])?[.,]?\s*/;

export const BALANCEDNESS_HEAD = /^\[Expert Balancedness\]\s*/;
