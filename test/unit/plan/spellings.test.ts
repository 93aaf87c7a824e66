import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planDeployCell } from '../../../src/core/plan/planner';
import { sshCluster } from './helpers';

// Flag spellings follow the engine release (launch notes §3.8, §4.3).
function pd(version: string, extra: string[] = []): string {
  return [
    'name: pd',
    'cluster: lab',
    `engine: { kind: sglang, version: "${version}" }`,
    'model: /models/DeepSeek-V3',
    'moe: { a2a: deepep }',
    'prefill:',
    '  nodes: [gpu-01, gpu-02]',
    '  replicas: 2',
    '  parallel: { tp: 8, dp: 8, dpAttention: true }',
    '  ports: { bootstrap: 8999 }',
    'decode:',
    '  nodes: [gpu-03]',
    '  parallel: { tp: 8, dp: 8, dpAttention: true }',
    '  memory: { cudaGraphBatchSizes: [64, 128], cudaGraphMaxBs: 128 }',
    ...extra,
    '',
  ].join('\n');
}
const cluster = sshCluster('lab', 4);
const argvOf = (version: string, id: string, extra: string[] = []) => {
  const { plan } = planDeployCell(pd(version, extra), cluster);
  const p = plan.processes.find((x) => x.id === id);
  assert.ok(p, id);
  return p.argv;
};

test('blog-era 0.4.6.post2 spells DeepEP as --enable-deepep-moe and uses the comma-list mini_lb', () => {
  const decode = argvOf('0.4.6.post2', 'decode-0/rank-0');
  assert.ok(decode.includes('--enable-deepep-moe'));
  assert.ok(!decode.includes('--moe-a2a-backend'));
  assert.deepEqual(decode.slice(decode.indexOf('--deepep-mode'), decode.indexOf('--deepep-mode') + 2), ['--deepep-mode', 'low_latency']);
  assert.ok(decode.includes('--cuda-graph-bs') && decode.includes('--cuda-graph-max-bs'));
  assert.deepEqual(argvOf('0.4.6.post2', 'router'), [
    'python3', '-m', 'sglang.srt.disaggregation.mini_lb',
    '--prefill', 'http://10.0.0.1:30000,http://10.0.0.2:30000',
    '--decode', 'http://10.0.0.3:30000',
    '--prefill-bootstrap-ports', '8999,8999',
    '--host', '0.0.0.0', '--port', '8000',
  ]);
  const { plan } = planDeployCell(pd('0.4.6.post2'), cluster);
  assert.equal(plan.paths.serverInfo, '/get_server_info');
});

test('0.5.1 with mini_lb asked for uses launch_lb with space-separated lists', () => {
  assert.deepEqual(argvOf('0.5.1', 'router', ['router: { kind: mini_lb }']), [
    'python3', '-m', 'sglang.srt.disaggregation.launch_lb',
    '--prefill', 'http://10.0.0.1:30000', 'http://10.0.0.2:30000',
    '--decode', 'http://10.0.0.3:30000',
    '--prefill-bootstrap-ports', '8999', '8999',
    '--host', '0.0.0.0', '--port', '8000',
  ]);
});

test('0.5.2 and later run MiniLB through sglang_router --mini-lb', () => {
  const argv = argvOf('0.5.2', 'router', ['router: { kind: mini_lb }']);
  assert.deepEqual(argv.slice(0, 5), ['python3', '-m', 'sglang_router.launch_router', '--pd-disaggregation', '--mini-lb']);
  assert.deepEqual(argv.slice(argv.indexOf('--prefill'), argv.indexOf('--prefill') + 3), ['--prefill', 'http://10.0.0.1:30000', '8999']);
});

test('0.5.15 uses --moe-a2a-backend, per-phase CUDA-graph flags, SGLANG_ env names and /server_info', () => {
  const extra = ['  moe: { deepGemm: true }'];
  const text = pd('0.5.15', extra);
  const { plan } = planDeployCell(text, cluster);
  const decode = plan.processes.find((p) => p.id === 'decode-0/rank-0');
  assert.ok(decode);
  assert.deepEqual(decode.argv.slice(decode.argv.indexOf('--moe-a2a-backend'), decode.argv.indexOf('--moe-a2a-backend') + 2), ['--moe-a2a-backend', 'deepep']);
  assert.deepEqual(decode.argv.slice(decode.argv.indexOf('--cuda-graph-bs-decode'), decode.argv.indexOf('--cuda-graph-bs-decode') + 3), ['--cuda-graph-bs-decode', '64', '128']);
  assert.ok(decode.argv.includes('--cuda-graph-max-bs-decode'));
  assert.equal(decode.env.SGLANG_ENABLE_JIT_DEEPGEMM, '1');
  assert.equal(plan.paths.serverInfo, '/server_info');
  // prefill servers on a non-default bootstrap port say so, and the router is told
  const prefill = plan.processes.find((p) => p.id === 'prefill-1/rank-0');
  assert.ok(prefill?.argv.join(' ').includes('--disaggregation-bootstrap-port 8999'));
});

test('sim and local clusters bind each server to its node address, not 0.0.0.0', () => {
  const text = pd('0.5.15');
  const sim = { name: 'lab', kind: 'sim', nodes: [1, 2, 3, 4].map((i) => ({ name: `gpu-0${i}`, address: `127.0.0.${i + 1}`, gpus: 8 })) };
  const { plan } = planDeployCell(text, sim);
  for (const p of plan.processes) {
    assert.equal(p.argv[p.argv.indexOf('--host') + 1], p.address, p.id);
  }
});
