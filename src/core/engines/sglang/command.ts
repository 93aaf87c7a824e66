import type { SpecPath } from '../../spec/yaml-spec';
import { PieceList, type BuiltCommand } from '../command-pieces';
import { urlHostOf } from '../../launch/endpoint-host';
import { bindHost, instanceUrl, maxGraphBatch, type ResolvedDeployment, type ResolvedGroup, type ResolvedInstance } from '../types';

/** SGLang sets ep_size = tp_size for these all-to-all backends (server_args.py, §3.3 of the launch notes). */
export const EP_FORCED_BACKENDS: ReadonlySet<string> = new Set(['deepep', 'mooncake', 'nixl', 'mori', 'ascend_fuseep', 'flashinfer', 'megamoe']);

import { atLeast, type EngineVersion } from '../../util/version';

/**
 * SGLang server and router commands, spelled for the chosen release. Version boundaries come
 * from the launch notes (sglang-launch.md §3.8, §4.3); each is named where it is used.
 */

/** SGLang's own defaults: flags equal to them are left out, as in the published commands */
const SGLANG_DEFAULT_PORT = 30000;
const SGLANG_DEFAULT_BOOTSTRAP_PORT = 8998;
/** SGLANG_DEEPEP_NUM_MAX_DISPATCH_TOKENS_PER_RANK default (§3.3) */
export const DEEPEP_DEFAULT_DISPATCH_TOKENS = 128;

export const sglangSpelling = {
  /** #8658 (first released in v0.4.10.post2) replaced --enable-deepep-moe with --moe-a2a-backend */
  a2aBackendFlag: (v: EngineVersion) => atLeast(v, '0.4.10.post2'),
  /** #23906 (2026-06-09) renamed the decode CUDA-graph flags; the old ones stay as aliases, so use the
   * new ones only from the first release known to have them */
  phaseCudaGraphFlags: (v: EngineVersion) => atLeast(v, '0.5.15'),
  /** SGL_* env vars became SGLANG_* (the old names are still copied over with a warning); known from 0.5.15 */
  sglangEnvPrefix: (v: EngineVersion) => atLeast(v, '0.5.15'),
  /** /get_server_info -> /server_info (callers migrated in #21226, March 2026; alias kept). Known at 0.5.15 */
  serverInfoPath: (v: EngineVersion) => (atLeast(v, '0.5.15') ? '/server_info' : '/get_server_info'),
};

