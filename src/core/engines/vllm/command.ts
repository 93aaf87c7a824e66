import type { SpecPath } from '../../spec/yaml-spec';
import { PieceList, type BuiltCommand } from '../command-pieces';
import type { ResolvedDeployment, ResolvedGroup, ResolvedInstance } from '../types';
import { urlHostOf } from '../../launch/endpoint-host';
import { atLeast, type EngineVersion } from '../../util/version';

/**
 * `vllm serve` commands. Multi-node vLLM runs data parallel across nodes: node 0 serves the API
 * with --data-parallel-size-local ranks, the others run `--headless` from a start rank
 * (docs.vllm.ai "Expert Parallel Deployment", multi-node section). TP stays within a node.
 */
export const vllmSpelling = {
  /** --all2all-backend replaced env VLLM_ALL2ALL_BACKEND (docs v0.10.1.1 lack it, v0.12.0 have it) */
  all2allFlag: (v: EngineVersion) => atLeast(v, '0.11.0'),
  /** EPLBConfig (--eplb-config JSON) appears in the v0.10.2 API docs */
  eplbConfig: (v: EngineVersion) => atLeast(v, '0.10.2'),
};

/** vLLM spells the DeepEP modes into the backend name */
export function vllmA2aBackend(a2a: string, mode: string | undefined): string {
  if (a2a !== 'deepep') return a2a;
  return mode === 'normal' ? 'deepep_high_throughput' : 'deepep_low_latency';
}

export function vllmRanksPerNode(g: ResolvedGroup): number {
  return Math.max(1, Math.floor(g.dp / g.nodesPerInstance));
}

export function vllmServerCommand(d: ResolvedDeployment, g: ResolvedGroup, inst: ResolvedInstance, nodeRank: number): BuiltCommand {
  const v = d.version;
  const o = g.origin;
  const role = g.role;
  const out = new PieceList();
  const moe = g.moe;
  const mem = g.memory;
  const srv = g.server;
  const node = inst.nodes[nodeRank];
  const headless = nodeRank > 0;
  const p = g.spec.parallel ?? {};

  out.add(['model'], 'vllm', 'serve', d.spec.model);
  if (!headless) {
    out.add(o('server', 'host'), '--host', d.hostFor(g, node));
    out.add(o('ports', 'server'), '--port', g.ports.server);
    out.opt(['servedModelName'], '--served-model-name', d.spec.servedModelName);
  }
  out.flag(o('server', 'trustRemoteCode'), '--trust-remote-code', srv.trustRemoteCode);
  out.add(o('parallel', 'tp'), '--tensor-parallel-size', g.tp);
  if (p.pp !== undefined) out.add(o('parallel', 'pp'), '--pipeline-parallel-size', g.pp);
  if (g.dp > 1 || p.dp !== undefined) out.add(o('parallel', 'dp'), '--data-parallel-size', g.dp);
  if (inst.nodes.length > 1) {
    const local = vllmRanksPerNode(g);
    out.add([role, 'nodes'], '--data-parallel-size-local', local);
    if (headless) out.add([role, 'nodes'], '--data-parallel-start-rank', nodeRank * local);
    out.add(o('ports', 'distInit'), '--data-parallel-address', urlHostOf(d.addressOf(inst.nodes[0])));
    out.add(o('ports', 'distInit'), '--data-parallel-rpc-port', g.ports.distInit);
    if (headless) out.add([role, 'nodes'], '--headless');
  }
  const a2a = moe.a2a ?? 'none';
  if (g.ep > 1) out.add(p.ep !== undefined ? o('parallel', 'ep') : o('moe', 'a2a'), '--enable-expert-parallel');
  const env: Record<string, string> = {};
  const envPaths: Record<string, SpecPath> = {};
  if (a2a !== 'none') {
    const backend = vllmA2aBackend(a2a, g.deepepMode);
    if (vllmSpelling.all2allFlag(v)) out.add(o('moe', 'a2a'), '--all2all-backend', backend);
    else {
      env.VLLM_ALL2ALL_BACKEND = backend;
      envPaths.VLLM_ALL2ALL_BACKEND = o('moe', 'a2a');
    }
  }
  if (g.eplbEnabled) {
    const e = moe.eplb ?? {};
    const ep = o('moe', 'eplb');
    out.add(ep, '--enable-eplb');
    if (vllmSpelling.eplbConfig(v)) {
      const config: Record<string, number> = {};
      if (moe.redundantExperts !== undefined) config.num_redundant_experts = moe.redundantExperts;
      if (e.windowSize !== undefined) config.window_size = e.windowSize;
      if (e.rebalanceIterations !== undefined) config.step_interval = e.rebalanceIterations;
      if (Object.keys(config).length) out.add(ep, '--eplb-config', JSON.stringify(config));
    } else {
      out.opt(o('moe', 'redundantExperts'), '--num-redundant-experts', moe.redundantExperts);
    }
  }
  out.flag(o('moe', 'tbo'), '--enable-dbo', moe.tbo);
  out.opt(o('memory', 'fraction'), '--gpu-memory-utilization', mem.fraction);
  out.opt(o('memory', 'maxRunningRequests'), '--max-num-seqs', mem.maxRunningRequests);
  const batched = mem.chunkedPrefill !== undefined && mem.chunkedPrefill > 0 ? mem.chunkedPrefill : mem.maxPrefillTokens;
  out.opt(mem.chunkedPrefill !== undefined ? o('memory', 'chunkedPrefill') : o('memory', 'maxPrefillTokens'), '--max-num-batched-tokens', batched);
  out.opt(o('memory', 'contextLength'), '--max-model-len', mem.contextLength);
  out.flag(o('memory', 'disableRadixCache'), '--no-enable-prefix-caching', mem.disableRadixCache);
  if (mem.cudaGraphBatchSizes) out.add(o('memory', 'cudaGraphBatchSizes'), '--compilation-config', JSON.stringify({ cudagraph_capture_sizes: mem.cudaGraphBatchSizes }));
  out.flag(o('memory', 'disableCudaGraph'), '--enforce-eager', mem.disableCudaGraph);
  out.extra(g.extraArgs);

  if (moe.deepGemm !== undefined) {
    env.VLLM_USE_DEEP_GEMM = moe.deepGemm ? '1' : '0';
    envPaths.VLLM_USE_DEEP_GEMM = o('moe', 'deepGemm');
  }
  for (const [k, val] of Object.entries(g.env)) {
    env[k] = val;
    envPaths[k] = g.spec.env?.[k] !== undefined ? [role, 'env', k] : ['env', k];
  }
  return { pieces: out.pieces, env, envPaths };
}
