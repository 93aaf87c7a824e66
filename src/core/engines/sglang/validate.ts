import { choicesAt } from '../catalog';
import { SGLANG_CATALOG } from './catalog';
import { atLeast, compareVersions } from '../../util/version';
import type { ResolvedDeployment, ResolvedGroup, Report } from '../types';
import { DEEPEP_MAX_DISPATCH_TOKENS, dispatchSizing, isEpForced } from './command';

/** SGLang's launcher rules (server_args.py asserts and what silently changes), per group. */

export function checkSglangVersion(d: ResolvedDeployment, warn: Report): void {
  // the flag history starts at v0.4.6 (the blog era); older releases are not modelled
  if (!d.version.latest && compareVersions(d.version, '0.4.6') < 0) {
    warn('engine', ['engine', 'version'], `SGLang ${d.version.text} predates the releases MoE Bench knows (0.4.6 and later); flag spellings are not checked for it`);
  }
  if (!d.version.latest && compareVersions(d.version, SGLANG_CATALOG.version) > 0) {
    warn('engine', ['engine', 'version'], `SGLang ${d.version.text} is newer than the flag catalog (${SGLANG_CATALOG.version}); flags are checked against ${SGLANG_CATALOG.version}`);
  }
}

export function checkSglangGroup(d: ResolvedDeployment, g: ResolvedGroup, error: Report, warn: Report): void {
  const o = g.origin;
  const a2a = g.moe.a2a ?? 'none';
  checkSglangA2a(d, g, error, warn);
  if (g.dpAttention) {
    // SGLang asserts tp_size % dp_size == 0 under DP attention (launch notes §3.1)
    if (g.tp % g.dp !== 0) error('tp-dp', o('parallel', 'dp'), `with DP attention tp must be a multiple of dp: tp ${g.tp} % dp ${g.dp} = ${g.tp % g.dp}`, `Large-EP recipes use dp = tp (${g.tp}).`);
    // SGLang silently turns DP attention (and dp-lm-head) off when dp_size == 1
    if (g.dp === 1) warn('dp-attention', o('parallel', 'dpAttention'), 'DP attention with dp 1 does nothing: SGLang turns it off', `Set dp (usually dp = tp = ${g.tp}).`);
  } else if (g.dp > 1 && g.nodesPerInstance > 1) {
    // SGLang asserts against dp_size > 1 with nnodes > 1 unless DP attention is on (§3.1)
    error('multinode-dp', o('parallel', 'dp'), `dp ${g.dp} across ${g.nodesPerInstance} nodes needs DP attention`, 'Set parallel.dpAttention: true, or use replicas for independent copies.');
  }
  // --enable-dp-lm-head asserts DP attention (§3.7)
  if (g.dpLmHead && !g.dpAttention) error('dp-lm-head', o('parallel', 'dpLmHead'), 'dpLmHead needs DP attention', 'Set parallel.dpAttention: true or drop dpLmHead.');
  // SGLang accepts only None, 1 or tp_size for --moe-dense-tp-size (assert, §3.1)
  if (g.moeDenseTp !== undefined && g.moeDenseTp !== 1 && g.moeDenseTp !== g.tp) {
    error('moe-dense-tp', o('parallel', 'moeDenseTp'), `moeDenseTp must be 1 or tp (${g.tp}), not ${g.moeDenseTp}`, '1 runs the dense MLP layers data-parallel, as in the 96-GPU recipe.');
  }
  // the a2a backends in EP_FORCED_BACKENDS set ep_size = tp_size (§3.3)
  const p = g.spec.parallel ?? {};
  if (isEpForced(a2a) && p.ep !== undefined && p.ep !== g.tp) {
    const epPath = o('parallel', 'ep');
    error('ep-deepep', epPath, `with the ${a2a} all-to-all backend SGLang sets ep = tp (${g.tp}); ep ${p.ep} would be overridden`, `Remove ep or set it to ${g.tp}.`, { title: `Set ep to ${g.tp} (= tp)`, path: epPath, value: g.tp });
  }
  // EPLB asserts ep_size > 1 (§3.3)
  if (g.eplbEnabled && g.ep <= 1) error('eplb-ep', o('moe', 'eplb'), 'EPLB needs expert parallelism (ep > 1)', 'Use a DeepEP all-to-all backend (ep = tp) or set parallel.ep.');
  // TBO with moe_a2a_backend=none requires DP attention (§3.3)
  if (g.moe.tbo && a2a === 'none' && !g.dpAttention) error('tbo', o('moe', 'tbo'), 'two-batch overlap without an all-to-all backend needs DP attention', 'Set moe.a2a: deepep or parallel.dpAttention: true.');
  if (a2a === 'deepep') checkDeepepMode(g, error, warn);
  checkChunkedPrefill(d, g, error, warn);
  if (g.role === 'unified' && (g.transfer.backend !== undefined || g.transfer.ibDevices !== undefined)) {
    warn('transfer', o('transfer', g.transfer.backend !== undefined ? 'backend' : 'ibDevices'), 'KV transfer settings only matter for prefill/decode groups; a unified server ignores them');
  }
  // "fake" is for decode-only testing; SGLang rejects it on prefill servers (§3.2)
  if (g.role === 'prefill' && g.transfer.backend === 'fake') error('transfer', o('transfer', 'backend'), 'the "fake" transfer backend is rejected on prefill servers', 'Use it on decode only, or pick mooncake / nixl.');
}

