import type { EngineKind } from '../engines/catalog';
import { isCollection } from 'yaml';
import { YamlSource, type SpecIssue, type SpecPath } from '../spec/yaml-spec';
import { SpecValidationError, type ErrorLocation } from '../util/errors';
import { argvOf } from '../engines/command-pieces';
import { layoutProcesses, type LaidOutProcess } from './layout';
import { resolveDeployment, type PlanCluster, type ResolvedDeployment } from './resolve';
import { instanceUrl } from '../engines/types';
import { urlHostOf } from '../launch/endpoint-host';
import { engineOf } from '../engines';
import { DEPLOY_LANGUAGE, deploySpecSchema, parseDeploySpec, type DeploySpec, type GroupRole } from '../spec/deploy-spec';
import { envNameIssues, validateResolved, type DeployIssue, type PlanPolicy } from './validate';
import { effectiveLimits, type EffectiveLimit } from './effective';

export type { PlanCluster } from './resolve';

export type ProcessRole = GroupRole | 'router';

/** One process to start: a server rank on a node, or the router. */
export interface PlannedProcess {
  /** "prefill-0/rank-3", "router" */
  id: string;
  role: ProcessRole;
  /** "prefill-0"; the router's is "router" */
  instanceId: string;
  nodeRank: number;
  nnodes: number;
  node: string;
  /** the node's address as the cluster knows it */
  address: string;
  argv: string[];
  env: Record<string, string>;
  gpuIds: number[];
  /** HTTP port (every SGLang rank listens on it; non-zero ranks answer /health only) */
  port: number;
  /** http://address:port/health on the node's network, for the processes that answer it */
  healthUrl?: string;
  /** file-name-safe label for logs and pid files */
  logName: string;
}

export interface PlannedInstance {
  id: string;
  role: GroupRole;
  index: number;
  nodes: string[];
  /** base URL of the instance's rank 0 (what the router and bench talk to) */
  url: string;
  /** prefill only: the bootstrap port handed to the router */
  bootstrapPort?: number;
  processIds: string[];
}

export type PlanAction =
  | { kind: 'start'; processId: string; node: string; description: string }
  | { kind: 'wait-healthy'; target: string; url: string; description: string }
  | { kind: 'check-generate'; url: string; description: string }
  | { kind: 'ready'; endpoint: string; description: string };

export interface Plan {
  name: string;
  cluster: string;
  clusterKind: string;
  engine: { kind: EngineKind; version: string };
  pd: boolean;
  instances: PlannedInstance[];
  /** server ranks in start order, then the router */
  processes: PlannedProcess[];
  /** in order: start every rank, wait for each instance, start the router, wait, one-token generate, ready */
  actions: PlanAction[];
  /** what clients use: the router when there is one, else the (single) rank-0 server */
  endpoint: { node: string; port: number; url: string; via: 'router' | 'server' };
  paths: { health: string; generate: string; serverInfo?: string; modelInfo?: string };
  /** warnings found by validation (errors stop planning) */
  warnings: DeployIssue[];
  /** what maxRunningRequests / chunkedPrefill mean per DP rank for this engine (effective.ts) */
  effective?: EffectiveLimit[];
}

function toPlanned(d: ResolvedDeployment, p: LaidOutProcess): PlannedProcess {
  const answersHealth = p.role === 'router' || p.nodeRank === 0;
  return {
    id: p.id,
    role: p.role,
    instanceId: p.instance?.id ?? 'router',
    nodeRank: p.nodeRank,
    nnodes: p.nnodes,
    node: p.node,
    address: p.address,
    argv: argvOf(p.command),
    env: p.command.env,
    gpuIds: p.gpuIds,
    port: p.port,
    healthUrl: answersHealth ? `http://${urlHostOf(p.address)}:${p.port}/health` : undefined,
    logName: `${d.spec.name}.${p.id.replace('/', '.')}`,
  };
}

