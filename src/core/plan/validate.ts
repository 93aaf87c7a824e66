import type { SpecPath } from '../spec/yaml-spec';
import { choicesAt, isBeyondCatalog, lookupFlag, routerFlagAt, scanArgs, canonicalFlag, splitFlagToken, SGLANG_CATALOG, type FlagLookup } from './catalog';
import { layoutProcesses, type LaidOutProcess } from './layout';
import { routedExpertsFor, shapeFor } from './models';
import { resolveDeployment, type PlanCluster, type ResolvedDeployment, type ResolvedGroup } from './resolve';
import { DEEPEP_MAX_DISPATCH_TOKENS, dispatchSizing, isEpForced } from './sglang-command';
import { ROLES, type DeploySpec } from './spec';
import { ENV_ALLOW_HINT, envNameAllowed, envNameRisk } from '../launch/env-policy';
import { atLeast, compareVersions } from './version';

/**
 * Checks a deployment before anything runs. Each rule names its source in a comment; issues
 * carry spec paths, which `locateIssues` (planner.ts) maps to YAML lines for the cell, the CLI and
 * the language server.
 */
export type DeployRule =
  /** YAML syntax or schema (only from checkDeployCell) */
  | 'schema'
  | 'cluster'
  | 'nodes'
  | 'gpus'
  | 'tp-dp'
  | 'multinode-dp'
  | 'dp-attention'
  | 'dp-lm-head'
  | 'ep-deepep'
  | 'experts-ep'
  | 'moe-dense-tp'
  | 'eplb-ep'
  | 'ports'
  | 'flags'
  | 'router'
  | 'chunked-prefill'
  | 'deepep-mode'
  | 'deepep-dispatch'
  | 'tbo'
  | 'engine'
  | 'served-name'
  | 'transfer'
  /** MoE all-to-all backend and what it requires */
  | 'a2a'
  /** SGLang-vs-vLLM semantics of the same YAML field */
  | 'semantics'
  /** checkpoint shape vs parallel sizes */
  | 'model-shape'
  /** a value no command line can carry (NUL, or longer than any path or flag) */
  | 'argv'
  /** an environment name that makes a shell, the loader or an interpreter run code (cluster/env-policy.ts) */
  | 'env-name';

export interface DeployIssue {
  severity: 'error' | 'warning';
  rule: DeployRule;
  path: SpecPath;
  message: string;
  hint?: string;
  /**
   * A one-click repair for the clear cases (language-server quick fix): set the value at `path`
   * (a spec path; `locateIssues` maps it to the path as written in the YAML).
   */
  fix?: IssueFix;
}

export interface IssueFix {
  title: string;
  path: SpecPath;
  value: string | number | boolean;
}

const VLLM_A2A = new Set(['none', 'deepep', 'pplx', 'allgather_reducescatter', 'naive', 'flashinfer_all2allv']);

/** What the user decided outside the notebook (settings, CLI flags); a notebook cannot set it. */
export interface PlanPolicy {
  /** environment names the user allows although they change how a program starts (LD_LIBRARY_PATH...) */
  allowEnvNames?: readonly string[];
}

export function validateDeployment(spec: DeploySpec, cluster: PlanCluster, policy: PlanPolicy = {}): DeployIssue[] {
  return validateResolved(resolveDeployment(spec, cluster), policy);
}

export function validateResolved(d: ResolvedDeployment, policy: PlanPolicy = {}): DeployIssue[] {
  const issues: DeployIssue[] = [];
  const push = (severity: DeployIssue['severity'], rule: DeployRule, path: SpecPath, message: string, hint?: string, fix?: IssueFix) =>
    issues.push(fix ? { severity, rule, path, message, hint, fix } : { severity, rule, path, message, hint });
  const error: Report = (rule, path, message, hint, fix) => push('error', rule, path, message, hint, fix);
  const warn: Report = (rule, path, message, hint, fix) => push('warning', rule, path, message, hint, fix);

  checkEngineAndCluster(d, error, warn);
  const nodesOk = checkNodes(d, error);
  for (const g of d.groups) {
    if (nodesOk) checkGpus(d, g, error, warn);
    if (d.engine === 'sglang') checkSglangGroup(d, g, error, warn);
    else checkVllmGroup(d, g, error, warn);
    checkExperts(d, g, error, warn);
    checkModelShape(d, g, error);
    checkEngineSemantics(d, g, warn);
  }
  checkRouter(d, error, warn);
  const layout = layoutProcesses(d);
  if (nodesOk) {
    checkGpuOverlap(layout.servers, error);
    checkPorts(d, layout.servers, layout.router, error);
  }
  checkFlags(d, layout.servers, error, warn);
  checkArguments([...layout.servers, ...(layout.router ? [layout.router] : [])], error);
  checkEnvNames(d.spec, policy, error);
  return issues;
}

