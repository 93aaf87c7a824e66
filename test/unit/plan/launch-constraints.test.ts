import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDeployCell, planDeployCell, type LocatedIssue } from '../../../src/core/plan/planner';
import { planCommands } from '../../../src/core/plan/print';
import { sshCluster } from './helpers';

// Issue 18: one test per launch constraint, each pointing at the YAML line to change. The rules
// cite SGLang / router source at b26729f2245c (main after v0.5.17) in validate.ts.

const lab = sshCluster('lab', 4);

function lineOf(text: string, needle: string, after?: string): number {
  const lines = text.split('\n');
  const start = after ? lines.findIndex((l) => l.includes(after)) : 0;
  const i = lines.findIndex((l, idx) => idx >= start && l.includes(needle));
  assert.ok(i >= 0, `fixture has no line with ${needle}`);
  return i + 1;
}

function issues(text: string, rule?: LocatedIssue['rule']): LocatedIssue[] {
  return checkDeployCell(text, lab).filter((i) => !rule || i.rule === rule);
}

function only(text: string, rule: LocatedIssue['rule']): LocatedIssue {
  const found = issues(text, rule);
  assert.equal(found.length, 1, `expected one ${rule} issue, got ${JSON.stringify(found.map((f) => f.message))}`);
  return found[0];
}

const y = (...lines: string[]) => `${lines.join('\n')}\n`;

/** one unified DP-attention server on two nodes (tp = dp = 16) */
const unified = (version: string, memory: string[] = [], moe: string[] = ['  a2a: deepep', '  mode: low_latency'], extra: string[] = []) =>
  y('name: u', 'cluster: lab', 'engine:', '  kind: sglang', `  version: "${version}"`, 'model: /models/DeepSeek-V3', 'moe:', ...moe, 'unified:', '  nodes: [gpu-01, gpu-02]', '  parallel: { tp: 16, dp: 16, dpAttention: true }', ...(memory.length ? ['  memory:', ...memory] : []), ...extra);

test('1. chunked prefill vs page size is checked per DP rank, after SGLang divides by dp', () => {
  // 16384 is a multiple of 64, but 16384 / dp 16 = 1024 is too; 8192 / 16 = 512 fine; 2048 / 16 = 128 fine
  // 4096 + 16 * 64 * 0 ... a global multiple that fails per rank: 1088 = 17 * 64, / 16 = 68 -> not a multiple of 64
  const failsPerRank = unified('0.5.17', ['    pageSize: 64', '    chunkedPrefill: 1088'], ['  a2a: none']);
  const i = only(failsPerRank, 'chunked-prefill');
  assert.equal(i.severity, 'error');
  assert.equal(i.line, lineOf(failsPerRank, 'chunkedPrefill: 1088'));
  assert.match(i.message, /divided by dp 16 before SGLang checks it: 68 tokens per rank is not a multiple of pageSize 64/);
  assert.equal(i.fix?.value, 1024);
  // not a multiple of 64 globally, yet 1030 / 16 = 64 per rank passes SGLang's check today
  const finePerRank = unified('0.5.17', ['    pageSize: 64', '    chunkedPrefill: 1030'], ['  a2a: none']);
  assert.ok(!issues(finePerRank, 'chunked-prefill').some((x) => x.severity === 'error'));
  // v0.4.9.post3 asserted before dividing: there the global value must be a multiple
  const old = finePerRank.replace('"0.5.17"', '"0.4.9.post3"');
  assert.match(only(old, 'chunked-prefill').message, /chunkedPrefill 1030 is not a multiple of pageSize 64/);
});