export function sglangServerCommand(d: ResolvedDeployment, g: ResolvedGroup, inst: ResolvedInstance, nodeRank: number): BuiltCommand {
  const v = d.version;
  const spec = d.spec;
  const role = g.role;
  const o = g.origin;
  const out = new PieceList();
  const node = inst.nodes[nodeRank];
  const moe = g.moe;
  const mem = g.memory;
  const srv = g.server;
  const a2a = moe.a2a ?? 'none';

  out.add(o('server', 'python'), srv.python ?? 'python3', '-m', 'sglang.launch_server');
  out.add(['model'], '--model-path', spec.model);
  out.opt(['servedModelName'], '--served-model-name', spec.servedModelName);

  if (role !== 'unified') {
    out.add([role], '--disaggregation-mode', role);
    out.opt(o('transfer', 'backend'), '--disaggregation-transfer-backend', g.transfer.backend);
    const ib = g.transfer.ibDevices;
    out.opt(o('transfer', 'ibDevices'), '--disaggregation-ib-device', Array.isArray(ib) ? ib.join(',') : ib);
    if (role === 'prefill' && g.ports.bootstrap !== SGLANG_DEFAULT_BOOTSTRAP_PORT) out.add(o('ports', 'bootstrap'), '--disaggregation-bootstrap-port', g.ports.bootstrap);
  }

  out.add(o('server', 'host'), '--host', d.hostFor(g, node));
  if (g.ports.server !== SGLANG_DEFAULT_PORT) out.add(o('ports', 'server'), '--port', g.ports.server);
  out.flag(o('server', 'trustRemoteCode'), '--trust-remote-code', srv.trustRemoteCode);

  if (inst.nodes.length > 1) {
    // every rank of one instance points at the instance's rank-0 node (torch.distributed rendezvous)
    out.add(o('ports', 'distInit'), '--dist-init-addr', `${urlHostOf(d.addressOf(inst.nodes[0]))}:${g.ports.distInit}`);
    out.add([role, 'nodes'], '--nnodes', inst.nodes.length);
    out.add([role, 'nodes'], '--node-rank', nodeRank);
  }

  const p = g.spec.parallel ?? {};
  out.add(o('parallel', 'tp'), '--tp-size', g.tp);
  if (p.dp !== undefined) out.add(o('parallel', 'dp'), '--dp-size', g.dp);
  if (p.ep !== undefined) out.add(o('parallel', 'ep'), '--ep-size', g.ep);
  // before #8658 expert parallelism without DeepEP had its own switch
  if (p.ep !== undefined && g.ep > 1 && a2a === 'none' && !sglangSpelling.a2aBackendFlag(v)) out.add(o('parallel', 'ep'), '--enable-ep-moe');
  if (p.pp !== undefined) out.add(o('parallel', 'pp'), '--pp-size', g.pp);
  if (g.baseGpuId !== 0) out.add([role, 'baseGpuId'], '--base-gpu-id', g.baseGpuId);
  out.flag(o('parallel', 'dpAttention'), '--enable-dp-attention', g.dpAttention);
  out.flag(o('parallel', 'dpLmHead'), '--enable-dp-lm-head', g.dpLmHead);
  out.opt(o('parallel', 'moeDenseTp'), '--moe-dense-tp-size', g.moeDenseTp);

  if (moe.a2a !== undefined && (a2a !== 'none' || sglangSpelling.a2aBackendFlag(v))) {
    if (sglangSpelling.a2aBackendFlag(v)) out.add(o('moe', 'a2a'), '--moe-a2a-backend', a2a);
    else if (a2a === 'deepep') out.add(o('moe', 'a2a'), '--enable-deepep-moe');
    // other backends did not exist before the flag; validation reports it at moe.a2a
    else out.add(o('moe', 'a2a'), '--moe-a2a-backend', a2a);
  }
  if (g.deepepMode && (a2a === 'deepep' || a2a === 'mori')) out.add(moe.mode ? o('moe', 'mode') : o('moe', 'a2a'), '--deepep-mode', g.deepepMode);
  out.opt(o('moe', 'runnerBackend'), '--moe-runner-backend', moe.runnerBackend);
  out.opt(o('moe', 'deepepConfig'), '--deepep-config', moe.deepepConfig);
  out.opt(o('moe', 'redundantExperts'), '--ep-num-redundant-experts', moe.redundantExperts);
  out.opt(o('moe', 'initExpertLocation'), '--init-expert-location', moe.initExpertLocation);
  if (g.eplbEnabled) {
    const e = moe.eplb ?? {};
    const ep: SpecPath = [...o('moe', 'eplb')];
    out.add(ep, '--enable-eplb');
    out.opt([...ep, 'rebalanceIterations'], '--eplb-rebalance-num-iterations', e.rebalanceIterations);
    out.opt([...ep, 'algorithm'], '--eplb-algorithm', e.algorithm);
    out.opt([...ep, 'layersPerChunk'], '--eplb-rebalance-layers-per-chunk', e.layersPerChunk);
    out.opt([...ep, 'minRebalancingUtilization'], '--eplb-min-rebalancing-utilization-threshold', e.minRebalancingUtilization);
  }
  out.opt([...o('moe', 'eplb'), 'recorderMode'], '--expert-distribution-recorder-mode', moe.eplb?.recorderMode);
  out.opt(o('moe', 'dispatchAlgorithm'), '--ep-dispatch-algorithm', moe.dispatchAlgorithm);
  out.flag(o('moe', 'tbo'), '--enable-two-batch-overlap', moe.tbo);

  out.opt(o('memory', 'fraction'), '--mem-fraction-static', mem.fraction);
  out.opt(o('memory', 'chunkedPrefill'), '--chunked-prefill-size', mem.chunkedPrefill);
  out.opt(o('memory', 'maxRunningRequests'), '--max-running-requests', mem.maxRunningRequests);
  out.opt(o('memory', 'maxTotalTokens'), '--max-total-tokens', mem.maxTotalTokens);
  out.opt(o('memory', 'maxPrefillTokens'), '--max-prefill-tokens', mem.maxPrefillTokens);
  out.opt(o('memory', 'contextLength'), '--context-length', mem.contextLength);
  out.opt(o('memory', 'pageSize'), '--page-size', mem.pageSize);
  const newGraph = sglangSpelling.phaseCudaGraphFlags(v);
  if (mem.cudaGraphBatchSizes) out.add(o('memory', 'cudaGraphBatchSizes'), newGraph ? '--cuda-graph-bs-decode' : '--cuda-graph-bs', ...mem.cudaGraphBatchSizes);
  out.opt(o('memory', 'cudaGraphMaxBs'), newGraph ? '--cuda-graph-max-bs-decode' : '--cuda-graph-max-bs', mem.cudaGraphMaxBs);
  if (mem.disableCudaGraph) {
    if (newGraph) out.add(o('memory', 'disableCudaGraph'), '--disable-decode-cuda-graph', '--disable-prefill-cuda-graph');
    else out.add(o('memory', 'disableCudaGraph'), '--disable-cuda-graph');
  }
  out.flag(o('memory', 'disableRadixCache'), '--disable-radix-cache', mem.disableRadixCache);

  out.opt(o('server', 'attentionBackend'), '--attention-backend', srv.attentionBackend);
  out.opt(o('server', 'numReservedDecodeTokens'), '--num-reserved-decode-tokens', srv.numReservedDecodeTokens);
  out.opt(o('server', 'watchdogTimeoutSec'), '--watchdog-timeout', srv.watchdogTimeoutSec);
  out.opt(o('server', 'decodeLogInterval'), '--decode-log-interval', srv.decodeLogInterval);
  out.flag(o('server', 'enableMetrics'), '--enable-metrics', srv.enableMetrics);
  out.extra(g.extraArgs);

  const env: Record<string, string> = {};
  const envPaths: Record<string, SpecPath> = {};
  if (moe.deepGemm !== undefined) {
    // DeepGEMM JIT for the FP8 GEMMs (blog: SGL_ENABLE_JIT_DEEPGEMM=1; today SGLANG_*, default on)
    const name = sglangSpelling.sglangEnvPrefix(v) ? 'SGLANG_ENABLE_JIT_DEEPGEMM' : 'SGL_ENABLE_JIT_DEEPGEMM';
    env[name] = moe.deepGemm ? '1' : '0';
    envPaths[name] = o('moe', 'deepGemm');
  }
  const dispatch = dispatchTokensPerRank(g);
  if (dispatch !== undefined) {
    env.SGLANG_DEEPEP_NUM_MAX_DISPATCH_TOKENS_PER_RANK = String(dispatch.value);
    envPaths.SGLANG_DEEPEP_NUM_MAX_DISPATCH_TOKENS_PER_RANK = dispatch.path;
  }
  for (const [k, val] of Object.entries(g.env)) {
    env[k] = val;
    envPaths[k] = g.spec.env?.[k] !== undefined ? [role, 'env', k] : ['env', k];
  }
  return { pieces: out.pieces, env, envPaths };
}