/**
 * --moe-a2a-backend: the release's own choice list (generated from its source), then what each
 * backend asserts at start (server_args.py@b26729f2245c, _handle_a2a_moe).
 */
function checkSglangA2a(d: ResolvedDeployment, g: ResolvedGroup, error: Report, warn: Report): void {
  const a2a = g.moe.a2a ?? 'none';
  const path = g.origin('moe', 'a2a');
  const at = choicesAt('sglang', d.version, '--moe-a2a-backend');
  if (a2a !== 'none' && at.choices && !at.choices.includes(a2a)) {
    if (VLLM_ONLY_A2A.has(a2a)) error('a2a', path, `"${a2a}" is a vLLM all-to-all backend; SGLang ${d.version.text} takes ${at.choices.join(', ')}`);
    else if (at.exact) error('a2a', path, `SGLang ${d.version.text} does not accept --moe-a2a-backend ${a2a}: its choices are ${at.choices.join(', ')}`);
    else warn('a2a', path, `--moe-a2a-backend ${a2a} is not among the choices of SGLang ${at.from} (${at.choices.join(', ')}); ${d.version.text} is newer than the catalog and may accept it`, 'Refresh the catalog for this build: npm run catalog:sglang -- <sglang checkout>.');
    return;
  }
  const runner = g.moe.runnerBackend;
  if (a2a === 'flashinfer') {
    // L6958-6961: assert enable_dp_attention and dp_size == tp_size
    if (!g.dpAttention || g.dp !== g.tp) error('a2a', path, `the flashinfer all-to-all needs DP attention with dp = tp (here ${g.dpAttention ? `dp ${g.dp}, tp ${g.tp}` : 'DP attention is off'})`, `Set parallel.dpAttention: true and dp ${g.tp}.`);
    // L6972-6976: the MoE runner must be a FlashInfer one
    const runners = ['flashinfer_cutlass', 'flashinfer_cutedsl', 'flashinfer_trtllm_routed'];
    if (runner !== undefined && runner !== 'auto' && !runners.includes(runner)) error('a2a', g.origin('moe', 'runnerBackend'), `the flashinfer all-to-all runs only with MoE runner ${runners.join(', ')}, not ${runner}`);
    else if (runner === undefined || runner === 'auto') warn('a2a', path, `the flashinfer all-to-all asserts a FlashInfer MoE runner (${runners.join(', ')}); "auto" must resolve to one for this checkpoint`, 'Set moe.runnerBackend explicitly, e.g. flashinfer_cutlass.');
  }
  if (a2a === 'pplx') {
    // L6995-7020: low-latency only, DP attention with dp >= 2, DeepGEMM runner
    if (g.deepepMode === 'normal') error('a2a', g.moe.mode !== undefined ? g.origin('moe', 'mode') : path, 'the pplx all-to-all only supports low-latency dispatch; SGLang refuses --deepep-mode normal with it', 'Set moe.mode low_latency or auto.');
    if (!g.dpAttention || g.dp < 2) error('a2a', path, 'the pplx all-to-all needs DP attention with at least 2 DP groups', 'Set parallel.dpAttention: true and dp ≥ 2 (usually dp = tp).');
    if (runner !== undefined && runner !== 'auto' && runner !== 'deep_gemm') error('a2a', g.origin('moe', 'runnerBackend'), `the pplx all-to-all runs only with MoE runner deep_gemm (or auto), not ${runner}`);
  }
}