/**
 * Every `env:` the notebook wrote (top level, each group, the router) against the env policy.
 * Checked on the spec, not the planned processes, so a name is reported once at the line that
 * wrote it, and names the planner itself sets (SGLANG_ENABLE_JIT_DEEPGEMM) never count.
 */
export function envNameIssues(spec: DeploySpec, policy: PlanPolicy = {}): DeployIssue[] {
  const issues: DeployIssue[] = [];
  checkEnvNames(spec, policy, (rule, path, message, hint) => issues.push({ severity: 'error', rule, path, message, hint }));
  return issues;
}

function checkEnvNames(spec: DeploySpec, policy: PlanPolicy, error: Report): void {
  const maps: [SpecPath, Record<string, string> | undefined][] = [
    [['env'], spec.env],
    ...ROLES.map((role): [SpecPath, Record<string, string> | undefined] => [[role, 'env'], spec[role]?.env]),
    [['router', 'env'], spec.router?.env],
  ];
  for (const [at, env] of maps) {
    for (const name of Object.keys(env ?? {})) {
      if (envNameAllowed(name, policy.allowEnvNames)) continue;
      error('env-name', [...at, name], `environment variable ${name} is refused: ${envNameRisk(name) ?? 'it changes how programs start'}, so its value would run as code`, ENV_ALLOW_HINT);
    }
  }
}

/**
 * Linux caps one argument or environment string at 128 KiB (MAX_ARG_STRLEN), and over ssh the
 * whole quoted command line is one argument of the node's shell, where quoting can grow a value
 * fourfold. Real paths, names and flag values are far shorter; a longer one is a paste accident.
 */
export const MAX_ARGUMENT_BYTES = 16 * 1024;

/**
 * Values the shell quoting cannot carry are refused here, at the field that produced them, rather
 * than as a failed start on a node: a NUL byte ends a C string, so no argv element or environment
 * value can hold one.
 */
function checkArguments(processes: LaidOutProcess[], error: Report): void {
  const seen = new Set<string>();
  const inspect = (value: string, path: SpecPath): void => {
    const key = path.join('.');
    if (seen.has(key)) return;
    if (value.includes('\0')) {
      seen.add(key);
      error('argv', path, 'contains a NUL character, which no command line or environment variable can carry', 'Remove the NUL character (often pasted from a binary file or a terminal).');
    } else if (value.length > MAX_ARGUMENT_BYTES / 3 && utf8Bytes(value) > MAX_ARGUMENT_BYTES) {
      seen.add(key);
      error('argv', path, `is ${utf8Bytes(value)} bytes long; one command-line value may be at most ${MAX_ARGUMENT_BYTES}`, 'Shorten it; put long JSON in a file on the nodes and give its path.');
    }
  };
  for (const p of processes) {
    for (const piece of p.command.pieces) for (const token of piece.tokens) inspect(token, piece.path);
    for (const [name, value] of Object.entries(p.command.env)) inspect(value, p.command.envPaths[name] ?? ['env', name]);
  }
}

type Report = (rule: DeployRule, path: SpecPath, message: string, hint?: string, fix?: IssueFix) => void;

function checkEngineAndCluster(d: ResolvedDeployment, error: Report, warn: Report): void {
  if (d.spec.cluster !== d.cluster.name) error('cluster', ['cluster'], `this deployment names cluster "${d.spec.cluster}" but is being planned on "${d.cluster.name}"`);
  // the flag history starts at v0.4.6 (the blog era); older releases are not modelled
  if (d.engine === 'sglang' && !d.version.latest && compareVersions(d.version, '0.4.6') < 0) {
    warn('engine', ['engine', 'version'], `SGLang ${d.version.text} predates the releases MoE Bench knows (0.4.6 and later); flag spellings are not checked for it`);
  }
  if (d.engine === 'sglang' && !d.version.latest && compareVersions(d.version, SGLANG_CATALOG.version) > 0) {
    warn('engine', ['engine', 'version'], `SGLang ${d.version.text} is newer than the flag catalog (${SGLANG_CATALOG.version}); flags are checked against ${SGLANG_CATALOG.version}`);
  }
  if (d.spec.servedModelName?.includes(':')) {
    // SGLang rejects ':' in --served-model-name (server_args.py check)
    error('served-name', ['servedModelName'], 'a served model name may not contain ":"');
  }
}