test('2. the DeepEP low-latency buffer is sized from running requests per DP rank and the graph batch', () => {
  // no graph sizes given: SGLang's default decode graph batch for tp 16 is 512 -> the env is set to 512
  const base = unified('0.5.17', ['    fraction: 0.8']);
  const { plan } = planDeployCell(base, lab);
  assert.equal(plan.processes[0].env.SGLANG_DEEPEP_NUM_MAX_DISPATCH_TOKENS_PER_RANK, '512');
  // 8192 running requests over dp 16 = 512 per rank, above a graph batch of 128
  const running = unified('0.5.17', ['    maxRunningRequests: 12288', '    cudaGraphMaxBs: 128']);
  const r = planDeployCell(running, lab);
  assert.equal(r.plan.processes[0].env.SGLANG_DEEPEP_NUM_MAX_DISPATCH_TOKENS_PER_RANK, '768');
  // too many per rank for DeepEP's 1024 limit: a warning at maxRunningRequests, capped value set
  const over = unified('0.5.17', ['    maxRunningRequests: 32768', '    cudaGraphMaxBs: 128']);
  const w = only(over, 'deepep-dispatch');
  assert.equal(w.severity, 'warning');
  assert.equal(w.line, lineOf(over, 'maxRunningRequests: 32768'));
  assert.match(w.message, /2048 tokens per step \(maxRunningRequests 32768 \/ dp 16 = 2048 per rank/);
  assert.match(w.hint ?? '', /at or below 16384/);
  assert.equal(planDeployCell(over, lab).plan.processes[0].env.SGLANG_DEEPEP_NUM_MAX_DISPATCH_TOKENS_PER_RANK, '1024');
  // a user value smaller than what a rank can send trips DeepEP under load: warned, with a fix
  const small = unified('0.5.17', ['    maxRunningRequests: 8192'], ['  a2a: deepep', '  mode: low_latency', '  maxDispatchTokensPerRank: 128']);
  const s = only(small, 'deepep-dispatch');
  assert.equal(s.line, lineOf(small, 'maxDispatchTokensPerRank: 128'));
  assert.match(s.message, /smaller than what a unified rank can dispatch per step: 512/);
  assert.equal(s.fix?.value, 512);
});

test('3. moe-a2a-backend: the release\'s own choices and each backend\'s requirements', () => {
  // pplx arrived after 0.5.15 (choices read from each release tag)
  const pplxOld = unified('0.5.15', [], ['  a2a: pplx']);
  const e = only(pplxOld, 'a2a');
  assert.equal(e.severity, 'error');
  assert.equal(e.line, lineOf(pplxOld, 'a2a: pplx'));
  assert.match(e.message, /SGLang 0\.5\.15 does not accept --moe-a2a-backend pplx/);
  // pplx on main: accepted, but not with DeepEP normal mode
  const pplxNormal = unified('0.5.17', [], ['  a2a: pplx', '  mode: normal']);
  assert.equal(issues(unified('0.5.17', [], ['  a2a: pplx', '  mode: low_latency']), 'a2a').length, 0);
  assert.match(only(pplxNormal, 'a2a').message, /pplx all-to-all only supports low-latency dispatch/);
  // flashinfer needs DP attention with dp = tp, and a FlashInfer MoE runner
  const fi = y('name: f', 'cluster: lab', 'engine: { kind: sglang, version: "0.5.17" }', 'model: /models/DeepSeek-V3', 'moe:', '  a2a: flashinfer', '  runnerBackend: deep_gemm', 'unified:', '  nodes: [gpu-01]', '  parallel: { tp: 8, dp: 4, dpAttention: true }', '');
  const fiIssues = issues(fi, 'a2a');
  assert.deepEqual(fiIssues.map((x) => [x.severity, x.line]), [['error', lineOf(fi, 'a2a: flashinfer')], ['error', lineOf(fi, 'runnerBackend: deep_gemm')]]);
  assert.match(fiIssues[0].message, /dp = tp \(here dp 4, tp 8\)/);
  // deepep_v2 is newer than the catalog: a warning for latest, naming the release the list is from
  const v2 = unified('latest', [], ['  a2a: deepep_v2']);
  const w = only(v2, 'a2a');
  assert.equal(w.severity, 'warning');
  assert.match(w.message, /not among the choices of SGLang main at b26729f224/);
});

test('4. router policies by release: per-side policies, bucket only for prefill, power_of_two needs two servers', () => {
  const pd = (version: string, router: string[]) =>
    y('name: pd', 'cluster: lab', `engine: { kind: sglang, version: "${version}" }`, 'model: /models/DeepSeek-V3', 'prefill:', '  nodes: [gpu-01]', '  replicas: 1', 'decode:', '  nodes: [gpu-02, gpu-03]', '  replicas: 2', 'router:', ...router, '');
  // --prefill-policy first appeared in the router of 0.4.9.post5 (router args read per tag)
  const early = pd('0.4.9', ['  prefillPolicy: random']);
  const e = only(early, 'router');
  assert.equal(e.severity, 'error');
  assert.equal(e.line, lineOf(early, 'prefillPolicy: random'));
  assert.match(e.message, /the router of SGLang 0\.4\.9 has no --prefill-policy/);
  // bucket exists for prefill since 0.5.5.post1, but not as a decode policy
  const bucketDecode = pd('0.5.17', ['  prefillPolicy: bucket', '  decodePolicy: bucket']);
  const b = only(bucketDecode.replace('  nodes: [gpu-01]\n  replicas: 1', '  nodes: [gpu-01, gpu-04]\n  replicas: 2'), 'router');
  assert.equal(b.line, lineOf(bucketDecode, 'decodePolicy: bucket'));
  assert.match(b.message, /refuses the bucket policy for decode/);
  // 0.5.4's router has no bucket policy at all
  assert.match(issues(pd('0.5.4', ['  prefillPolicy: bucket']), 'router')[0].message, /--prefill-policy bucket: the router of SGLang 0\.5\.4 accepts random, round_robin, cache_aware, power_of_two$/);
  // power_of_two on a side with one server
  const p2 = pd('0.5.17', ['  prefillPolicy: power_of_two', '  decodePolicy: power_of_two']);
  const p = only(p2, 'router');
  assert.equal(p.line, lineOf(p2, 'prefillPolicy: power_of_two'));
  assert.match(p.message, /needs at least 2 prefill servers; this deployment has 1/);
});

test('5. the DP-attention handshake port (P + 13) is checked against other ports on the node', () => {
  // two single-node DP-attention servers on one node: the second's HTTP port is the first's + 13
  const text = y('name: h', 'cluster: lab', 'engine: { kind: sglang, version: "0.5.17" }', 'model: /models/DeepSeek-V3', 'prefill:', '  nodes: [gpu-01]', '  parallel: { tp: 4, dp: 4, dpAttention: true }', '  ports: { server: 30000 }', 'decode:', '  nodes: [gpu-01]', '  baseGpuId: 4', '  parallel: { tp: 4, dp: 4, dpAttention: true }', '  ports: { server: 30013 }', '');
  const i = only(text, 'ports');
  assert.equal(i.line, lineOf(text, 'server: 30013'));
  assert.match(i.message, /port 30013 on gpu-01 is used twice: decode-0\/rank-0 HTTP port and prefill-0\/rank-0 DP-attention handshake port \(--port \+ 13\)/);
  // before v0.5.3.post2 there was no handshake socket
  assert.equal(issues(text.replace('"0.5.17"', '"0.5.3.post1"'), 'ports').length, 0);
});

test('6. maxRunningRequests / chunkedPrefill: per engine in vLLM, global in SGLang; the plan says per rank', () => {
  const vllm = y('name: v', 'cluster: lab', 'engine: { kind: vllm, version: "0.10.1.1" }', 'model: deepseek-ai/DeepSeek-V3', 'unified:', '  nodes: [gpu-01]', '  parallel: { tp: 1, dp: 8 }', '  memory:', '    maxRunningRequests: 128', '');
  const w = only(vllm, 'semantics');
  assert.equal(w.line, lineOf(vllm, 'maxRunningRequests: 128'));
  assert.match(w.message, /128 per DP rank in vLLM \(--max-num-seqs, 1024 across dp 8\); the same YAML under SGLang is one global value \(16 per rank/);
  const sglang = unified('0.5.17', ['    maxRunningRequests: 4096', '    chunkedPrefill: 32768'], ['  a2a: none']);
  const { plan } = planDeployCell(sglang, lab);
  assert.deepEqual(plan.effective?.map((e) => [e.field, e.perRank, e.total]), [['maxRunningRequests', 256, 4096], ['chunkedPrefill', 2048, 32768]]);
  assert.match(planCommands(plan), /# unified maxRunningRequests 4096: SGLang divides it by dp 16: 256 per rank, 4096 per instance/);
});

test('7. a router policy with no effect in context is a warning', () => {
  const pd = y('name: pd', 'cluster: lab', 'engine: { kind: sglang, version: "0.5.17" }', 'model: /models/DeepSeek-V3', 'memory: { disableRadixCache: true }', 'prefill:', '  nodes: [gpu-01, gpu-02]', '  replicas: 2', 'decode:', '  nodes: [gpu-03]', 'router:', '  prefillPolicy: cache_aware', '  decodePolicy: round_robin', '');
  const found = issues(pd, 'router');
  assert.deepEqual(found.map((f) => [f.severity, f.line]), [['warning', lineOf(pd, 'prefillPolicy: cache_aware')], ['warning', lineOf(pd, 'decodePolicy: round_robin')]]);
  assert.match(found[0].message, /cache_aware routing for prefill has nothing to follow: the radix cache is disabled/);
  assert.match(found[1].message, /decodePolicy round_robin has no effect for decode: there is one decode server/);
});

test('8. model shape: Qwen3-235B-A22B-FP8 cannot load at TP8 without EP (1536 / 8 = 192, FP8 block 128)', () => {
  const text = y('name: q', 'cluster: lab', 'engine: { kind: sglang, version: "0.5.17" }', 'model: Qwen/Qwen3-235B-A22B-FP8', 'unified:', '  nodes: [gpu-01]', '  parallel:', '    tp: 8', '');
  const i = only(text, 'model-shape');
  assert.equal(i.severity, 'error');
  assert.equal(i.line, lineOf(text, 'tp: 8'));
  assert.match(i.message, /moe_intermediate_size 1536 \/ 8 = 192 columns per shard is not a multiple of the FP8 block 128 \(Qwen3-235B-A22B FP8 config\.json\)/);
  assert.match(i.hint ?? '', /a TP split of 4/);
  // with DeepEP (ep = tp) experts are not split: loads
  assert.equal(issues(text.replace('    tp: 8\n', '    tp: 8\nmoe: { a2a: deepep }\n'), 'model-shape').length, 0);
  // the BF16 release has no FP8 blocks
  assert.equal(issues(text.replace('Qwen3-235B-A22B-FP8', 'Qwen3-235B-A22B'), 'model-shape').length, 0);
  // the user can describe a checkpoint the table does not know
  const custom = y('name: c', 'cluster: lab', 'engine: { kind: sglang, version: "0.5.17" }', 'model: /models/my-moe', 'modelShape: { moeIntermediateSize: 1408, fp8BlockN: 128, fp8BlockK: 128 }', 'unified:', '  nodes: [gpu-01]', '  parallel:', '    tp: 2', '');
  assert.match(only(custom, 'model-shape').message, /1408 \/ 2 = 704 columns per shard .* \(modelShape\)/);
});

test('9. the vLLM dry run names the probe it really sends', () => {
  const text = y('name: v', 'cluster: lab', 'engine: { kind: vllm, version: "0.12.0" }', 'model: deepseek-ai/DeepSeek-V3', 'unified:', '  nodes: [gpu-01]', '  parallel: { tp: 8 }', '');
  const { plan } = planDeployCell(text, lab);
  assert.match(planCommands(plan), /# one-token completion through the endpoint: http:\/\/10\.0\.0\.1:30000\/v1\/completions/);
  assert.doesNotMatch(planCommands(plan), /\/generate/);
});

test('flags added after the catalog are warnings for newer releases (naming the catalog), errors for releases it holds', () => {
  const text = (version: string) => y('name: n', 'cluster: lab', `engine: { kind: sglang, version: "${version}" }`, 'model: /models/DeepSeek-V3', 'unified:', '  nodes: [gpu-01]', '  parallel: { tp: 8 }', '  extraArgs:', '    - --deepep-v2-mode', '    - hybrid', '    - --enable-pd-role-switch', '');
  for (const v of ['latest', '0.5.18']) {
    const found = issues(text(v), 'flags');
    assert.deepEqual(found.map((f) => [f.severity, f.line]), [['warning', 9], ['warning', 11]], v);
    assert.match(found[0].message, /--deepep-v2-mode is not in the flag catalog, which holds SGLang up to 0\.5\.17 \(main at b26729f224, 2026-08-16\)/);
  }
  const exact = issues(text('0.5.17'), 'flags');
  assert.deepEqual(exact.map((f) => f.severity), ['error', 'error']);
  assert.match(exact[0].message, /SGLang 0\.5\.17 does not accept --deepep-v2-mode/);
});

test('3b. vLLM all-to-all backends come from vLLM\'s own list (main), older releases get a warning', () => {
  const v = (version: string, a2a: string) => y('name: v', 'cluster: lab', `engine: { kind: vllm, version: "${version}" }`, 'model: deepseek-ai/DeepSeek-V3', 'moe:', `  a2a: ${a2a}`, 'unified:', '  nodes: [gpu-01]', '  parallel: { tp: 1, dp: 8 }', '');
  const sglangOnly = only(v('0.12.0', 'mooncake'), 'a2a');
  assert.equal(sglangOnly.severity, 'error');
  assert.equal(sglangOnly.line, 6);
  assert.match(sglangOnly.message, /"mooncake" is not a vLLM all-to-all backend; vLLM takes none, deepep, naive, pplx, .*deepep_v2/);
  assert.equal(issues(v('latest', 'deepep_v2'), 'a2a').length, 0);
  const older = only(v('0.12.0', 'deepep_v2'), 'a2a');
  assert.equal(older.severity, 'warning');
  assert.match(older.message, /--all2all-backend deepep_v2 is read from vLLM main; 0\.12\.0 may not accept it/);
});