const VLLM_ONLY_A2A = new Set(['allgather_reducescatter', 'naive', 'flashinfer_all2allv']);

function checkDeepepMode(g: ResolvedGroup, error: Report, warn: Report): void {
  const o = g.origin;
  const modePath = g.moe.mode !== undefined ? o('moe', 'mode') : o('moe', 'a2a');
  // blog compatibility table: auto mode cannot be combined with DP attention unless P and D are disaggregated
  if (g.role === 'unified' && g.dpAttention && (g.deepepMode ?? 'auto') === 'auto') {
    error('deepep-mode', modePath, 'DeepEP auto mode cannot be combined with DP attention on a unified server', 'Pick moe.mode normal (long inputs) or low_latency (CUDA graphs), or split into prefill + decode.');
  }
  // normal mode has symbolic shapes: SGLang disables CUDA graphs for both phases with it (§3.3)
  if (g.deepepMode === 'normal' && (g.memory.cudaGraphBatchSizes || g.memory.cudaGraphMaxBs)) {
    warn('deepep-mode', o('memory', g.memory.cudaGraphBatchSizes ? 'cudaGraphBatchSizes' : 'cudaGraphMaxBs'), 'DeepEP normal mode turns CUDA graphs off, so these batch sizes are never captured');
  }
  if (g.role === 'decode' && g.deepepMode === 'normal') warn('deepep-mode', modePath, 'decode usually runs DeepEP low_latency (CUDA graphs); normal mode is for prefill');
  if (g.role === 'prefill' && g.deepepMode === 'low_latency') warn('deepep-mode', modePath, 'prefill usually runs DeepEP normal mode; low_latency has a fixed per-rank token buffer that long prompts overflow');
  checkDispatchBuffer(g, error, warn);
}

/**
 * DeepEP's low-latency buffer (SGLANG_DEEPEP_NUM_MAX_DISPATCH_TOKENS_PER_RANK, default 128,
 * environ.py@b26729f2245c L996) must hold every token one rank dispatches in a decode step, and
 * DeepEP asserts it is <= 1024 (token_dispatcher/deepep.py@b26729f2245c L380-382).
 */
function checkDispatchBuffer(g: ResolvedGroup, error: Report, warn: Report): void {
  const sizing = dispatchSizing(g);
  if (!sizing) return;
  const explicit = g.moe.maxDispatchTokensPerRank;
  if (explicit !== undefined && explicit > DEEPEP_MAX_DISPATCH_TOKENS) {
    error('deepep-dispatch', g.origin('moe', 'maxDispatchTokensPerRank'), `DeepEP's low-latency buffer holds at most ${DEEPEP_MAX_DISPATCH_TOKENS} tokens per rank; ${explicit} is asserted against`, 'Lower it, and the per-rank decode batch with it.', {
      title: `Set maxDispatchTokensPerRank to ${DEEPEP_MAX_DISPATCH_TOKENS}`,
      path: g.origin('moe', 'maxDispatchTokensPerRank'),
      value: DEEPEP_MAX_DISPATCH_TOKENS,
    });
    return;
  }
  if (sizing.neededTokens > DEEPEP_MAX_DISPATCH_TOKENS) {
    warn('deepep-dispatch', sizing.path, `a ${g.role} rank can dispatch ${sizing.neededTokens} tokens per step (${sizing.why}), more than DeepEP's low-latency limit of ${DEEPEP_MAX_DISPATCH_TOKENS}: larger batches trip DeepEP's assertion`, g.dpAttention && g.dp > 1 ? `Keep maxRunningRequests at or below ${DEEPEP_MAX_DISPATCH_TOKENS * g.dp} (${DEEPEP_MAX_DISPATCH_TOKENS} per rank × dp ${g.dp}) and the CUDA-graph batch at or below ${DEEPEP_MAX_DISPATCH_TOKENS}.` : `Keep maxRunningRequests and the CUDA-graph batch at or below ${DEEPEP_MAX_DISPATCH_TOKENS}.`);
    return;
  }
  if (explicit !== undefined && explicit < sizing.neededTokens) {
    const path = g.origin('moe', 'maxDispatchTokensPerRank');
    warn('deepep-dispatch', path, `maxDispatchTokensPerRank ${explicit} is smaller than what a ${g.role} rank can dispatch per step: ${sizing.neededTokens} (${sizing.why}); DeepEP asserts when a batch that large arrives`, undefined, {
      title: `Set maxDispatchTokensPerRank to ${sizing.neededTokens}`,
      path,
      value: sizing.neededTokens,
    });
  }
}

