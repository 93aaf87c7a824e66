import type { SpecPath } from '../spec/yaml-spec';
import { NEWEST_KNOWN_VERSION, type EngineKind } from './catalog';
import type { DeploySpec, GroupRole, GroupSpec, MemorySpec, MoeSpec, ServerSpec, TransferSpec } from './spec';
import { ROLES } from './spec';
import { parseVersion, atLeast, type EngineVersion } from './version';

/** What the planner needs to know about a cluster; never touches a node. */
export type { PlanCluster } from '../launch/types';
import type { PlanCluster } from '../launch/types';

export const DEFAULT_PORTS = { server: 30000, distInit: 5757, bootstrap: 8998, router: 8000 } as const;

/** SGLang sets ep_size = tp_size for these all-to-all backends (server_args.py, §3.3 of the launch notes). */
export const EP_FORCED_BACKENDS: ReadonlySet<string> = new Set(['deepep', 'mooncake', 'nixl', 'mori', 'ascend_fuseep', 'flashinfer', 'megamoe']);

type Section = 'moe' | 'memory' | 'server' | 'ports' | 'transfer';

export interface ResolvedInstance {
  /** "prefill-0" */
  id: string;
  role: GroupRole;
  index: number;
  nodes: string[];
}

export interface ResolvedGroup {
  role: GroupRole;
  spec: GroupSpec;
  nodes: string[];
  replicas: number;
  nodesPerInstance: number;
  baseGpuId: number;
  tp: number;
  dp: number;
  pp: number;
  ep: number;
  dpAttention: boolean;
  moeDenseTp?: number;
  dpLmHead: boolean;
  /** GPUs one instance uses on each of its nodes */
  gpusUsedPerNode: number;
  moe: MoeSpec;
  deepepMode?: 'normal' | 'low_latency' | 'auto';
  eplbEnabled: boolean;
  memory: MemorySpec;
  server: ServerSpec;
  ports: { server: number; distInit: number; bootstrap: number };
  transfer: TransferSpec;
  /** user env: top-level env, then the group's (group wins) */
  env: Record<string, string>;
  /** extra flags with the spec path of each token */
  extraArgs: { token: string; path: SpecPath }[];
  instances: ResolvedInstance[];
  /** where a setting came from: the group's key, the top-level key, or the group itself when defaulted */
  origin(section: Section | 'parallel', key: string): SpecPath;
}

export interface ResolvedRouter {
  enabled: boolean;
  kind: 'sglang_router' | 'mini_lb';
  node: string;
  host?: string;
  port: number;
  policy?: string;
  prefillPolicy?: string;
  decodePolicy?: string;
  env: Record<string, string>;
  extraArgs: { token: string; path: SpecPath }[];
  origin(key: string): SpecPath;
}

export interface ResolvedDeployment {
  spec: DeploySpec;
  cluster: PlanCluster;
  engine: EngineKind;
  version: EngineVersion;
  pd: boolean;
  groups: ResolvedGroup[];
  router: ResolvedRouter;
  /** the bind address of a server on `node` (0.0.0.0 on ssh clusters, the node's own address elsewhere; `node_address` = the node's own) */
  hostFor(group: ResolvedGroup, node: string): string;
  addressOf(node: string): string;
}

/**
 * `host: node_address` binds each server to its own node's address, like the published
 * `--host ${node_ip}` commands (one value for a group spread over several nodes). The underscore
 * keeps it apart from any real host name, which cannot contain one.
 */
export const NODE_ADDRESS_HOST = 'node_address';

/** a `host:` value from the spec as the `--host` argument on `node` (the default when unset) */
export function bindHost(host: string | undefined, cluster: PlanCluster, node: string, addressOf: (node: string) => string): string {
  if (host === NODE_ADDRESS_HOST) return addressOf(node);
  return host ?? (cluster.kind === 'ssh' ? '0.0.0.0' : addressOf(node));
}

function merged<T extends object>(top: T | undefined, group: T | undefined): T {
  return { ...(top ?? {}), ...(group ?? {}) } as T;
}

export function resolveDeployment(spec: DeploySpec, cluster: PlanCluster): ResolvedDeployment {
  const engine: EngineKind = spec.engine?.kind ?? 'sglang';
  const version = parseVersion(spec.engine?.version ?? NEWEST_KNOWN_VERSION[engine]);
  const pd = spec.prefill !== undefined || spec.decode !== undefined;
  const nodeInfo = (name: string) => cluster.nodes.find((n) => n.name === name);
  const groups: ResolvedGroup[] = [];

  for (const role of ROLES) {
    const g = spec[role];
    if (!g) continue;
    groups.push(resolveGroup(spec, engine, role, g, nodeInfo));
  }

  const first = groups.find((g) => g.role === 'prefill') ?? groups[0];
  const r = spec.router ?? {};
  const routerArgs = [
    ...(spec.extraArgs?.router ?? []).map((token, i) => ({ token, path: ['extraArgs', 'router', i] as SpecPath })),
    ...(r.extraArgs ?? []).map((token, i) => ({ token, path: ['router', 'extraArgs', i] as SpecPath })),
  ];
  const router: ResolvedRouter = {
    // PD always needs the router (it pairs P and D); several unified replicas want one too.
    // vLLM: the planner has no router for it, so none unless asked (validation then explains)
    enabled: r.enabled ?? (engine === 'vllm' ? spec.router !== undefined : pd || spec.router !== undefined || groups.some((g) => g.replicas > 1)),
    // PD mode of sglang_router shipped in v0.4.8 (#7096); before it only mini_lb could pair P and D
    kind: r.kind ?? (engine === 'sglang' && !atLeast(version, '0.4.8') ? 'mini_lb' : 'sglang_router'),
    node: r.node ?? first?.nodes[0] ?? cluster.nodes[0]?.name ?? 'localhost',
    host: r.host,
    port: r.port ?? DEFAULT_PORTS.router,
    policy: r.policy,
    prefillPolicy: r.prefillPolicy,
    decodePolicy: r.decodePolicy,
    env: { ...(r.env ?? {}) },
    extraArgs: routerArgs,
    origin: (key) => (spec.router && (spec.router as Record<string, unknown>)[key] !== undefined ? ['router', key] : spec.router ? ['router'] : pd ? ['prefill'] : ['unified']),
  };

  const addressOf = (node: string) => nodeInfo(node)?.address ?? node;
  return {
    spec,
    cluster,
    engine,
    version,
    pd,
    groups,
    router,
    addressOf,
    hostFor: (group, node) => bindHost(group.server.host, cluster, node, addressOf),
  };
}

