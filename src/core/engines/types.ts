import type { SpecPath } from '../spec/yaml-spec';
import type { DeploySpec, GroupRole, GroupSpec, MemorySpec, MoeSpec, ServerSpec, TransferSpec } from '../spec/deploy-spec';
import type { PlanCluster } from '../launch/types';
import { urlHostOf } from '../launch/endpoint-host';
import type { EngineKind } from './catalog';
import type { EngineVersion } from '../util/version';
import type { BuiltCommand } from './command-pieces';

/**
 * A deployment as the planner resolved it (plan/resolve.ts): what an engine's command builder
 * and validation rules are given. Engine-neutral; each engine reads what it needs.
 */

export type Section = 'moe' | 'memory' | 'server' | 'ports' | 'transfer';

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

/** the largest CUDA-graph batch the group captures, when the spec bounds it */
export function maxGraphBatch(group: ResolvedGroup): number | undefined {
  const sizes = group.memory.cudaGraphBatchSizes;
  if (sizes?.length) return Math.max(...sizes);
  return group.memory.cudaGraphMaxBs;
}

/**
 * Checks a deployment before anything runs. Each rule names its source in a comment; issues
 * carry spec paths, which `locateIssues` (plan/planner.ts) maps to YAML lines for the cell, the
 * CLI and the language server.
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
  /** an environment name that makes a shell, the loader or an interpreter run code (launch/env-policy.ts) */
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

/** how a rule reports one issue */
export type Report = (rule: DeployRule, path: SpecPath, message: string, hint?: string, fix?: IssueFix) => void;

/** a port a rank binds besides its HTTP port, for the collision check */
export interface ExtraPort {
  from: number;
  to: number;
  what: string;
  path: SpecPath;
}

/**
 * An inference engine as the planner sees it: how it sizes parallelism, the commands it runs,
 * its API paths and the rules its launcher asserts. One folder per engine (engines/sglang,
 * engines/vllm); engines/index.ts lists them. The planner never tests which engine it has.
 */
export interface Engine {
  readonly kind: EngineKind;
  /** "SGLang", "vLLM" */
  readonly label: string;
  /** the API a bench drives by default: SGLang's native /generate, vLLM's OpenAI completions */
  readonly defaultApi: 'generate' | 'completions';
  /** whose metric definitions a run against this engine uses by default */
  readonly metricDefinitions: EngineKind;
  /** tp, dp, ep and the GPUs one instance uses per node, from what the spec wrote */
  parallelSizes(a: { tp?: number; dp?: number; ep?: number; pp: number; instanceGpus: number; nodesPerInstance: number; a2a: string }): { tp: number; dp: number; ep: number; gpusUsedPerNode: number };
  /** the router when the spec leaves it open */
  routerDefaults(a: { pd: boolean; routerWritten: boolean; replicated: boolean; version: EngineVersion }): { enabled: boolean; kind: 'sglang_router' | 'mini_lb' };
  serverCommand(d: ResolvedDeployment, g: ResolvedGroup, inst: ResolvedInstance, nodeRank: number): BuiltCommand;
  routerCommand(d: ResolvedDeployment): BuiltCommand;
  /** the HTTP paths the deploy step and the bench use */
  paths(version: EngineVersion): { health: string; generate: string; serverInfo?: string; modelInfo?: string };
  /** the deploy step's one-token probe, as its plan line says */
  readonly probeDescription: string;
  /** the probe's request body at `paths().generate`; `model` is /v1/models' first id when the engine needs one */
  probeBody(prompt: string, model?: string): unknown;
  /** whether probeBody needs a model id (OpenAI-style APIs) */
  readonly probeNeedsModel: boolean;
  /** "tp 8 × dp 2": how the parallel sizes read in messages */
  parallelText(g: ResolvedGroup): string;
  /** ways each expert's weights are split, and how to avoid splitting them (model-shape rule) */
  expertSplit(g: ResolvedGroup): { ways: number; what: string; avoid: string };
  /** maxRunningRequests / chunkedPrefill as written vs per DP rank (plan's effective limits) */
  perRankLimit(g: ResolvedGroup, written: number): { perRank: number; total: number; dpRanks: number; note: string };
  /** ports rank 0 of an instance binds besides its HTTP port */
  extraPorts(d: ResolvedDeployment, g: ResolvedGroup, inst: ResolvedInstance, port: number): ExtraPort[];
  /** engine rules: version vs catalog */
  checkVersion(d: ResolvedDeployment, warn: Report): void;
  /** engine rules: how an instance's GPUs split over its nodes; false stops the GPU checks for the group */
  checkGpuSplit(g: ResolvedGroup, minGpus: number, error: Report): boolean;
  /** engine rules on one group (what its launcher asserts) */
  checkGroup(d: ResolvedDeployment, g: ResolvedGroup, error: Report, warn: Report): void;
  /** engine rules on the router; false when nothing more is to be checked */
  checkRouter(d: ResolvedDeployment, error: Report, warn: Report): boolean;
}

/** the HTTP base URL of an instance (its first node's address and the group's server port) */
export function instanceUrl(d: ResolvedDeployment, g: ResolvedGroup, inst: ResolvedInstance): string {
  return `http://${urlHostOf(d.addressOf(inst.nodes[0]))}:${g.ports.server}`;
}