/** DeepEP asserts num_max_dispatch_tokens_per_rank <= 1024 (token_dispatcher/deepep.py@b26729f2245c L380-382) */
export const DEEPEP_MAX_DISPATCH_TOKENS = 1024;

/**
 * SGLang's decode CUDA-graph max batch when none is given, for H100/H200-class GPUs (80-160 GB):
 * 256 when tp < 4, else 512 (server_args.py@v0.5.10 L1196-1215, _handle_gpu_memory_settings).
 * The planner does not know the GPU model, so it assumes the H100/H200 class it is built for.
 */
export function defaultDecodeGraphMaxBs(tp: number): number {
  return tp < 4 ? 256 : 512;
}

export interface DispatchSizing {
  /** tokens one rank can dispatch in one decode step */
  neededTokens: number;
  /** what the planner sets (capped at DeepEP's limit), or the user's own value */
  value: number;
  /** the field that decides it */
  path: SpecPath;
  why: string;
}

/**
 * How many tokens one rank can send through DeepEP's low-latency dispatch in a step: the larger of
 * the decode CUDA-graph batch (given, or SGLang's default) and the running requests a DP rank may
 * hold. max_running_requests is global and divided by the attention-DP size
 * (pool_configurator.py@b26729f2245c L572: max_running_requests // attn_dp_size); batches above the
 * graph size run eagerly but still through the same buffer. Only for low-latency dispatch (decode
 * servers, unified servers in auto mode).
 */
