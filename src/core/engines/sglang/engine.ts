import { atLeast } from '../../util/version';
import type { Engine, ExtraPort } from '../types';
import { EP_FORCED_BACKENDS, sglangRouterCommand, sglangServerCommand, sglangSpelling } from './command';
import { checkSglangGroup, checkSglangVersion } from './validate';

/** SGLang's DP-attention handshake socket sits this far above the dist-init port (server_args.py@b26729f2245c L9812) */
export const DP_ATTENTION_HANDSHAKE_PORT_DELTA = 13;

export const sglangEngine: Engine = {
  kind: 'sglang',
  label: 'SGLang',
  defaultApi: 'generate',
  metricDefinitions: 'sglang',
  parallelSizes({ tp: tpWritten, dp: dpWritten, ep: epWritten, pp, instanceGpus, nodesPerInstance, a2a }) {
    const tp = tpWritten ?? Math.max(1, Math.floor(instanceGpus / pp));
    const dp = dpWritten ?? 1;
    // the a2a backends in EP_FORCED_BACKENDS set ep_size = tp_size (server_args.py, launch notes §3.3)
    const ep = epWritten ?? (EP_FORCED_BACKENDS.has(a2a) ? tp : 1);
    return { tp, dp, ep, gpusUsedPerNode: Math.ceil((tp * pp) / nodesPerInstance) };
  },
  routerDefaults({ pd, routerWritten, replicated, version }) {
    // PD always needs the router (it pairs P and D); several unified replicas want one too.
    // PD mode of sglang_router shipped in v0.4.8 (#7096); before it only mini_lb could pair P and D
    return { enabled: pd || routerWritten || replicated, kind: atLeast(version, '0.4.8') ? 'sglang_router' : 'mini_lb' };
  },
  serverCommand: sglangServerCommand,
  routerCommand: sglangRouterCommand,
  paths(v) {
    const serverInfo = sglangSpelling.serverInfoPath(v);
    // the probe the deploy step really sends: SGLang's native /generate
    return { health: '/health', generate: '/generate', serverInfo, modelInfo: serverInfo === '/server_info' ? '/model_info' : '/get_model_info' };
  },
  probeDescription: 'one-token generate through the endpoint',
  probeNeedsModel: false,
  probeBody: (prompt) => ({ text: prompt, sampling_params: { max_new_tokens: 1, temperature: 0 } }),
  parallelText: (g) => `tp ${g.tp}${g.pp > 1 ? ` × pp ${g.pp}` : ''}`,
  expertSplit(g) {
    const ways = Math.max(1, Math.floor(g.tp / Math.max(1, g.ep)));
    return { ways, what: `tp ${g.tp}${g.ep > 1 ? ` / ep ${g.ep}` : ''} splits each expert ${ways} ways`, avoid: 'ep = tp, e.g. moe.a2a: deepep' };
  },
  perRankLimit(g, written) {
    const dpRanks = g.dpAttention && g.dp > 1 ? g.dp : 1;
    const perRank = Math.floor(written / dpRanks);
    return { perRank, total: written, dpRanks, note: dpRanks > 1 ? `SGLang divides it by dp ${dpRanks}: ${perRank} per rank, ${written} per instance` : `${written} per instance (one scheduler)` };
  },
  extraPorts(d, g, inst, port) {
    const out: ExtraPort[] = [];
    if (g.role === 'prefill') out.push({ from: g.ports.bootstrap, to: g.ports.bootstrap, what: 'bootstrap port', path: g.origin('ports', 'bootstrap') });
    const multi = inst.nodes.length > 1;
    if (g.dpAttention && g.dp > 1) {
      // with DP attention ZMQ uses ports derived from the dist-init port P: P .. P+6 (§3.6);
      // on one node without --dist-init-addr the base is --port + 233
      const base = multi ? g.ports.distInit : port + 233;
      const path = multi ? g.origin('ports', 'distInit') : g.origin('ports', 'server');
      out.push({ from: base, to: base + 6, what: multi ? 'dist-init ports (P..P+6 under DP attention)' : 'DP-attention ports (--port+233 .. +239)', path });
      // node 0's DP controller also binds a handshake socket at P + 13 (P = the dist-init port, or
      // --port without --dist-init-addr), since v0.5.3.post2
      // (data_parallel_controller.py@b26729f2245c L444-451; server_args.py L9812 DP_ATTENTION_HANDSHAKE_PORT_DELTA = 13)
      if (atLeast(d.version, '0.5.3.post2')) {
        const handshake = (multi ? g.ports.distInit : port) + DP_ATTENTION_HANDSHAKE_PORT_DELTA;
        out.push({ from: handshake, to: handshake, what: `DP-attention handshake port (${multi ? 'dist-init' : '--port'} + 13)`, path });
      }
    } else if (multi) {
      out.push({ from: g.ports.distInit, to: g.ports.distInit, what: 'dist-init port', path: g.origin('ports', 'distInit') });
    }
    return out;
  },
  checkVersion: checkSglangVersion,
  checkGpuSplit(g, minGpus, error) {
    const nnodes = g.nodesPerInstance;
    // SGLang asserts (tp_size * pp_size) % nnodes == 0 (server_args.py; launch notes §3.1)
    if ((g.tp * g.pp) % nnodes !== 0) {
      error('gpus', g.origin('parallel', 'tp'), `tp × pp = ${g.tp * g.pp} does not divide over ${nnodes} node${nnodes > 1 ? 's' : ''} of one ${g.role} instance`, `Use a multiple of ${nnodes}, e.g. tp ${nnodes * Math.max(1, minGpus)} for ${Math.max(1, minGpus)} GPUs per node.`);
      return false;
    }
    return true;
  },
  checkGroup: checkSglangGroup,
  checkRouter(d, error) {
    const r = d.router;
    if (r.kind === 'mini_lb' && !d.pd) error('router', r.origin('kind'), 'mini_lb only pairs prefill and decode servers; use sglang_router for unified replicas');
    // PD mode of sglang_router (#7096) first shipped in v0.4.8
    if (r.kind === 'sglang_router' && d.pd && !atLeast(d.version, '0.4.8')) error('router', r.origin('kind'), `sglang_router has no PD mode before SGLang 0.4.8 (this is ${d.version.text})`, 'Use router.kind: mini_lb, or a newer engine version.');
    return true;
  },
};
