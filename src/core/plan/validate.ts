import type { SpecPath } from '../spec/yaml-spec';
import { engineOf } from '../engines';
import type { DeployIssue, DeployRule, IssueFix, Report } from '../engines/types';
export type { DeployIssue, DeployRule, IssueFix } from '../engines/types';
export { DP_ATTENTION_HANDSHAKE_PORT_DELTA } from '../engines/sglang/engine';
import { choicesAt, lookupFlag, routerFlagAt, scanArgs, canonicalFlag, splitFlagToken, type FlagLookup } from '../engines/catalog';
import { layoutProcesses, type LaidOutProcess } from './layout';
import { routedExpertsFor, shapeFor } from '../spec/models';
import { resolveDeployment, type PlanCluster, type ResolvedDeployment, type ResolvedGroup } from './resolve';
import { ROLES, type DeploySpec } from '../spec/deploy-spec';
import { ENV_ALLOW_HINT, envNameAllowed, envNameRisk } from '../launch/env-policy';

/**
 * Checks a deployment before anything runs. Each rule names its source in a comment; issues
 * carry spec paths, which `locateIssues` (planner.ts) maps to YAML lines for the cell, the CLI and
 * the language server.
 */


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
    engineOf(d.engine).checkGroup(d, g, error, warn);
    checkExperts(d, g, error, warn);
    checkModelShape(d, g, error);
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


function checkEngineAndCluster(d: ResolvedDeployment, error: Report, warn: Report): void {
  if (d.spec.cluster !== d.cluster.name) error('cluster', ['cluster'], `this deployment names cluster "${d.spec.cluster}" but is being planned on "${d.cluster.name}"`);
  engineOf(d.engine).checkVersion(d, warn);
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
  if (!engineOf(d.engine).checkGpuSplit(g, minGpus, error)) return;
  const used = g.gpusUsedPerNode;
  const expr = engineOf(d.engine).parallelText(g);
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
  const split = engineOf(d.engine).expertSplit(g);
  const moeTp = split.ways;
  if (moeTp <= 1) return;
  const path = g.origin('parallel', 'tp');
  const width = shape.moeIntermediateSize / moeTp;
  const block = Math.max(shape.blockN ?? 1, shape.blockK ?? 1);
  const fits = (tp: number) => shape.moeIntermediateSize % tp === 0 && (shape.moeIntermediateSize / tp) % block === 0;
  if (fits(moeTp)) return;
  const workable = [1, 2, 4, 8, 16, 32, 64].filter((t) => t < moeTp && fits(t));
  const what = split.what;
  const why = Number.isInteger(width) ? `${shape.moeIntermediateSize} / ${moeTp} = ${width} columns per shard is not a multiple of the FP8 block ${block}` : `${shape.moeIntermediateSize} does not divide by ${moeTp}`;
  error('model-shape', path, `${what}: moe_intermediate_size ${why} (${shape.source}); the checkpoint cannot load`, `Use expert parallelism (${split.avoid}) so experts are not split${workable.length ? `, or a TP split of ${workable[workable.length - 1]}` : ''}.`);
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
  if (!engineOf(d.engine).checkRouter(d, error, warn)) return;
  if (!d.cluster.nodes.some((n) => n.name === r.node)) error('router', r.origin('node'), `router node "${r.node}" is not in cluster ${d.cluster.name}`);
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
    for (const x of engineOf(d.engine).extraPorts(d, g, inst, s.port)) uses.push({ node: s.node, owner, ...x });
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
  const engineName = engineOf(d.engine).label;
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
