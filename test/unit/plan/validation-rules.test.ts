import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDeployCell, planDeployCell, type LocatedIssue } from '../../../src/core/plan/planner';
import { parseDeploySpec } from '../../../src/core/spec/deploy-spec';
import type { PlanCluster } from '../../../src/core/plan/resolve';
import { SpecValidationError } from '../../../src/core/util/errors';
import { sshCluster } from './helpers';

// One test per validation rule: the rule fires, and the message points at the YAML line a
// person has to change.

const cluster4 = sshCluster('lab', 4);

/** 1-based line of the first line containing `needle` (after `after`, when given) */
function lineOf(text: string, needle: string, after?: string): number {
  const lines = text.split('\n');
  const start = after ? lines.findIndex((l) => l.includes(after)) : 0;
  const i = lines.findIndex((l, idx) => idx >= start && l.includes(needle));
  assert.ok(i >= 0, `fixture has no line with ${needle}`);
  return i + 1;
}

function issue(text: string, rule: LocatedIssue['rule'], cluster: PlanCluster = cluster4): LocatedIssue {
  const found = checkDeployCell(text, cluster).filter((i) => i.rule === rule);
  assert.ok(found.length > 0, `expected a ${rule} issue`);
  return found[0];
}

function yaml(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

const pdBase = (prefill: string[] = [], decode: string[] = [], top: string[] = []) =>
  yaml(
    'name: pd',
    'cluster: lab',
    'engine:',
    '  kind: sglang',
    '  version: "0.5.15"',
    'model: /models/DeepSeek-V3',
    'moe:',
    '  a2a: deepep',
    ...top,
    'prefill:',
    '  nodes:',
    '    - gpu-01',
    '    - gpu-02',
    '  parallel:',
    '    tp: 16',
    '    dp: 16',
    '    dpAttention: true',
    ...prefill,
    'decode:',
    '  nodes:',
    '    - gpu-03',
    '    - gpu-04',
    '  parallel:',
    '    tp: 16',
    '    dp: 16',
    '    dpAttention: true',
    ...decode,
  );

test('the base PD spec is clean (so each test below changes exactly one thing)', () => {
  assert.deepEqual(checkDeployCell(pdBase(), cluster4), []);
});

test('gpus: tp larger than nodes x GPUs per node points at tp', () => {
  const text = pdBase().replace('    tp: 16\n    dp: 16\n    dpAttention: true\ndecode', '    tp: 32\n    dp: 16\n    dpAttention: true\ndecode');
  const i = issue(text, 'gpus');
  assert.equal(i.severity, 'error');
  assert.equal(i.line, lineOf(text, 'tp: 32'));
  assert.match(i.message, /needs 16 GPUs per node, but gpu-01 has 8/);
});

test('gpus: tp x pp that does not divide over the nodes is an error at tp', () => {
  const text = pdBase().replace('    tp: 16\n    dp: 16\n    dpAttention: true\ndecode', '    tp: 9\n    dp: 9\n    dpAttention: true\ndecode');
  const i = issue(text, 'gpus');
  assert.equal(i.line, lineOf(text, 'tp: 9'));
  assert.match(i.message, /does not divide over 2 nodes/);
});

test('tp-dp: with DP attention tp must be a multiple of dp', () => {
  const text = pdBase(['    moeDenseTp: 1']).replace('    dp: 16\n    dpAttention: true\n    moeDenseTp', '    dp: 6\n    dpAttention: true\n    moeDenseTp');
  const i = issue(text, 'tp-dp');
  assert.equal(i.line, lineOf(text, 'dp: 6'));
  assert.match(i.message, /tp 16 % dp 6 = 4/);
});

test('multinode-dp: dp across nodes without DP attention is refused', () => {
  const text = pdBase().replace('    dp: 16\n    dpAttention: true\ndecode', '    dp: 16\n    dpAttention: false\ndecode');
  const i = issue(text, 'multinode-dp');
  assert.equal(i.line, lineOf(text, 'dp: 16'));
});

test('dp-lm-head: dpLmHead without DP attention', () => {
  const text = pdBase([], ['    dpLmHead: true']).replace('    dp: 16\n    dpAttention: true\n    dpLmHead', '    dp: 1\n    dpAttention: false\n    dpLmHead');
  const i = issue(text, 'dp-lm-head');
  assert.equal(i.line, lineOf(text, 'dpLmHead: true'));
});

test('ep-deepep: an ep different from tp under DeepEP', () => {
  const text = pdBase(['    ep: 8']);
  const i = issue(text, 'ep-deepep');
  assert.equal(i.line, lineOf(text, 'ep: 8'));
  assert.match(i.message, /sets ep = tp \(16\)/);
});

test('experts-ep: (routed + redundant) % ep, with the nearest redundant count that works', () => {
  const text = yaml(
    'name: big',
    'cluster: lab8',
    'model: /models/DeepSeek-R1',
    'unified:',
    '  nodes: [gpu-01, gpu-02, gpu-03, gpu-04, gpu-05, gpu-06, gpu-07, gpu-08]',
    '  parallel: { tp: 64, dp: 64, dpAttention: true }',
    '  moe:',
    '    a2a: deepep',
    '    mode: low_latency',
    '    redundantExperts: 32',
  );
  const i = issue(text, 'experts-ep', sshCluster('lab8', 8));
  assert.equal(i.line, lineOf(text, 'redundantExperts: 32'));
  assert.match(i.message, /256 routed \+ 32 redundant experts = 288 do not divide over ep 64/);
  assert.match(i.hint ?? '', /redundantExperts 64/);
});

test('moe-dense-tp: only 1 or tp', () => {
  const text = pdBase(['    moeDenseTp: 4']);
  const i = issue(text, 'moe-dense-tp');
  assert.equal(i.line, lineOf(text, 'moeDenseTp: 4'));
});

test('eplb-ep: EPLB without expert parallelism', () => {
  const text = yaml('name: one', 'cluster: lab', 'model: /models/DeepSeek-V3', 'unified:', '  nodes: [gpu-01]', '  moe:', '    eplb: true');
  const i = issue(text, 'eplb-ep');
  assert.equal(i.line, lineOf(text, 'eplb: true'));
});

test('ports: a decode server sharing a node and port with a prefill server', () => {
  const text = yaml(
    'name: shared',
    'cluster: lab',
    'model: /models/DeepSeek-V3',
    'prefill:',
    '  nodes: [gpu-01]',
    '  gpusPerNode: 4',
    '  parallel: { tp: 4 }',
    'decode:',
    '  nodes: [gpu-01]',
    '  baseGpuId: 4',
    '  parallel: { tp: 4 }',
    '  ports:',
    '    server: 30000',
  );
  const i = issue(text, 'ports');
  assert.equal(i.line, lineOf(text, 'server: 30000'));
  assert.match(i.message, /port 30000 on gpu-01 is used twice: decode-0\/rank-0 HTTP port and prefill-0\/rank-0 HTTP port/);
  // moving the decode port clears it
  assert.equal(checkDeployCell(text.replace('server: 30000', 'server: 30001'), cluster4).filter((x) => x.severity === 'error').length, 0);
});

test('ports: the router on a server\'s port, and dist-init ranges closer than 7 under DP attention', () => {
  const routerClash = pdBase([], [], []) + yaml('router:', '  port: 30000');
  const r = issue(routerClash, 'ports');
  assert.equal(r.line, lineOf(routerClash, 'port: 30000'));
  const text = yaml(
    'name: two',
    'cluster: lab',
    'model: /models/DeepSeek-V3',
    'prefill:',
    '  nodes: [gpu-01, gpu-02]',
    '  gpusPerNode: 4',
    '  parallel: { tp: 8, dp: 8, dpAttention: true }',
    '  ports: { distInit: 5000 }',
    'decode:',
    '  nodes: [gpu-01, gpu-02]',
    '  baseGpuId: 4',
    '  parallel: { tp: 8, dp: 8, dpAttention: true }',
    '  ports: { server: 30001, distInit: 5003 }',
  );
  const i = issue(text, 'ports');
  assert.equal(i.line, lineOf(text, 'distInit: 5003'));
  assert.match(i.message, /port 5003 on gpu-01/);
});

test('flags: a flag removed in the chosen release, given in extraArgs, points at that item', () => {
  const text = pdBase().replace('  version: "0.5.15"', '  version: "0.5.4.post1"') + yaml('extraArgs:', '  decode:', '    - --enable-deepep-moe');
  const i = issue(text, 'flags');
  assert.equal(i.severity, 'error');
  assert.equal(i.line, lineOf(text, '- --enable-deepep-moe'));
  assert.match(i.message, /removed in 0\.5\.4\.post1/);
  assert.match(i.message, /--moe-a2a-backend deepep/);
});

test('flags: a renamed (deprecated) spelling in extraArgs is a warning naming the new one', () => {
  const text = pdBase([], []) + yaml('extraArgs: [--cuda-graph-bs, 128]');
  const i = issue(text, 'flags');
  assert.equal(i.severity, 'warning');
  assert.equal(i.line, lineOf(text, 'extraArgs:'));
  assert.match(i.message, /--cuda-graph-bs-decode/);
});

test('flags: a misspelt flag in a group\'s extraArgs is an error with a suggestion', () => {
  const text = pdBase(['  extraArgs:', '    - --watchdog-timout', '    - "600"']);
  const i = issue(text, 'flags');
  assert.equal(i.severity, 'error');
  assert.equal(i.line, lineOf(text, '--watchdog-timout'));
  assert.match(i.message, /did you mean --watchdog-timeout/);
});

test('flags: a feature the chosen release does not have points at the setting that needs it', () => {
  const text = pdBase([], [], ['  tbo: true']).replace('  version: "0.5.15"', '  version: "0.4.6.post2"');
  const i = issue(text, 'flags');
  assert.equal(i.line, lineOf(text, 'tbo: true'));
  assert.match(i.message, /--enable-two-batch-overlap first appeared in 0\.4\.7/);
});

test('router: PD without the router', () => {
  const text = pdBase() + yaml('router:', '  enabled: false');
  const i = issue(text, 'router');
  assert.equal(i.line, lineOf(text, 'enabled: false'));
});

test('router: sglang_router has no PD mode before 0.4.8', () => {
  const text = pdBase().replace('  version: "0.5.15"', '  version: "0.4.7"') + yaml('router:', '  kind: sglang_router');
  const i = issue(text, 'router');
  assert.equal(i.line, lineOf(text, 'kind: sglang_router'));
});

test('chunked-prefill: the global value that does not divide by dp under DP attention', () => {
  const text = yaml(
    'name: u',
    'cluster: lab',
    'model: /models/DeepSeek-V3',
    'unified:',
    '  nodes: [gpu-01]',
    '  gpusPerNode: 6',
    '  parallel: { tp: 6, dp: 6, dpAttention: true }',
    '  memory:',
    '    chunkedPrefill: 81920',
  );
  const i = issue(text, 'chunked-prefill');
  assert.equal(i.severity, 'warning');
  assert.equal(i.line, lineOf(text, 'chunkedPrefill: 81920'));
  assert.match(i.message, /81920 \/ 6 = 13653\.3, rounded down to 13653 tokens per rank/);
});

test('chunked-prefill: a per-rank-looking value under DP attention warns with the global equivalent', () => {
  const text = pdBase(['  memory:', '    chunkedPrefill: 8192']);
  const i = issue(text, 'chunked-prefill');
  assert.equal(i.line, lineOf(text, 'chunkedPrefill: 8192'));
  assert.match(i.message, /only 512 tokens per rank/);
  assert.match(i.hint ?? '', /131072/);
});

test('chunked-prefill: one top-level value shared by groups with different dp', () => {
  const text = pdBase([], [], []).replace('moe:\n  a2a: deepep', 'moe:\n  a2a: deepep\nmemory:\n  chunkedPrefill: 262144').replace(/decode:\n  nodes:\n    - gpu-03\n    - gpu-04\n  parallel:\n    tp: 16\n    dp: 16/, 'decode:\n  nodes:\n    - gpu-03\n    - gpu-04\n  parallel:\n    tp: 16\n    dp: 8');
  const found = checkDeployCell(text, cluster4).filter((x) => x.rule === 'chunked-prefill');
  assert.equal(found.length, 1);
  assert.equal(found[0].line, lineOf(text, 'chunkedPrefill: 262144'));
  assert.match(found[0].message, /prefill gets 16384 per rank, decode 32768/);
});

test('deepep-mode: auto mode with DP attention on a unified server', () => {
  const text = yaml('name: u', 'cluster: lab', 'model: /models/DeepSeek-V3', 'unified:', '  nodes: [gpu-01]', '  parallel: { tp: 8, dp: 8, dpAttention: true }', '  moe:', '    a2a: deepep');
  const i = issue(text, 'deepep-mode');
  assert.equal(i.severity, 'error');
  assert.equal(i.line, lineOf(text, 'a2a: deepep'));
});

test('deepep-dispatch: a per-rank CUDA-graph batch beyond the 1024-token DeepEP buffer', () => {
  const text = pdBase([], ['  memory:', '    cudaGraphBatchSizes: [512, 2048]']);
  const i = issue(text, 'deepep-dispatch');
  assert.equal(i.line, lineOf(text, 'cudaGraphBatchSizes'));
});

test('tbo: two-batch overlap without an all-to-all backend needs DP attention', () => {
  const text = yaml('name: u', 'cluster: lab', 'model: /models/DeepSeek-V3', 'unified:', '  nodes: [gpu-01]', '  moe:', '    tbo: true');
  const i = issue(text, 'tbo');
  assert.equal(i.line, lineOf(text, 'tbo: true'));
});

test('nodes: a node the cluster does not have points at that list item', () => {
  const text = pdBase().replace('    - gpu-04', '    - gpu-44');
  const i = issue(text, 'nodes');
  assert.equal(i.line, lineOf(text, '- gpu-44'));
  assert.match(i.hint ?? '', /gpu-01, gpu-02, gpu-03, gpu-04/);
});

test('served-name: ":" is refused', () => {
  const text = pdBase().replace('model: /models/DeepSeek-V3', 'model: /models/DeepSeek-V3\nservedModelName: "ds:v3"');
  const i = issue(text, 'served-name');
  assert.equal(i.line, lineOf(text, 'servedModelName'));
});

test('transfer: the fake backend on prefill', () => {
  const text = pdBase(['  transfer:', '    backend: fake']);
  const i = issue(text, 'transfer');
  assert.equal(i.line, lineOf(text, 'backend: fake'));
});

test('cluster: a deployment planned on another cluster', () => {
  const text = pdBase().replace('cluster: lab', 'cluster: elsewhere');
  const i = issue(text, 'cluster');
  assert.equal(i.line, lineOf(text, 'cluster: elsewhere'));
});

test('engine: vLLM prefill/decode groups are refused at the group', () => {
  const text = pdBase().replace('  kind: sglang', '  kind: vllm').replace('  version: "0.5.15"', '  version: "0.12.0"');
  const i = issue(text, 'engine');
  assert.equal(i.line, lineOf(text, 'prefill:'));
});

test('schema: a misspelt key is an error on its own line, before any planning', () => {
  const text = pdBase(['  memroy:', '    fraction: 0.8']);
  assert.throws(() => parseDeploySpec(text, 'pd'), (err: unknown) => {
    assert.ok(err instanceof SpecValidationError);
    assert.equal(err.where.line, lineOf(text, 'memroy:'));
    assert.match(err.message, /memroy/);
    return true;
  });
});

test('planning a spec with errors throws one SpecValidationError listing every problem with its line', () => {
  const text = pdBase(['    moeDenseTp: 4', '    ep: 8']);
  assert.throws(() => planDeployCell(text, cluster4, 'pd'), (err: unknown) => {
    assert.ok(err instanceof SpecValidationError);
    assert.equal(err.issues.length, 2);
    assert.deepEqual(err.issues.map((x) => x.where.line).sort(), [lineOf(text, 'moeDenseTp: 4'), lineOf(text, 'ep: 8')].sort());
    assert.equal(err.where.cell, 'pd');
    return true;
  });
});

test('flags: a value outside the choices of the chosen release ("random" dispatch is rejected since 0.5.14)', () => {
  const text = pdBase([], [], ['  dispatchAlgorithm: random']);
  const i = issue(text, 'flags');
  assert.equal(i.severity, 'error');
  assert.equal(i.line, lineOf(text, 'dispatchAlgorithm: random'));
  assert.match(i.message, /static, dynamic, fake, lp/);
  // the blog-era copy used it on 0.4.6.post5, whose source declares the flag without choices
  const old = text.replace('  version: "0.5.15"', '  version: "0.4.6.post5"');
  assert.equal(checkDeployCell(old, cluster4).filter((x) => x.rule === 'flags').length, 0);
  // a release after the newest one read: the newest list, as a warning that names where it is from
  const newer = text.replace('  version: "0.5.15"', '  version: "0.5.18"');
  const w = issue(newer, 'flags');
  assert.equal(w.severity, 'warning');
  assert.match(w.message, /SGLang main at b26729f224 \(after 0\.5\.17\) accepts static, dynamic, fake, lp; 0\.5\.18 is not in the catalog/);
});