function checkNodes(d: ResolvedDeployment, error: Report): boolean {
  let ok = true;
  const names = d.cluster.nodes.map((n) => n.name);
  for (const g of d.groups) {
    const seen = new Set<string>();
    g.nodes.forEach((n, i) => {
      if (!names.includes(n)) {
        ok = false;
        error('nodes', [g.role, 'nodes', i], `node "${n}" is not in cluster ${d.cluster.name}`, `Its nodes are: ${names.join(', ') || '(none)'}.`);
      } else if (seen.has(n)) {
        ok = false;
        error('nodes', [g.role, 'nodes', i], `node "${n}" is listed twice in ${g.role}`);
      }
      seen.add(n);
    });
    if (g.nodes.length % g.replicas !== 0) {
      ok = false;
      error('nodes', [g.role, 'replicas'], `${g.nodes.length} nodes cannot be split evenly into ${g.replicas} replicas`, 'Each replica gets the same number of whole nodes.');
    }
  }
  return ok;
}

function checkGpus(d: ResolvedDeployment, g: ResolvedGroup, error: Report, warn: Report): void {
  const nnodes = g.nodesPerInstance;
  const gpusOf = (n: string) => d.cluster.nodes.find((x) => x.name === n)?.gpus ?? 0;
  const minGpus = Math.min(...g.nodes.map(gpusOf)) - g.baseGpuId;
  const tpPath = g.origin('parallel', 'tp');
  if (d.engine === 'sglang') {
    // SGLang asserts (tp_size * pp_size) % nnodes == 0 (server_args.py; launch notes §3.1)
    if ((g.tp * g.pp) % nnodes !== 0) {
      error('gpus', tpPath, `tp × pp = ${g.tp * g.pp} does not divide over ${nnodes} node${nnodes > 1 ? 's' : ''} of one ${g.role} instance`, `Use a multiple of ${nnodes}, e.g. tp ${nnodes * Math.max(1, minGpus)} for ${Math.max(1, minGpus)} GPUs per node.`);
      return;
    }
  } else {
    // vLLM here runs DP across nodes with TP inside a node (docs: multi-node expert parallel deployment)
    if (nnodes > 1 && g.dp % nnodes !== 0) {
      error('gpus', g.origin('parallel', 'dp'), `dp ${g.dp} does not split over ${nnodes} nodes (each node runs dp / nodes ranks)`, `Use a multiple of ${nnodes}.`);
      return;
    }
    if (nnodes > 1 && g.tp * g.pp > minGpus) {
      error('gpus', tpPath, `vLLM tp × pp = ${g.tp * g.pp} spans more than one node (${minGpus} GPUs each); MoE Bench runs multi-node vLLM as data parallel`, 'Keep tp within a node and raise dp instead.');
      return;
    }
  }
  const used = g.gpusUsedPerNode;
  const expr = d.engine === 'sglang' ? `tp ${g.tp}${g.pp > 1 ? ` × pp ${g.pp}` : ''}` : `tp ${g.tp} × dp ${g.dp}${g.pp > 1 ? ` × pp ${g.pp}` : ''}`;
  if (g.spec.gpusPerNode !== undefined && g.spec.gpusPerNode !== used) {
    error('gpus', [g.role, 'gpusPerNode'], `gpusPerNode is ${g.spec.gpusPerNode} but ${expr} over ${nnodes} node${nnodes > 1 ? 's' : ''} uses ${used} per node`);
    return;
  }
  for (const [i, n] of g.nodes.entries()) {
    const available = gpusOf(n) - g.baseGpuId;
    if (used > available) {
      error('gpus', tpPath, `${expr} over ${nnodes} node${nnodes > 1 ? 's' : ''} needs ${used} GPUs per node, but ${n} has ${available}${g.baseGpuId ? ` from GPU ${g.baseGpuId}` : ''}`, `Nodes × GPUs per node = ${nnodes} × ${Math.max(0, available)} = ${nnodes * Math.max(0, available)} GPUs for one instance.`);
      return;
    }
    if (used < available && nnodes > 1 && i === 0) {
      warn('gpus', tpPath, `${expr} uses ${used} of the ${available} GPUs on each of ${nnodes} nodes`);
    }
  }
}

