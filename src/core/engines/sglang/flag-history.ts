/**
 * Notes on SGLang flag changes that source code cannot give: the PR, the date, and the spelling to
 * use instead. Which release first/last accepted a flag is no longer taken from here: the
 * generated catalog (data/sglang-server-args.ts, SGLANG_FLAG_PRESENCE) reads every release tag
 * from v0.4.6 on, and `presenceHistory` (sglang/catalog.ts) attaches these notes to the change it finds.
 * Entries here only decide status for deprecations that source states in words alone. Source: MoE Bench research notes sglang-launch.md §3.8 "Renamed, deprecated and
 * removed flags" and "Feature arrival by release" (ancestry checks against release-bump commits
 * of the modal-projects/sglang mirror), plus §3.2 / §4.3 for PD flags.
 *
 * Release bounds: `since` is the first release known to carry the change; `after` (when given) is
 * the last release known without it. Releases between the two are "unknown", and validation says
 * so as a warning instead of guessing. Without `after`, `since` is an exact first release.
 * Release dates used to place 2026 changes: v0.5.10 was out by 2026-04-06 and v0.5.12 by
 * 2026-05-17 (public release notes / image bumps); v0.5.15's branch was cut in early July 2026.
 */
import type { FlagChange } from '../flag-catalog';

const deepepEra = { date: '2025-08-01', pr: 8658 };
const removedMoeFlags = { kind: 'removed' as const, since: '0.5.4.post1', date: '2025-10-25', pr: 12124 };
const cudaGraphRename = { since: '0.5.15', after: '0.5.12', date: '2026-06-09', pr: 23906 };