export function dispatchSizing(g: ResolvedGroup): DispatchSizing | undefined {
  const lowLatency = g.moe.a2a === 'deepep' && (g.deepepMode === 'low_latency' || (g.deepepMode === 'auto' && g.role !== 'prefill') || (g.deepepMode === undefined && g.role === 'unified'));
  if (!lowLatency) return undefined;
  const explicitGraph = maxGraphBatch(g);
  const graph = explicitGraph ?? defaultDecodeGraphMaxBs(g.tp);
  const graphWhy = explicitGraph !== undefined ? `CUDA-graph batch ${graph}` : `SGLang's default decode CUDA-graph batch ${graph} for tp ${g.tp}`;
  const running = g.memory.maxRunningRequests;
  const dpRanks = g.dpAttention ? g.dp : 1;
  const runningPerRank = running !== undefined ? Math.ceil(running / dpRanks) : undefined;
  const byRunning = runningPerRank !== undefined && runningPerRank > graph;
  const neededTokens = byRunning ? (runningPerRank ?? graph) : graph;
  const why = byRunning ? `maxRunningRequests ${running}${dpRanks > 1 ? ` / dp ${dpRanks}` : ''} = ${runningPerRank} per rank, above the ${graphWhy}` : graphWhy;
  const path: SpecPath = byRunning ? g.origin('memory', 'maxRunningRequests') : explicitGraph !== undefined ? g.origin('memory', g.memory.cudaGraphBatchSizes ? 'cudaGraphBatchSizes' : 'cudaGraphMaxBs') : g.origin('moe', 'a2a');
  if (g.moe.maxDispatchTokensPerRank !== undefined) return { neededTokens, value: g.moe.maxDispatchTokensPerRank, path: g.origin('moe', 'maxDispatchTokensPerRank'), why };
  return { neededTokens, value: Math.min(neededTokens, DEEPEP_MAX_DISPATCH_TOKENS), path, why };
}

/** The env value the planner sets: the user's, or a size that covers the rank's batch when the default (128) does not. */
export function dispatchTokensPerRank(g: ResolvedGroup): { value: number; path: SpecPath } | undefined {
  if (g.moe.maxDispatchTokensPerRank !== undefined) return { value: g.moe.maxDispatchTokensPerRank, path: g.origin('moe', 'maxDispatchTokensPerRank') };
  if (g.env.SGLANG_DEEPEP_NUM_MAX_DISPATCH_TOKENS_PER_RANK !== undefined) return undefined;
  const sizing = dispatchSizing(g);
  if (!sizing || sizing.value <= DEEPEP_DEFAULT_DISPATCH_TOKENS) return undefined;
  return { value: sizing.value, path: sizing.path };
}