function checkSglangGroup(d: ResolvedDeployment, g: ResolvedGroup, error: Report, warn: Report): void {
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

function checkVllmGroup(d: ResolvedDeployment, g: ResolvedGroup, error: Report, warn: Report): void {
  const o = g.origin;
  const a2a = g.moe.a2a ?? 'none';
  if (g.role !== 'unified') {
    error('engine', [g.role], 'MoE Bench plans vLLM as unified servers only; PD disaggregation is planned for SGLang', 'Use a unified group for vLLM.');
    return;
  }
  // --all2all-backend choices read from vLLM main (vllm/config/parallel.py All2AllBackend); "deepep"
  // is spelled by mode (deepep_high_throughput / deepep_low_latency) when the command is built
  const mainChoices = lookupFlag('vllm', 'latest', '--all2all-backend').info?.choices ?? [];
  const vllmTakes = new Set(['none', 'deepep', ...mainChoices]);
  if (!vllmTakes.has(a2a)) error('a2a', o('moe', 'a2a'), `"${a2a}" is not a vLLM all-to-all backend; vLLM takes ${[...vllmTakes].join(', ')}`);
  else if (!VLLM_A2A.has(a2a) && !isBeyondCatalog('vllm', d.version)) warn('a2a', o('moe', 'a2a'), `--all2all-backend ${a2a} is read from vLLM main; ${d.version.text} may not accept it`);
  if (a2a === 'deepep' && (g.deepepMode ?? 'auto') === 'auto') warn('deepep-mode', o('moe', 'a2a'), 'vLLM picks DeepEP by mode: set moe.mode normal (deepep_high_throughput) or low_latency; low_latency is used now');
  const p = g.spec.parallel ?? {};
  // vLLM's EP size is always tp × dp (--enable-expert-parallel)
  if (p.ep !== undefined && p.ep !== 1 && p.ep !== g.tp * g.dp) error('ep-deepep', o('parallel', 'ep'), `vLLM's expert-parallel size is tp × dp = ${g.tp * g.dp}; ep ${p.ep} cannot be set`, `Remove ep or set it to ${g.tp * g.dp}.`);
  if (g.eplbEnabled && g.ep <= 1) error('eplb-ep', o('moe', 'eplb'), 'EPLB needs expert parallelism (ep > 1)', 'Set moe.a2a or parallel.ep.');
  for (const key of ['dpAttention', 'moeDenseTp', 'dpLmHead'] as const) {
    if (p[key] !== undefined) warn('engine', [g.role, 'parallel', key], `${key} is an SGLang setting; vLLM ignores it (its DP is attention DP already)`);
  }
  for (const key of ['initExpertLocation', 'dispatchAlgorithm', 'runnerBackend', 'deepepConfig', 'maxDispatchTokensPerRank'] as const) {
    if (g.moe[key] !== undefined) warn('engine', o('moe', key), `moe.${key} is an SGLang setting; the vLLM command ignores it`);
  }
}

function checkExperts(d: ResolvedDeployment, g: ResolvedGroup, error: Report, warn: Report): void {
  const redundant = g.moe.redundantExperts ?? 0;
  if (g.ep <= 1) {
    if (redundant > 0) warn('experts-ep', g.origin('moe', 'redundantExperts'), 'redundant experts only matter with expert parallelism (ep > 1)');
    return;
  }
  const routed = routedExpertsFor(d.spec);
  if (!routed) {
    warn('experts-ep', ['model'], `cannot check that experts divide over ep ${g.ep}: the model is not a known one`, 'Add modelHint (e.g. deepseek-v3) or routedExperts.');
    return;
  }
  // (num_routed_experts + redundant) % ep_size == 0 is asserted when expert locations are built (eplb/expert_location.py)
  const total = routed.count + redundant;
  if (total % g.ep !== 0) {
    let fix = redundant;
    while ((routed.count + fix) % g.ep !== 0) fix++;
    const path = g.moe.redundantExperts !== undefined ? g.origin('moe', 'redundantExperts') : g.spec.parallel?.ep !== undefined ? g.origin('parallel', 'ep') : g.origin('parallel', 'tp');
    const nearest = nearestRedundantExperts(routed.count, redundant, g.ep);
    // where the value lives, or this group's own moe section when it is not written yet
    const fixPath = g.moe.redundantExperts !== undefined ? g.origin('moe', 'redundantExperts') : [g.role, 'moe', 'redundantExperts'];
    error('experts-ep', path, `${routed.count} routed${redundant ? ` + ${redundant} redundant` : ''} experts = ${total} do not divide over ep ${g.ep} (${routed.source})`, `Use redundantExperts ${fix} (${routed.count + fix} slots), or an ep that divides ${total}.`, {
      title: `Set redundantExperts to ${nearest} (${routed.count + nearest} expert slots = ${(routed.count + nearest) / g.ep} per rank × ep ${g.ep})`,
      path: fixPath,
      value: nearest,
    });
  }
}

/**
 * Can this TP size load the checkpoint? Each TP shard of an expert holds moe_intermediate_size /
 * moe_tp columns (SGLang: moe_tp = tp / ep; vLLM with expert parallelism: experts are not split),
 * and a block-FP8 checkpoint needs that width to be a whole number of quantisation blocks:
 * SGLang raises "Weight input_size_per_partition = … is not divisible by weight quantization
 * block_k" (layers/quantization/fp8_utils.py@b26729f2245c L2180-2202, validate_fp8_block_shape).
 * Qwen3-235B-A22B-FP8 at TP8 without EP: 1536 / 8 = 192, not a multiple of 128.
 */
function checkModelShape(d: ResolvedDeployment, g: ResolvedGroup, error: Report): void {
  const shape = shapeFor(d.spec);
  if (!shape) return;
  const moeTp = d.engine === 'sglang' ? Math.max(1, Math.floor(g.tp / Math.max(1, g.ep))) : g.ep > 1 ? 1 : g.tp;
  if (moeTp <= 1) return;
  const path = g.origin('parallel', 'tp');
  const width = shape.moeIntermediateSize / moeTp;
  const block = Math.max(shape.blockN ?? 1, shape.blockK ?? 1);
  const fits = (tp: number) => shape.moeIntermediateSize % tp === 0 && (shape.moeIntermediateSize / tp) % block === 0;
  if (fits(moeTp)) return;
  const workable = [1, 2, 4, 8, 16, 32, 64].filter((t) => t < moeTp && fits(t));
  const what = d.engine === 'sglang' ? `tp ${g.tp}${g.ep > 1 ? ` / ep ${g.ep}` : ''} splits each expert ${moeTp} ways` : `tp ${g.tp} splits each expert ${moeTp} ways`;
  const why = Number.isInteger(width) ? `${shape.moeIntermediateSize} / ${moeTp} = ${width} columns per shard is not a multiple of the FP8 block ${block}` : `${shape.moeIntermediateSize} does not divide by ${moeTp}`;
  error('model-shape', path, `${what}: moe_intermediate_size ${why} (${shape.source}); the checkpoint cannot load`, `Use expert parallelism (${d.engine === 'sglang' ? 'ep = tp, e.g. moe.a2a: deepep' : 'moe.a2a set, so vLLM enables expert parallelism'}) so experts are not split${workable.length ? `, or a TP split of ${workable[workable.length - 1]}` : ''}.`);
}

/** vLLM applies maxRunningRequests / chunkedPrefill per engine where SGLang divides them by dp (effective.ts). */
function checkEngineSemantics(d: ResolvedDeployment, g: ResolvedGroup, warn: Report): void {
  if (d.engine !== 'vllm' || g.dp <= 1) return;
  for (const field of ['maxRunningRequests', 'chunkedPrefill'] as const) {
    const written = g.memory[field];
    if (written === undefined || written <= 0) continue;
    const flag = field === 'maxRunningRequests' ? '--max-num-seqs' : '--max-num-batched-tokens';
    warn('semantics', g.origin('memory', field), `${field} ${written} means ${written} per DP rank in vLLM (${flag}, ${written * g.dp} across dp ${g.dp}); the same YAML under SGLang is one global value (${Math.floor(written / g.dp)} per rank with DP attention)`, `When comparing against SGLang, write ${written * g.dp} there for the same per-rank load, or ${Math.max(1, Math.floor(written / g.dp))} here.`);
  }
}

/** The redundant-expert count closest to `current` that makes (routed + redundant) divide over ep (ties go up). */
export function nearestRedundantExperts(routed: number, current: number, ep: number): number {
  const up = current + ((ep - ((routed + current) % ep)) % ep);
  const down = current - ((routed + current) % ep);
  return down >= 0 && current - down < up - current ? down : up;
}

function checkRouter(d: ResolvedDeployment, error: Report, warn: Report): void {
  const r = d.router;
  if (d.pd && !r.enabled) {
    // the router pairs each request's prefill and decode servers (bootstrap host/port/room); without it PD cannot serve
    error('router', r.origin('enabled'), 'PD disaggregation needs the router: it pairs each request with a prefill and a decode server', 'Remove router.enabled: false.');
  }
  if (!r.enabled) return;
  if (d.engine === 'vllm') {
    error('router', r.origin('enabled'), 'MoE Bench has no router for vLLM deployments', 'Drop the router section; bench the vLLM server directly.');
    return;
  }
  if (!d.cluster.nodes.some((n) => n.name === r.node)) error('router', r.origin('node'), `router node "${r.node}" is not in cluster ${d.cluster.name}`);
  if (r.kind === 'mini_lb' && !d.pd) error('router', r.origin('kind'), 'mini_lb only pairs prefill and decode servers; use sglang_router for unified replicas');
  // PD mode of sglang_router (#7096) first shipped in v0.4.8
  if (r.kind === 'sglang_router' && d.pd && compareVersions(d.version, '0.4.8') < 0) error('router', r.origin('kind'), `sglang_router has no PD mode before SGLang 0.4.8 (this is ${d.version.text})`, 'Use router.kind: mini_lb, or a newer engine version.');
  if (r.kind === 'mini_lb' && (r.policy || r.prefillPolicy || r.decodePolicy)) warn('router', r.origin(r.policy ? 'policy' : r.prefillPolicy ? 'prefillPolicy' : 'decodePolicy'), 'MiniLB pairs servers at random; the policy is ignored');
  if (r.prefillPolicy && r.decodePolicy && r.policy) warn('router', r.origin('policy'), 'with both prefillPolicy and decodePolicy the router ignores policy');
  if (r.kind === 'sglang_router') checkRouterPolicies(d, error, warn);
}

/**
 * Router policies by release, from the router's own argument file at each SGLang tag
 * (sglang_router router_args.py / launch_router.py: --policy, --prefill-policy, --decode-policy and
 * their choices), plus the gateway's config validation (sgl-model-gateway
 * src/config/validation.rs@b26729f2245c L579-601: bucket is refused for decode; power_of_two needs
 * two workers on that side).
 */
function checkRouterPolicies(d: ResolvedDeployment, error: Report, warn: Report): void {
  const r = d.router;
  const keys = [
    ['policy', '--policy'],
    ['prefillPolicy', '--prefill-policy'],
    ['decodePolicy', '--decode-policy'],
  ] as const;
  const refused = new Set<string>();
  for (const [key, flag] of keys) {
    const value = r[key];
    if (value === undefined) continue;
    const at = routerFlagAt(d.version, flag);
    if (at.exact && (!at.accepted || (at.choices && !at.choices.includes(value)))) refused.add(key);
    const report = at.exact ? error : warn;
    const where = at.exact ? `the router of SGLang ${d.version.text}` : `the router of SGLang ${at.from} (the nearest release read)`;
    if (!at.accepted) {
      report('router', r.origin(key), `${where} has no ${flag}`, key === 'policy' ? undefined : 'Use router.policy for both sides, or a newer engine version.');
      continue;
    }
    if (at.choices && !at.choices.includes(value)) report('router', r.origin(key), `${flag} ${value}: ${where} accepts ${at.choices.join(', ')}`);
  }
  if (!d.pd) {
    checkPolicyContext(d, 'unified', r.policy, 'policy', refused, warn);
    return;
  }
  const decodePolicy = r.decodePolicy ?? r.policy;
  if (decodePolicy === 'bucket') {
    error('router', r.origin(r.decodePolicy ? 'decodePolicy' : 'policy'), r.decodePolicy ? 'the router refuses the bucket policy for decode servers' : 'policy applies to decode too, and the router refuses the bucket policy for decode servers', 'Use prefillPolicy: bucket with a decodePolicy such as round_robin.');
  }
  for (const role of ['prefill', 'decode'] as const) {
    const own = role === 'prefill' ? r.prefillPolicy : r.decodePolicy;
    const key = own ? (role === 'prefill' ? 'prefillPolicy' : 'decodePolicy') : 'policy';
    const policy = own ?? r.policy;
    const instances = d.groups.find((g) => g.role === role)?.instances.length ?? 0;
    if (policy === 'power_of_two' && instances < 2) error('router', r.origin(key), `power_of_two for ${role} needs at least 2 ${role} servers; this deployment has ${instances}`);
    else checkPolicyContext(d, role, policy, key, refused, warn);
  }
}

/** a policy the user chose that cannot change anything here (one server to pick from, or no cache to be aware of) */
function checkPolicyContext(d: ResolvedDeployment, role: 'prefill' | 'decode' | 'unified', policy: string | undefined, key: string, refused: ReadonlySet<string>, warn: Report): void {
  const r = d.router;
  if (policy === undefined || r[key as 'policy'] === undefined || refused.has(key)) return;
  const group = d.groups.find((g) => g.role === role);
  if (!group) return;
  if (group.instances.length === 1) {
    warn('router', r.origin(key), `${key} ${policy} has no effect for ${role}: there is one ${role} server, so every request goes to it`);
    return;
  }
  // cache_aware routes by the prefix tree each worker is believed to cache; with the radix cache
  // off nothing is reused, so it degrades to its load-balancing fallback
  if (policy === 'cache_aware' && group.memory.disableRadixCache) {
    warn('router', r.origin(key), `cache_aware routing for ${role} has nothing to follow: the radix cache is disabled there (disableRadixCache)`, 'Use round_robin or power_of_two, or turn the radix cache back on.');
  }
}

function checkGpuOverlap(servers: LaidOutProcess[], error: Report): void {
  const byNode = new Map<string, LaidOutProcess[]>();
  for (const s of servers) {
    const list = byNode.get(s.node) ?? [];
    const clash = list.find((o) => o.instance !== s.instance && o.gpuIds.some((id) => s.gpuIds.includes(id)));
    if (clash && s.group) {
      const i = s.group.nodes.indexOf(s.node);
      error('gpus', [s.role, 'nodes', i], `${s.instance?.id} and ${clash.instance?.id} both use GPUs ${overlapText(s.gpuIds, clash.gpuIds)} of ${s.node}`, 'Give one group a baseGpuId past the other\'s GPUs, or use separate nodes.');
    }
    list.push(s);
    byNode.set(s.node, list);
  }
}

function overlapText(a: number[], b: number[]): string {
  const both = a.filter((x) => b.includes(x));
  return both.length > 1 ? `${both[0]}-${both[both.length - 1]}` : String(both[0]);
}

/** SGLang's DP-attention handshake socket sits this far above the dist-init port (server_args.py@b26729f2245c L9812) */
export const DP_ATTENTION_HANDSHAKE_PORT_DELTA = 13;

interface PortUse {
  node: string;
  from: number;
  to: number;
  owner: string;
  what: string;
  path: SpecPath;
}

function checkPorts(d: ResolvedDeployment, servers: LaidOutProcess[], router: LaidOutProcess | undefined, error: Report): void {
  const uses: PortUse[] = [];
  for (const s of servers) {
    const g = s.group;
    const inst = s.instance;
    if (!g || !inst) continue;
    const owner = s.id;
    uses.push({ node: s.node, from: s.port, to: s.port, owner, what: 'HTTP port', path: g.origin('ports', 'server') });
    if (s.nodeRank !== 0) continue;
    if (g.role === 'prefill' && d.engine === 'sglang') uses.push({ node: s.node, from: g.ports.bootstrap, to: g.ports.bootstrap, owner, what: 'bootstrap port', path: g.origin('ports', 'bootstrap') });
    if (inst.nodes.length > 1 || (d.engine === 'sglang' && g.dpAttention && g.dp > 1)) {
      if (d.engine === 'sglang' && g.dpAttention && g.dp > 1) {
        // with DP attention ZMQ uses ports derived from the dist-init port P: P .. P+6 (§3.6);
        // on one node without --dist-init-addr the base is --port + 233
        const base = inst.nodes.length > 1 ? g.ports.distInit : s.port + 233;
        const path = inst.nodes.length > 1 ? g.origin('ports', 'distInit') : g.origin('ports', 'server');
        uses.push({ node: s.node, from: base, to: base + 6, owner, what: inst.nodes.length > 1 ? 'dist-init ports (P..P+6 under DP attention)' : 'DP-attention ports (--port+233 .. +239)', path });
        // node 0's DP controller also binds a handshake socket at P + 13 (P = the dist-init port, or
        // --port without --dist-init-addr), since v0.5.3.post2
        // (data_parallel_controller.py@b26729f2245c L444-451; server_args.py L9812 DP_ATTENTION_HANDSHAKE_PORT_DELTA = 13)
        if (atLeast(d.version, '0.5.3.post2')) {
          const handshake = (inst.nodes.length > 1 ? g.ports.distInit : s.port) + DP_ATTENTION_HANDSHAKE_PORT_DELTA;
          uses.push({ node: s.node, from: handshake, to: handshake, owner, what: `DP-attention handshake port (${inst.nodes.length > 1 ? 'dist-init' : '--port'} + 13)`, path });
        }
      } else {
        uses.push({ node: s.node, from: g.ports.distInit, to: g.ports.distInit, owner, what: d.engine === 'vllm' ? 'data-parallel RPC port' : 'dist-init port', path: g.origin('ports', 'distInit') });
      }
    }
  }
  if (router) uses.push({ node: router.node, from: router.port, to: router.port, owner: 'router', what: 'router port', path: d.router.origin('port') });
  for (let i = 0; i < uses.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = uses[j];
      const b = uses[i];
      if (a.node !== b.node || a.to < b.from || b.to < a.from) continue;
      if (a.owner === b.owner && (a.what === b.what || a.path.join('.') === b.path.join('.'))) continue;
      const overlap = Math.max(a.from, b.from);
      error('ports', b.path, `port ${overlap} on ${b.node} is used twice: ${b.owner} ${b.what} and ${a.owner === b.owner ? 'its' : a.owner} ${a.what}`, 'Co-located servers need distinct ports (under DP attention a rank 0 also binds P..P+6 and P+13, P = its dist-init port, or --port+233 / --port+13 on one node).');
      break;
    }
  }
}

