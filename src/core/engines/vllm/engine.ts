import type { Engine, ExtraPort } from '../types';
import { sglangRouterCommand } from '../sglang/command';
import { vllmServerCommand } from './command';
import { checkVllmGroup, checkVllmSemantics } from './validate';

export const vllmEngine: Engine = {
  kind: 'vllm',
  label: 'vLLM',
  defaultApi: 'completions',
  metricDefinitions: 'vllm',
  parallelSizes({ tp: tpWritten, dp: dpWritten, ep: epWritten, pp, instanceGpus, nodesPerInstance, a2a }) {
    // vLLM spreads DP ranks over nodes; TP stays inside one node unless the user says otherwise
    const dp = dpWritten ?? (tpWritten !== undefined ? Math.max(1, Math.floor(instanceGpus / (tpWritten * pp))) : nodesPerInstance);
    const tp = tpWritten ?? Math.max(1, Math.floor(instanceGpus / (dp * pp)));
    // vLLM's EP size is tp × dp once an all-to-all backend enables expert parallelism
    const ep = epWritten ?? (a2a !== 'none' ? tp * dp : 1);
    return { tp, dp, ep, gpusUsedPerNode: Math.ceil((tp * dp * pp) / nodesPerInstance) };
  },
  // the planner has no router for vLLM, so none unless asked (validation then explains)
  routerDefaults: ({ routerWritten }) => ({ enabled: routerWritten, kind: 'sglang_router' }),
  serverCommand: vllmServerCommand,
  // never laid out: checkRouter refuses a router for vLLM before a plan is made
  routerCommand: sglangRouterCommand,
  // vLLM's OpenAI /v1/completions (it has no native /generate)
  paths: () => ({ health: '/health', generate: '/v1/completions' }),
  probeDescription: 'one-token completion through the endpoint',
  probeNeedsModel: true,
  probeBody: (prompt, model) => ({ model, prompt, max_tokens: 1, temperature: 0 }),
  parallelText: (g) => `tp ${g.tp} × dp ${g.dp}${g.pp > 1 ? ` × pp ${g.pp}` : ''}`,
  expertSplit: (g) => ({ ways: g.ep > 1 ? 1 : g.tp, what: `tp ${g.tp} splits each expert ${g.ep > 1 ? 1 : g.tp} ways`, avoid: 'moe.a2a set, so vLLM enables expert parallelism' }),
  perRankLimit(g, written) {
    const dpRanks = g.dp;
    return { perRank: written, total: written * dpRanks, dpRanks, note: dpRanks > 1 ? `vLLM applies it per engine: ${written} on each of ${dpRanks} DP ranks, ${written * dpRanks} per instance` : `${written} per instance (one engine)` };
  },
  extraPorts(_d, g, inst): ExtraPort[] {
    return inst.nodes.length > 1 ? [{ from: g.ports.distInit, to: g.ports.distInit, what: 'data-parallel RPC port', path: g.origin('ports', 'distInit') }] : [];
  },
  checkVersion: () => undefined,
  checkGpuSplit(g, minGpus, error) {
    const nnodes = g.nodesPerInstance;
    // vLLM here runs DP across nodes with TP inside a node (docs: multi-node expert parallel deployment)
    if (nnodes > 1 && g.dp % nnodes !== 0) {
      error('gpus', g.origin('parallel', 'dp'), `dp ${g.dp} does not split over ${nnodes} nodes (each node runs dp / nodes ranks)`, `Use a multiple of ${nnodes}.`);
      return false;
    }
    if (nnodes > 1 && g.tp * g.pp > minGpus) {
      error('gpus', g.origin('parallel', 'tp'), `vLLM tp × pp = ${g.tp * g.pp} spans more than one node (${minGpus} GPUs each); MoE Bench runs multi-node vLLM as data parallel`, 'Keep tp within a node and raise dp instead.');
      return false;
    }
    return true;
  },
  checkGroup(d, g, error, warn) {
    checkVllmGroup(d, g, error, warn);
    checkVllmSemantics(g, warn);
  },
  checkRouter(d, error) {
    error('router', d.router.origin('enabled'), 'MoE Bench has no router for vLLM deployments', 'Drop the router section; bench the vLLM server directly.');
    return false;
  },
};
