/**
 * Every deploy-spec field whose value reaches a remote command, a path, an environment variable
 * or a URL, as a function from one hostile string to a whole deploy cell. `field` is the spec
 * path an error about that value must name.
 */
import { yamlQuote } from './helpers';

export interface DeployField {
  /** spec path an error must name (prefix match on the error's field) */
  field: string;
  /** the deploy cell's YAML with `s` in this field */
  yaml(s: string): string;
  /** the string that must appear in some argv element or env value when the plan is accepted */
  expect(s: string): string;
  /**
   * names of things, not free text: a value is accepted only when it is a plain word like this
   * (it then names a node, a cell or a file, and is not looked for in the argv)
   */
  acceptOnly?: RegExp;
}

const HEAD = ['cluster: here', 'engine: { kind: sglang, version: "0.5.15" }'];

/** one unified instance on the one local node; `extra` lines go in at the top level */
function unified(extra: string[], group: string[] = [], name = 'hx'): string {
  return [`name: ${name}`, ...HEAD, ...(extra.some((l) => l.startsWith('model:')) ? [] : ['model: /models/m']), ...extra, 'unified:', '  nodes: [local]', '  parallel: { tp: 8 }', ...group.map((l) => `  ${l}`)].join('\n');
}

/** prefill + decode + router on the one node (the router and transfer fields need PD) */
function pd(extra: string[], router: string[] = []): string {
  return [
    'name: hx',
    ...HEAD,
    'model: /models/m',
    ...extra,
    'prefill:',
    '  nodes: [local]',
    '  gpusPerNode: 8',
    '  parallel: { tp: 8 }',
    '  ports: { server: 41000, bootstrap: 41500 }',
    'decode:',
    '  nodes: [local]',
    '  gpusPerNode: 8',
    '  baseGpuId: 8',
    '  parallel: { tp: 8 }',
    '  ports: { server: 42000 }',
    `router: { port: 43000${router.length ? ', ' + router.join(', ') : ''} }`,
  ].join('\n');
}

const same = (s: string): string => s;
const WORD = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const q = yamlQuote;

export const DEPLOY_FIELDS: DeployField[] = [
  { field: 'model', yaml: (s) => unified([`model: ${q(s)}`]), expect: same },
  { field: 'servedModelName', yaml: (s) => unified([`servedModelName: ${q(s)}`]), expect: same },
  { field: 'server.python', yaml: (s) => unified([`server: { python: ${q(s)} }`]), expect: same },
  { field: 'unified.server.host', yaml: (s) => unified([], [`server: { host: ${q(s)} }`]), expect: same },
  { field: 'server.attentionBackend', yaml: (s) => unified([`server: { attentionBackend: ${q(s)} }`]), expect: same },
  { field: 'moe.initExpertLocation', yaml: (s) => unified(['modelHint: deepseek-v3', `moe: { a2a: deepep, initExpertLocation: ${q(s)} }`]), expect: same },
  { field: 'moe.runnerBackend', yaml: (s) => unified([`moe: { runnerBackend: ${q(s)} }`]), expect: same },
  { field: 'moe.deepepConfig', yaml: (s) => unified(['modelHint: deepseek-v3', `moe: { a2a: deepep, deepepConfig: ${q(s)} }`]), expect: same },
  { field: 'env', yaml: (s) => unified([`env: { HOSTILE_VALUE: ${q(s)} }`]), expect: same },
  { field: 'unified.env', yaml: (s) => unified([], [`env: { HOSTILE_VALUE: ${q(s)} }`]), expect: same },
  { field: 'env', yaml: (s) => unified([`env: { ${q(s)}: "1" }`]), expect: same, acceptOnly: WORD },
  { field: 'extraArgs', yaml: (s) => unified([`extraArgs: ["--tokenizer-path", ${q(s)}]`]), expect: same },
  { field: 'extraArgs', yaml: (s) => unified([`extraArgs: [${q(`--tokenizer-path=${s}`)}]`]), expect: (s) => `--tokenizer-path=${s}` },
  { field: 'unified.extraArgs', yaml: (s) => unified([], [`extraArgs: ["--json-model-override-args", ${q(s)}]`]), expect: same },
  { field: 'transfer.ibDevices', yaml: (s) => pd([`transfer: { ibDevices: ${q(s)} }`]), expect: same },
  { field: 'transfer.ibDevices', yaml: (s) => pd([`transfer: { ibDevices: ["mlx5_0", ${q(s)}] }`]), expect: (s) => `mlx5_0,${s}` },
  { field: 'router.host', yaml: (s) => pd([], [`host: ${q(s)}`]), expect: same },
  { field: 'router.env', yaml: (s) => pd([], [`env: { HOSTILE_VALUE: ${q(s)} }`]), expect: same },
  { field: 'router.extraArgs', yaml: (s) => pd([], [`extraArgs: ["--prometheus-host", ${q(s)}]`]), expect: same },
  { field: 'router.node', yaml: (s) => pd([], [`node: ${q(s)}`]), expect: same, acceptOnly: WORD },
  { field: 'unified.nodes', yaml: (s) => unified([], []).replace('nodes: [local]', () => `nodes: [${q(s)}]`), expect: same, acceptOnly: WORD },
  { field: 'name', yaml: (s) => unified([], [], q(s)), expect: same, acceptOnly: WORD },
  { field: 'cluster', yaml: (s) => unified([]).replace('cluster: here', () => `cluster: ${q(s)}`), expect: same, acceptOnly: WORD },
  { field: 'engine.version', yaml: (s) => unified([]).replace('version: "0.5.15"', () => `version: ${q(s)}`), expect: same, acceptOnly: WORD },
];

/** the plan's cluster: one local node with 16 GPUs */
export const LOCAL_PLAN_CLUSTER = { name: 'here', kind: 'local', nodes: [{ name: 'local', address: '127.0.0.1', gpus: 16 }] };
