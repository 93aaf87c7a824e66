import type { SpecPath } from '../spec/yaml-spec';
import { NEWEST_KNOWN_VERSION, type EngineKind } from '../engines/catalog';
import type { DeploySpec, GroupRole, GroupSpec } from '../spec/deploy-spec';
import { ROLES } from '../spec/deploy-spec';
import { parseVersion } from '../util/version';

/** What the planner needs to know about a cluster; never touches a node. */
export type { PlanCluster } from '../launch/types';
import type { PlanCluster } from '../launch/types';
export { bindHost, maxGraphBatch, NODE_ADDRESS_HOST, type ResolvedDeployment, type ResolvedGroup, type ResolvedInstance, type ResolvedRouter } from '../engines/types';
import { bindHost, type ResolvedDeployment, type ResolvedGroup, type ResolvedInstance, type ResolvedRouter, type Section } from '../engines/types';
import { engineOf } from '../engines';

export const DEFAULT_PORTS = { server: 30000, distInit: 5757, bootstrap: 8998, router: 8000 } as const;









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
  const routerDefaults = engineOf(engine).routerDefaults({ pd, routerWritten: spec.router !== undefined, replicated: groups.some((g) => g.replicas > 1), version });
  const routerArgs = [
    ...(spec.extraArgs?.router ?? []).map((token, i) => ({ token, path: ['extraArgs', 'router', i] as SpecPath })),
    ...(r.extraArgs ?? []).map((token, i) => ({ token, path: ['router', 'extraArgs', i] as SpecPath })),
  ];
  const router: ResolvedRouter = {
    enabled: r.enabled ?? routerDefaults.enabled,
    kind: r.kind ?? routerDefaults.kind,
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
  const a2a = moe.a2a ?? 'none';
  const { tp, dp, ep, gpusUsedPerNode } = engineOf(engine).parallelSizes({ tp: p.tp, dp: p.dp, ep: p.ep, pp, instanceGpus, nodesPerInstance, a2a });

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