function resolveGroup(
  spec: DeploySpec,
  engine: EngineKind,
  role: GroupRole,
  g: GroupSpec,
  nodeInfo: (name: string) => PlanCluster['nodes'][number] | undefined,
): ResolvedGroup {
  const replicas = g.replicas ?? 1;
  const nodesPerInstance = Math.max(1, Math.floor(g.nodes.length / replicas));
  const baseGpuId = g.baseGpuId ?? 0;
  const nodeGpus = Math.max(0, Math.min(...g.nodes.map((n) => nodeInfo(n)?.gpus ?? 0)) - baseGpuId);
  const perNode = g.gpusPerNode ?? nodeGpus;
  const p = g.parallel ?? {};
  const pp = p.pp ?? 1;
  const moe = merged(spec.moe, g.moe);
  const instanceGpus = Math.max(1, nodesPerInstance * perNode);
  let tp: number;
  let dp: number;
  if (engine === 'vllm') {
    // vLLM spreads DP ranks over nodes; TP stays inside one node unless the user says otherwise
    dp = p.dp ?? (p.tp !== undefined ? Math.max(1, Math.floor(instanceGpus / (p.tp * pp))) : nodesPerInstance);
    tp = p.tp ?? Math.max(1, Math.floor(instanceGpus / (dp * pp)));
  } else {
    tp = p.tp ?? Math.max(1, Math.floor(instanceGpus / pp));
    dp = p.dp ?? 1;
  }
  const a2a = moe.a2a ?? 'none';
  let ep: number;
  if (p.ep !== undefined) ep = p.ep;
  else if (engine === 'vllm') ep = a2a !== 'none' ? tp * dp : 1;
  else ep = EP_FORCED_BACKENDS.has(a2a) ? tp : 1;
  const gpusUsedPerNode = engine === 'vllm' ? Math.ceil((tp * dp * pp) / nodesPerInstance) : Math.ceil((tp * pp) / nodesPerInstance);

  const deepepMode = moe.mode ?? (a2a === 'deepep' ? (role === 'prefill' ? 'normal' : role === 'decode' ? 'low_latency' : undefined) : undefined);
  const eplb = moe.eplb;
  const eplbEnabled = eplb !== undefined && (eplb.enabled ?? true);

  const globalArgs = spec.extraArgs;
  const extraArgs = [
    ...(globalArgs?.all ?? []).map((token, i) => ({ token, path: ['extraArgs', 'all', i] as SpecPath })),
    ...(globalArgs?.[role] ?? []).map((token, i) => ({ token, path: ['extraArgs', role, i] as SpecPath })),
    ...(g.extraArgs ?? []).map((token, i) => ({ token, path: [role, 'extraArgs', i] as SpecPath })),
  ];

  const instances: ResolvedInstance[] = [];
  for (let i = 0; i < replicas; i++) {
    instances.push({ id: `${role}-${i}`, role, index: i, nodes: g.nodes.slice(i * nodesPerInstance, (i + 1) * nodesPerInstance) });
  }

  const origin = (section: Section | 'parallel', key: string): SpecPath => {
    if (section === 'parallel') return p[key as keyof typeof p] !== undefined ? [role, 'parallel', key] : [role, 'nodes'];
    const groupSection = g[section] as Record<string, unknown> | undefined;
    if (groupSection?.[key] !== undefined) return [role, section, key];
    const topSection = spec[section] as Record<string, unknown> | undefined;
    if (topSection?.[key] !== undefined) return [section, key];
    return [role];
  };

  return {
    role,
    spec: g,
    nodes: g.nodes,
    replicas,
    nodesPerInstance,
    baseGpuId,
    tp,
    dp,
    pp,
    ep,
    dpAttention: p.dpAttention ?? false,
    moeDenseTp: p.moeDenseTp,
    dpLmHead: p.dpLmHead ?? false,
    gpusUsedPerNode,
    moe,
    deepepMode,
    eplbEnabled,
    memory: merged(spec.memory, g.memory),
    server: merged(spec.server, g.server),
    ports: {
      server: g.ports?.server ?? spec.ports?.server ?? DEFAULT_PORTS.server,
      distInit: g.ports?.distInit ?? spec.ports?.distInit ?? DEFAULT_PORTS.distInit,
      bootstrap: g.ports?.bootstrap ?? spec.ports?.bootstrap ?? DEFAULT_PORTS.bootstrap,
    },
    transfer: merged(spec.transfer, g.transfer),
    env: { ...(spec.env ?? {}), ...(g.env ?? {}) },
    extraArgs,
    instances,
    origin,
  };
}

/** Per-rank decode CUDA-graph batch ceiling (what the DeepEP low-latency buffer must cover). */
export function maxGraphBatch(group: ResolvedGroup): number | undefined {
  const sizes = group.memory.cudaGraphBatchSizes;
  if (sizes?.length) return Math.max(...sizes);
  return group.memory.cudaGraphMaxBs;
}