/**
 * Spec + cluster -> the exact commands, per node and rank, in launch order. Pure: it reads
 * nothing and starts nothing. Throws SpecValidationError (field paths, no lines) when validation
 * finds errors; `planDeployCell` does the same with YAML lines.
 */
export function planDeployment(spec: DeploySpec, cluster: PlanCluster, policy: PlanPolicy = {}): Plan {
  const d = resolveDeployment(spec, cluster);
  const issues = validateResolved(d, policy);
  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length) throw issuesToError(errors.map((i) => ({ issue: i })), undefined);
  return buildPlan(d, issues.filter((i) => i.severity === 'warning'));
}

function buildPlan(d: ResolvedDeployment, warnings: DeployIssue[]): Plan {
  const layout = layoutProcesses(d);
  const processes = layout.servers.map((s) => toPlanned(d, s));
  const instances: PlannedInstance[] = d.groups.flatMap((g) =>
    g.instances.map((inst) => ({
      id: inst.id,
      role: g.role,
      index: inst.index,
      nodes: inst.nodes,
      url: instanceUrl(d, g, inst),
      bootstrapPort: g.role === 'prefill' ? g.ports.bootstrap : undefined,
      processIds: processes.filter((p) => p.instanceId === inst.id).map((p) => p.id),
    })),
  );
  const actions: PlanAction[] = processes.map((p) => ({ kind: 'start', processId: p.id, node: p.node, description: `start ${p.id} on ${p.node}` }));
  for (const inst of instances) {
    actions.push({ kind: 'wait-healthy', target: inst.id, url: `${inst.url}/health`, description: `wait until ${inst.id} answers /health` });
  }
  let endpoint: Plan['endpoint'];
  if (layout.router) {
    const router = toPlanned(d, layout.router);
    processes.push(router);
    const url = `http://${urlHostOf(router.address)}:${router.port}`;
    actions.push({ kind: 'start', processId: router.id, node: router.node, description: `start the router on ${router.node}` });
    actions.push({ kind: 'wait-healthy', target: 'router', url: `${url}/health`, description: 'wait until the router answers /health' });
    endpoint = { node: router.node, port: router.port, url, via: 'router' };
  } else {
    const first = instances[0];
    endpoint = { node: first.nodes[0], port: d.groups[0].ports.server, url: first.url, via: 'server' };
  }
  const engine = engineOf(d.engine);
  const paths = engine.paths(d.version);
  actions.push({ kind: 'check-generate', url: `${endpoint.url}${paths.generate}`, description: engine.probeDescription });
  actions.push({ kind: 'ready', endpoint: endpoint.url, description: `ready at ${endpoint.url}` });
  return {
    name: d.spec.name,
    cluster: d.cluster.name,
    clusterKind: d.cluster.kind,
    engine: { kind: d.engine, version: d.version.text },
    pd: d.pd,
    instances,
    processes,
    actions,
    endpoint,
    paths: { health: paths.health, generate: paths.generate, serverInfo: paths.serverInfo, modelInfo: paths.modelInfo },
    warnings,
    effective: effectiveLimits(d),
  };
}

/** A validation issue with its place in the cell. */
export interface LocatedIssue extends SpecIssue {
  rule: DeployIssue['rule'];
  hint?: string;
  /** the issue's quick fix, its path as written in the YAML */
  fix?: DeployIssue['fix'];
}

/** Map spec paths to YAML lines (top-level `extraArgs: [..]` is stored as extraArgs.all). */
export function locateIssues(issues: readonly DeployIssue[], source: YamlSource): LocatedIssue[] {
  return issues.map((issue) => {
    const path = sourcePath(issue.path, source);
    // a whole section (a group, a list) is named by its key's line, not its first item's
    const r = source.rangeOf(path, isCollection(source.doc.getIn(path, true)));
    const located: LocatedIssue = { message: issue.message, path: issue.path, severity: issue.severity, range: { start: r.start, end: r.end }, line: r.line, column: r.column, rule: issue.rule, hint: issue.hint };
    if (issue.fix) located.fix = { ...issue.fix, path: sourcePath(issue.fix.path, source) };
    return located;
  });
}