export const SGLANG_FLAG_HISTORY: readonly FlagChange[] = [
  // DeepEP spelling: --enable-deepep-moe -> --moe-a2a-backend deepep (#8658), removed by #12124
  { flag: '--moe-a2a-backend', kind: 'added', since: '0.4.10.post2', ...deepepEra },
  { flag: '--enable-deepep-moe', kind: 'deprecated', since: '0.4.10.post2', replacement: '--moe-a2a-backend deepep', ...deepepEra },
  { flag: '--enable-deepep-moe', ...removedMoeFlags, replacement: '--moe-a2a-backend deepep' },
  { flag: '--enable-ep-moe', kind: 'deprecated', since: '0.4.10.post2', replacement: '--ep-size <tp size>', ...deepepEra },
  { flag: '--enable-ep-moe', ...removedMoeFlags, replacement: '--ep-size <tp size>' },
  { flag: '--enable-flashinfer-cutlass-moe', ...removedMoeFlags, replacement: '--moe-runner-backend flashinfer_cutlass' },
  { flag: '--enable-flashinfer-trtllm-moe', ...removedMoeFlags, replacement: '--moe-runner-backend flashinfer_trtllm' },
  { flag: '--enable-flashinfer-mxfp4-moe', ...removedMoeFlags, replacement: '--moe-runner-backend flashinfer_mxfp4' },
  { flag: '--enable-triton-kernel-moe', ...removedMoeFlags, replacement: '--moe-runner-backend triton_kernel' },
  { flag: '--enable-flashinfer-cutedsl-moe', ...removedMoeFlags, replacement: '--moe-runner-backend flashinfer_cutedsl' },
  // feature arrival by release (§3.8)
  { flag: '--moe-dense-tp-size', kind: 'added', since: '0.4.6.post2', date: '2025-04-18' },
  { flag: '--enable-dp-lm-head', kind: 'added', since: '0.4.6.post4', date: '2025-05-12' },
  { flag: '--enable-eplb', kind: 'added', since: '0.4.6.post5' },
  { flag: '--init-expert-location', kind: 'added', since: '0.4.6.post5' },
  { flag: '--ep-num-redundant-experts', kind: 'added', since: '0.4.6.post5' },
  { flag: '--deepep-config', kind: 'added', since: '0.4.6.post5' },
  { flag: '--eplb-rebalance-num-iterations', kind: 'added', since: '0.4.6.post5' },
  { flag: '--enable-two-batch-overlap', kind: 'added', since: '0.4.7' },
  { flag: '--num-reserved-decode-tokens', kind: 'added', since: '0.4.10', note: 'successor of env SGLANG_HACK_PD_DECODE_NUM_RESERVED_DECODE_TOKENS' },
  { flag: '--collect-tokens-histogram', kind: 'added', since: '0.4.6.post5' },
  { flag: '--collect-tokens-histogram', kind: 'deprecated', since: '0.5.15', after: '0.5.10', date: '2026-04-24', pr: 23595, replacement: '--enable-metrics (collects the histograms)' },
  // CUDA-graph flags split by phase (#23906); old spellings stay as deprecated aliases
  { flag: '--cuda-graph-bs-decode', kind: 'added', ...cudaGraphRename },
  { flag: '--cuda-graph-max-bs-decode', kind: 'added', ...cudaGraphRename },
  { flag: '--cuda-graph-bs-prefill', kind: 'added', ...cudaGraphRename },
  { flag: '--cuda-graph-max-bs-prefill', kind: 'added', ...cudaGraphRename },
  { flag: '--cuda-graph-backend-decode', kind: 'added', ...cudaGraphRename },
  { flag: '--cuda-graph-backend-prefill', kind: 'added', ...cudaGraphRename },
  { flag: '--cuda-graph-config', kind: 'added', ...cudaGraphRename },
  { flag: '--disable-decode-cuda-graph', kind: 'added', ...cudaGraphRename },
  { flag: '--disable-prefill-cuda-graph', kind: 'added', ...cudaGraphRename },
  { flag: '--cuda-graph-bs', kind: 'deprecated', replacement: '--cuda-graph-bs-decode', ...cudaGraphRename },
  { flag: '--cuda-graph-max-bs', kind: 'deprecated', replacement: '--cuda-graph-max-bs-decode', ...cudaGraphRename },
  { flag: '--disable-cuda-graph', kind: 'deprecated', replacement: '--disable-decode-cuda-graph --disable-prefill-cuda-graph', ...cudaGraphRename },
  { flag: '--enable-piecewise-cuda-graph', kind: 'added', since: '0.5.4.post1', after: '0.5.2', date: '2025-10-11' },
  { flag: '--enable-piecewise-cuda-graph', kind: 'removed', replacement: 'nothing: prefill CUDA graphs are on by default', ...cudaGraphRename },
  // streaming, PD, gRPC, DSA renames
  { flag: '--incremental-streaming-output', kind: 'added', since: '0.5.15', after: '0.5.6.post2', date: '2026-03-14', pr: 20614 },
  { flag: '--stream-output', kind: 'deprecated', since: '0.5.15', after: '0.5.6.post2', date: '2026-03-14', pr: 20614, replacement: '--incremental-streaming-output' },
  { flag: '--pdlb-url', kind: 'added', since: '0.4.7', date: '2025-05-07' },
  { flag: '--pdlb-url', kind: 'removed', since: '0.5.2', date: '2025-09-05', pr: 9964, replacement: 'the sglang_router (launch_router --pd-disaggregation)' },
  { flag: '--disaggregation-decode-tp', kind: 'removed', since: '0.5.10', after: '0.5.6.post2', date: '2026-03-02', pr: 19618 },
  { flag: '--disaggregation-decode-dp', kind: 'removed', since: '0.5.10', after: '0.5.6.post2', date: '2026-03-02', pr: 19618 },
  { flag: '--disaggregation-prefill-pp', kind: 'removed', since: '0.5.10', after: '0.5.6.post2', date: '2026-03-02', pr: 19618 },
  { flag: '--prefill-round-robin-balance', kind: 'added', since: '0.5.3', after: '0.5.2', date: '2025-09-09' },
  { flag: '--prefill-round-robin-balance', kind: 'deprecated', since: '0.5.10', after: '0.5.6.post2', date: '2025-12-31', pr: 16195, note: 'now a no-op' },
  { flag: '--grpc-mode', kind: 'deprecated', since: 'latest', after: '0.5.12', date: '2026-07-08', pr: 23508, replacement: '--smg-grpc-mode (legacy) or --grpc-port (native)' },
  { flag: '--nsa-prefill-backend', kind: 'deprecated', since: '0.5.15', after: '0.5.12', date: '2026-05-20', pr: 25821, replacement: '--dsa-prefill-backend' },
  { flag: '--nsa-decode-backend', kind: 'deprecated', since: '0.5.15', after: '0.5.12', date: '2026-05-20', pr: 25821, replacement: '--dsa-decode-backend' },
  { flag: '--nsa-prefill-cp-mode', kind: 'deprecated', since: '0.5.15', after: '0.5.12', date: '2026-05-20', pr: 25821, replacement: '--cp-strategy' },
];