function checkChunkedPrefill(d: ResolvedDeployment, g: ResolvedGroup, error: Report, warn: Report): void {
  const chunk = g.memory.chunkedPrefill;
  if (chunk === undefined || chunk <= 0) return;
  const path = g.origin('memory', 'chunkedPrefill');
  const page = g.memory.pageSize;
  // SGLang asserts chunked_prefill_size % page_size == 0 (not on decode servers). Since
  // v0.4.9.post4 the assert sits in check_server_args, which runs after __post_init__ divided the
  // value by dp_size under DP attention, so it holds per DP rank (server_args.py@b26729f2245c
  // L6702 divides, L9189 asserts; @v0.4.9.post3 the assert ran in __post_init__ before the division).
  const checkedPerRank = g.dpAttention && g.dp > 1 && atLeast(d.version, '0.4.9.post4');
  if (page !== undefined && g.role !== 'decode') {
    const checked = checkedPerRank ? Math.floor(chunk / g.dp) : chunk;
    if (checked % page !== 0) {
      const unit = checkedPerRank ? page * g.dp : page;
      const down = Math.max(unit, Math.floor(chunk / unit) * unit);
      const rounded = chunk - down <= down + unit - chunk ? down : down + unit;
      error(
        'chunked-prefill',
        path,
        checkedPerRank
          ? `chunkedPrefill ${chunk} is divided by dp ${g.dp} before SGLang checks it: ${checked} tokens per rank is not a multiple of pageSize ${page}`
          : `chunkedPrefill ${chunk} is not a multiple of pageSize ${page}`,
        checkedPerRank ? `Use a multiple of pageSize × dp = ${unit}, e.g. ${rounded}.` : `Use a multiple of ${page}, e.g. ${rounded}.`,
        { title: `Set chunkedPrefill to ${rounded}${checkedPerRank ? ` (${rounded / g.dp} per rank)` : ''}`, path, value: rounded },
      );
      return;
    }
  }
  if (!g.dpAttention || g.dp <= 1) return;
  // Under DP attention SGLang divides --chunked-prefill-size by dp_size: the value is global (§3.1)
  const perRank = Math.floor(chunk / g.dp);
  if (perRank < 1) {
    error('chunked-prefill', path, `chunkedPrefill ${chunk} is the global value and SGLang divides it by dp ${g.dp}: that leaves no tokens per rank`, `Write per-rank tokens × dp, e.g. ${16384 * g.dp} for 16384 per rank.`);
    return;
  }
  if (chunk % g.dp !== 0) {
    // the nearest multiple of dp (never 0: at least one token per rank)
    const rounded = Math.max(g.dp, Math.round(chunk / g.dp) * g.dp);
    warn('chunked-prefill', path, `SGLang divides chunkedPrefill by dp under DP attention: ${chunk} / ${g.dp} = ${(chunk / g.dp).toFixed(1)}, rounded down to ${perRank} tokens per rank`, `Use a multiple of ${g.dp}, e.g. ${perRank * g.dp} or ${(perRank + 1) * g.dp}.`, {
      title: `Round chunkedPrefill to ${rounded} (${rounded / g.dp} per rank × dp ${g.dp})`,
      path,
      value: rounded,
    });
  }
  if (chunk % g.dp === 0 && perRank < 1024) warn('chunked-prefill', path, `chunkedPrefill is the global value under DP attention: ${chunk} / dp ${g.dp} = only ${perRank} tokens per rank`, `If you meant ${chunk} per rank, write ${chunk * g.dp}.`);
  // a top-level value shared by groups with different dp means different per-rank chunks
  if (path[0] === 'memory') {
    const others = d.groups.filter((x) => x !== g && x.dpAttention && x.dp !== g.dp && x.memory.chunkedPrefill === chunk && x.origin('memory', 'chunkedPrefill')[0] === 'memory');
    if (others.length && d.groups.indexOf(g) < d.groups.indexOf(others[0])) {
      warn('chunked-prefill', path, `the top-level chunkedPrefill ${chunk} is divided by each group's dp: ${g.role} gets ${perRank} per rank, ${others[0].role} ${Math.floor(chunk / others[0].dp)}`, 'Set memory.chunkedPrefill per group.');
    }
  }
}