export function isEpForced(a2a: string | undefined): boolean {
  return a2a !== undefined && EP_FORCED_BACKENDS.has(a2a);
}

/** The router (or load balancer) command, spelled for the release. */
export function sglangRouterCommand(d: ResolvedDeployment): BuiltCommand {
  const r = d.router;
  const v = d.version;
  const out = new PieceList();
  const prefill = d.groups.find((g) => g.role === 'prefill');
  const decode = d.groups.find((g) => g.role === 'decode');
  const unified = d.groups.find((g) => g.role === 'unified');
  const host = bindHost(r.host, d.cluster, r.node, d.addressOf);
  const port = r.port;
  const hostPath = r.origin('host');
  const portPath = r.origin('port');
  const prefillTargets = prefill ? prefill.instances.map((i) => ({ url: instanceUrl(d, prefill, i), bootstrap: prefill.ports.bootstrap })) : [];
  const decodeUrls = decode ? decode.instances.map((i) => instanceUrl(d, decode, i)) : [];

  if (r.kind === 'mini_lb' && d.pd && !atLeast(v, '0.5.2')) {
    if (atLeast(v, '0.4.7')) {
      // v0.4.7-v0.5.1: unified launch_lb, space-separated URL lists (nargs=+)
      out.add(['router'], 'python3', '-m', 'sglang.srt.disaggregation.launch_lb');
      out.add(['prefill'], '--prefill', ...prefillTargets.map((t) => t.url));
      out.add(['decode'], '--decode', ...decodeUrls);
      out.add(prefill ? prefill.origin('ports', 'bootstrap') : ['prefill'], '--prefill-bootstrap-ports', ...prefillTargets.map((t) => String(t.bootstrap)));
    } else {
      // v0.4.6.x: the original mini_lb, comma-separated lists
      out.add(['router'], 'python3', '-m', 'sglang.srt.disaggregation.mini_lb');
      out.add(['prefill'], '--prefill', prefillTargets.map((t) => t.url).join(','));
      out.add(['decode'], '--decode', decodeUrls.join(','));
      out.add(prefill ? prefill.origin('ports', 'bootstrap') : ['prefill'], '--prefill-bootstrap-ports', prefillTargets.map((t) => String(t.bootstrap)).join(','));
    }
    out.add(hostPath, '--host', host);
    out.add(portPath, '--port', port);
  } else {
    out.add(['router'], 'python3', '-m', 'sglang_router.launch_router');
    if (d.pd) {
      out.add(['prefill'], '--pd-disaggregation');
      // from v0.5.2 (#9964) MiniLB lives in sglang_router behind --mini-lb
      if (r.kind === 'mini_lb') out.add(r.origin('kind'), '--mini-lb');
      // the bootstrap port goes with every prefill URL: without it decode falls back to its own 8998
      for (const t of prefillTargets) out.add(['prefill'], '--prefill', t.url, String(t.bootstrap));
      for (const url of decodeUrls) out.add(['decode'], '--decode', url);
    } else if (unified) {
      out.add(['unified'], '--worker-urls', ...unified.instances.map((i) => instanceUrl(d, unified, i)));
    }
    out.add(hostPath, '--host', host);
    out.add(portPath, '--port', port);
    if (r.kind === 'sglang_router') {
      out.opt(r.origin('policy'), '--policy', r.policy);
      out.opt(r.origin('prefillPolicy'), '--prefill-policy', r.prefillPolicy);
      out.opt(r.origin('decodePolicy'), '--decode-policy', r.decodePolicy);
    }
  }
  out.extra(r.extraArgs);
  const envPaths: Record<string, SpecPath> = {};
  for (const k of Object.keys(r.env)) envPaths[k] = ['router', 'env', k];
  return { pieces: out.pieces, env: { ...r.env }, envPaths };
}