function checkFlags(d: ResolvedDeployment, servers: LaidOutProcess[], error: Report, warn: Report): void {
  const engineName = d.engine === 'sglang' ? 'SGLang' : 'vLLM';
  const seen = new Set<string>();
  const report = (lookup: FlagLookup, path: SpecPath, flag: string, fromExtra: boolean, fix?: IssueFix) => {
    const key = `${path.join('.')}|${flag}`;
    if (seen.has(key)) return;
    seen.add(key);
    const where = `${engineName} ${d.version.text}`;
    switch (lookup.status) {
      case 'removed':
      case 'not-yet':
        error('flags', path, `${where} does not accept ${flag}: ${lookup.message ?? ''}`.trim(), lookup.replacement ? `Use ${lookup.replacement}.` : fromExtra ? undefined : 'Pick another engine version, or remove the setting.', fix);
        break;
      case 'unknown':
        error('flags', path, `${where} does not accept ${flag}${lookup.message ? `: ${lookup.message}` : ''}`, undefined, fix);
        break;
      case 'uncertain':
        warn('flags', path, lookup.message ?? `${flag} may not be accepted by ${where}`, undefined, fix);
        break;
      case 'deprecated':
        warn('flags', path, lookup.message ?? `${flag} is deprecated in ${where}`, undefined, fix);
        break;
      case 'ok':
        break;
    }
  };
  // choice lists are read from every release's source (e.g. --ep-dispatch-algorithm was
  // unrestricted through v0.5.12 and "random" is rejected since 0.5.13): exact releases get an
  // error, releases between or after those read get a warning naming the release the list is from
  const checkChoice = (lookup: FlagLookup, flag: string, value: string | undefined, path: SpecPath) => {
    const info = lookup.info;
    if (!info || info.arity !== 'one' || value === undefined) return;
    const at = choicesAt(d.engine, d.version, flag);
    if (!at.choices || at.choices.includes(value)) return;
    if (at.exact) error('flags', path, `${flag} ${value}: ${engineName} ${d.version.text} accepts ${at.choices.join(', ')}`);
    else warn('flags', path, `${flag} ${value}: ${engineName} ${at.from} accepts ${at.choices.join(', ')}; ${d.version.text} is not in the catalog, so this is not checked exactly`);
  };
  const checkedGroups = new Set<unknown>();
  for (const s of servers) {
    if (!s.group || checkedGroups.has(s.group) || s.nodeRank !== 0) continue;
    checkedGroups.add(s.group);
    const generated = new Set<string>();
    for (const piece of s.command.pieces) {
      const flag = piece.tokens[0];
      if (piece.fromExtraArgs || !flag.startsWith('--')) continue;
      generated.add(canonicalFlag(d.engine, flag) ?? flag);
      const lookup = lookupFlag(d.engine, d.version, flag);
      report(lookup, piece.path, flag, false);
      checkChoice(lookup, flag, piece.tokens[1], piece.path);
      for (const tok of piece.tokens.slice(1)) {
        // the two-flag piece for disabling both CUDA-graph phases
        if (tok.startsWith('--')) report(lookupFlag(d.engine, d.version, tok), piece.path, tok, false);
      }
    }
    const extras = s.group.extraArgs;
    for (const scanned of scanArgs(d.engine, d.version, extras.map((e) => e.token))) {
      const path = extras[scanned.index]?.path ?? [s.group.role];
      if (!scanned.flag) {
        error('flags', path, scanned.lookup.message ?? `unexpected value ${scanned.value ?? ''}`);
        continue;
      }
      const token = extras[scanned.index]?.token;
      const fix = token !== undefined && extras[scanned.index] ? respellFix(d, scanned.flag, scanned.lookup, token, path) : undefined;
      report(scanned.lookup, path, scanned.flag, true, fix);
      const info = scanned.lookup.info;
      checkChoice(scanned.lookup, scanned.flag, scanned.value, path);
      if (info && info.arity !== 'none' && info.arity !== 'optional' && scanned.value === undefined) {
        error('flags', path, `${scanned.flag} needs a value`);
      }
      if (info && generated.has(info.name)) {
        warn('flags', path, `${scanned.flag} repeats a flag the planner already sets from the spec; the last one wins`, 'Set it through the spec field instead.');
      }
    }
  }
}

