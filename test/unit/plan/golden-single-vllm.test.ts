import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planDeployCell } from '../../../src/core/plan/planner';
import { planCommands } from '../../../src/core/plan/print';
import { fixture, sshCluster, testCluster } from './helpers';

test('single-node TP8 DeepSeek-V3: one command, the SGLang docs\' shape, no router', () => {
  const text = ['name: ds-tp8', 'cluster: h200', 'engine: { kind: sglang, version: "0.5.15" }', 'model: deepseek-ai/DeepSeek-V3', 'unified:', '  nodes: [gpu-01]', '  server: { trustRemoteCode: true }', ''].join('\n');
  const { plan, warnings } = planDeployCell(text, sshCluster('h200', 1));
  assert.deepEqual(warnings, []);
  assert.equal(plan.processes.length, 1);
  const [p] = plan.processes;
  assert.deepEqual(p.argv, ['python3', '-m', 'sglang.launch_server', '--model-path', 'deepseek-ai/DeepSeek-V3', '--host', '0.0.0.0', '--trust-remote-code', '--tp-size', '8']);
  assert.deepEqual(p.env, {});
  assert.deepEqual(p.gpuIds, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(plan.endpoint.url, 'http://10.0.0.1:30000');
  assert.equal(plan.endpoint.via, 'server');
  assert.equal(plan.paths.serverInfo, '/server_info');
  assert.deepEqual(plan.actions.map((a) => a.kind), ['start', 'wait-healthy', 'check-generate', 'ready']);
});

test('vLLM DeepSeek on 2 nodes: DP 16 x TP 1 with EP, node 0 serves the API and node 1 runs headless', () => {
  const text = [
    'name: ds-vllm',
    'cluster: h200x2',
    'engine: { kind: vllm, version: "0.12.0" }',
    'model: deepseek-ai/DeepSeek-V3',
    'unified:',
    '  nodes: [gpu-01, gpu-02]',
    '  parallel: { tp: 1, dp: 16 }',
    '  moe: { a2a: deepep, mode: low_latency, eplb: { windowSize: 1000 }, redundantExperts: 32 }',
    '  memory: { fraction: 0.9, maxRunningRequests: 256 }',
    '  ports: { server: 8000, distInit: 13345 }',
    'server: { trustRemoteCode: true }',
    '',
  ].join('\n');
  const { plan, warnings } = planDeployCell(text, sshCluster('h200x2', 2));
  // the one caveat: vLLM's --max-num-seqs is per engine, SGLang's --max-running-requests is global
  assert.deepEqual(warnings.map((w) => [w.rule, w.line]), [['semantics', 9]]);
  assert.match(warnings[0].message, /256 per DP rank in vLLM \(--max-num-seqs, 4096 across dp 16\)/);
  assert.deepEqual(plan.effective, [{ role: 'unified', field: 'maxRunningRequests', written: 256, perRank: 256, total: 4096, dpRanks: 16, note: 'vLLM applies it per engine: 256 on each of 16 DP ranks, 4096 per instance' }]);
  // the dry run names the probe vLLM really answers
  assert.equal(plan.actions.find((a) => a.kind === 'check-generate')?.url, 'http://10.0.0.1:8000/v1/completions');
  const [head, tail] = plan.processes;
  assert.deepEqual(head.argv, [
    'vllm', 'serve', 'deepseek-ai/DeepSeek-V3', '--host', '0.0.0.0', '--port', '8000', '--trust-remote-code',
    '--tensor-parallel-size', '1', '--data-parallel-size', '16', '--data-parallel-size-local', '8',
    '--data-parallel-address', '10.0.0.1', '--data-parallel-rpc-port', '13345',
    '--enable-expert-parallel', '--all2all-backend', 'deepep_low_latency',
    '--enable-eplb', '--eplb-config', '{"num_redundant_experts":32,"window_size":1000}',
    '--gpu-memory-utilization', '0.9', '--max-num-seqs', '256',
  ]);
  assert.deepEqual(tail.argv, [
    'vllm', 'serve', 'deepseek-ai/DeepSeek-V3', '--trust-remote-code',
    '--tensor-parallel-size', '1', '--data-parallel-size', '16', '--data-parallel-size-local', '8',
    '--data-parallel-start-rank', '8', '--data-parallel-address', '10.0.0.1', '--data-parallel-rpc-port', '13345', '--headless',
    '--enable-expert-parallel', '--all2all-backend', 'deepep_low_latency',
    '--enable-eplb', '--eplb-config', '{"num_redundant_experts":32,"window_size":1000}',
    '--gpu-memory-utilization', '0.9', '--max-num-seqs', '256',
  ]);
  assert.equal(head.gpuIds.length + tail.gpuIds.length, 16);
  assert.equal(plan.endpoint.url, 'http://10.0.0.1:8000');
  assert.equal(tail.healthUrl, undefined);
  assert.equal(plan.paths.serverInfo, undefined);
});

test('vLLM before --all2all-backend existed gets VLLM_ALL2ALL_BACKEND instead', () => {
  const text = ['name: v', 'cluster: c', 'engine: { kind: vllm, version: "0.10.1" }', 'model: deepseek-ai/DeepSeek-V3', 'unified:', '  nodes: [gpu-01]', '  parallel: { tp: 1, dp: 8 }', '  moe: { a2a: deepep, mode: normal, deepGemm: true }', ''].join('\n');
  const { plan } = planDeployCell(text, sshCluster('c', 1));
  const [p] = plan.processes;
  assert.ok(!p.argv.includes('--all2all-backend'));
  assert.ok(p.argv.includes('--enable-expert-parallel'));
  assert.deepEqual(p.env, { VLLM_ALL2ALL_BACKEND: 'deepep_high_throughput', VLLM_USE_DEEP_GEMM: '1' });
});

test('the 2P+2D test-cluster sample plans four single-node instances and a router listing all of them', () => {
  const { plan, warnings } = planDeployCell(fixture('deploy-2p2d-test.yaml'), testCluster());
  assert.deepEqual(warnings.map((w) => w.message), []);
  assert.deepEqual(plan.instances.map((i) => `${i.id}@${i.nodes.join(',')}`), ['prefill-0@node1', 'prefill-1@node2', 'decode-0@node3', 'decode-1@node4']);
  const router = plan.processes.find((p) => p.role === 'router');
  assert.deepEqual(router?.argv, [
    'python3', '-m', 'sglang_router.launch_router', '--pd-disaggregation',
    '--prefill', 'http://127.0.0.2:30000', '8998', '--prefill', 'http://127.0.0.3:30000', '8998',
    '--decode', 'http://127.0.0.4:30000', '--decode', 'http://127.0.0.5:30000',
    '--host', '0.0.0.0', '--port', '8000', '--policy', 'round_robin',
  ]);
  const decode = plan.processes.find((p) => p.id === 'decode-0/rank-0');
  assert.ok(decode?.argv.includes('--cuda-graph-bs-decode'), '0.5.15 spells the decode CUDA-graph sizes per phase');
  assert.ok(!decode?.argv.includes('--nnodes'), 'single-node instances need no dist-init');
});

test('the dry-run preview is copy-pasteable: env assignments and quoted values per node', () => {
  const text = [
    'name: q', 'cluster: c', 'model: "/models/my model"', 'unified:', '  nodes: [gpu-01]', '  env: { NCCL_DEBUG: "INFO", MY_NOTE: "it\'s here" }', '',
  ].join('\n');
  const { plan } = planDeployCell(text, sshCluster('c', 1));
  const out = planCommands(plan);
  assert.match(out, /^## node gpu-01$/m);
  assert.match(out, /^env NCCL_DEBUG=INFO 'MY_NOTE=it'\\''s here' python3 -m sglang\.launch_server --model-path '\/models\/my model' --host 0\.0\.0\.0 --tp-size 8$/m);
  assert.match(out, /# wait until unified-0 answers \/health: http:\/\/10\.0\.0\.1:30000\/health/);
});