function sourcePath(path: SpecPath, source: YamlSource): SpecPath {
  const value = source.value as { extraArgs?: unknown };
  if (path[0] === 'extraArgs' && path[1] === 'all' && Array.isArray(value.extraArgs)) return ['extraArgs', ...path.slice(2)];
  return path;
}

function issuesToError(issues: { issue: DeployIssue; located?: LocatedIssue }[], cell: string | undefined): SpecValidationError {
  const loc = (x: { issue: DeployIssue; located?: LocatedIssue }): ErrorLocation => ({
    cell,
    line: x.located?.line,
    column: x.located?.column,
    field: x.issue.path.join('.') || undefined,
  });
  const first = issues[0];
  const message = issues.length === 1 ? `Deployment cannot be planned: ${first.issue.message}` : `Deployment cannot be planned (${issues.length} problems): ${first.issue.message}`;
  return new SpecValidationError(
    message,
    loc(first),
    first.issue.hint ?? 'Fix the highlighted lines and run the cell again.',
    issues.map((x) => ({ message: x.issue.hint ? `${x.issue.message}. ${x.issue.hint}` : x.issue.message, where: loc(x), severity: x.issue.severity })),
  );
}

/**
 * Parse, validate and plan a deploy cell's text. Every error (schema or topology) carries its
 * YAML line; warnings come back positioned too, for the cell output and the language server.
 */
export function planDeployCell(text: string, cluster: PlanCluster, cellName?: string, policy: PlanPolicy = {}): { plan: Plan; spec: DeploySpec; source: YamlSource; warnings: LocatedIssue[] } {
  return planParsedDeployCell(parseDeploySpec(text, cellName), cluster, cellName, policy);
}

/** planDeployCell for a cell already parsed (parseDeploySpec): a cell is parsed once per run. */
export function planParsedDeployCell(parsed: { spec: DeploySpec; source: YamlSource }, cluster: PlanCluster, cellName?: string, policy: PlanPolicy = {}): { plan: Plan; spec: DeploySpec; source: YamlSource; warnings: LocatedIssue[] } {
  const { spec, source } = parsed;
  const d = resolveDeployment(spec, cluster);
  const issues = validateResolved(d, policy);
  const located = locateIssues(issues, source);
  const errors = issues.map((issue, i) => ({ issue, located: located[i] })).filter((x) => x.issue.severity === 'error');
  if (errors.length) throw issuesToError(errors, cellName ?? spec.name);
  const warnings = issues.filter((i) => i.severity === 'warning');
  return { plan: buildPlan(d, warnings), spec, source, warnings: located.filter((l) => l.severity === 'warning') };
}

/**
 * Every problem in a deploy cell with its line, never throwing: YAML syntax, schema, and (when the
 * cluster is known) topology. For the language server's diagnostics and the cell's own output.
 */
export function checkDeployCell(text: string, cluster?: PlanCluster, policy: PlanPolicy = {}): LocatedIssue[] {
  const source = new YamlSource(text);
  const syntax = source.syntaxIssues();
  if (syntax.some((i) => i.severity === 'error')) return syntax.map((i) => ({ ...i, rule: 'schema' as const }));
  const parsed = deploySpecSchema.safeParse(source.value);
  if (!parsed.success) return source.zodIssues(parsed.error).map((i) => ({ ...i, rule: 'schema' as const }));
  // refused environment names need no cluster to be found
  if (!cluster) return locateIssues(envNameIssues(parsed.data, policy), source);
  return locateIssues(validateResolved(resolveDeployment(parsed.data, cluster), policy), source);
}

export { DEPLOY_LANGUAGE };