/**
 * extraArgs quick fix: the same list item with the flag spelled the way this release wants it.
 * Only for clear cases: the catalog names exactly one replacement flag (a rename, not "use X
 * instead of Y with a value"), or an unknown spelling is one typo away from a flag this release
 * accepts. `--flag=value` keeps its value.
 */
function respellFix(d: ResolvedDeployment, flag: string, lookup: FlagLookup, token: string, path: SpecPath): IssueFix | undefined {
  if (lookup.status === 'ok' || lookup.viaPrefix) return undefined;
  const candidate = lookup.replacement;
  if (!candidate || !/^--[A-Za-z0-9][A-Za-z0-9_-]*$/.test(candidate) || candidate === flag) return undefined;
  // the new spelling must itself be accepted by this release, or the fix would trade one error for another
  if (lookupFlag(d.engine, d.version, candidate).status !== 'ok') return undefined;
  // a removed flag with a replacement is a rename only when both take the same kind of value
  const oldArity = lookup.info?.arity;
  const newArity = lookupFlag(d.engine, d.version, candidate).info?.arity;
  if (oldArity !== undefined && newArity !== undefined && oldArity !== newArity) return undefined;
  const { value } = splitFlagToken(token);
  const newToken = value !== undefined ? `${candidate}=${value}` : candidate;
  const verb = lookup.info ? 'Rename' : 'Change';
  return { title: `${verb} ${flag} to ${candidate}`, path, value: newToken };
}

function utf8Bytes(s: string): number {
  return new TextEncoder().encode(s).length;
}
