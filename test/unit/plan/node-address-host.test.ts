import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planDeployCell } from '../../../src/core/plan/planner';
import { sshCluster } from './helpers';

// `host: node_address` = the published `--host ${node_ip}`: each server (and the router) binds its
// own node's address, on ssh clusters too, where the default stays 0.0.0.0.
function spec(serverHost: string | undefined, routerHost: string | undefined): string {
  return [
    'name: pd',
    'cluster: lab',
    'engine: { kind: sglang, version: "0.5.15" }',
    'model: /models/DeepSeek-V3',
    ...(serverHost ? [`server: { host: ${serverHost} }`] : []),
    'prefill:',
    '  nodes: [gpu-01, gpu-02]',
    '  replicas: 2',
    '  parallel: { tp: 8 }',
    'decode:',
    '  nodes: [gpu-03, gpu-04]',
    '  replicas: 2',
    '  parallel: { tp: 8 }',
    routerHost ? `router: { host: ${routerHost}, port: 8000 }` : 'router: { port: 8000 }',
    '',
  ].join('\n');
}

const hostOf = (argv: readonly string[]): string => argv[argv.lastIndexOf('--host') + 1];

test('host: node_address puts each node its own address after --host, router included', () => {
  const { plan } = planDeployCell(spec('node_address', 'node_address'), sshCluster('lab', 4));
  assert.deepEqual(
    plan.processes.map((p) => [p.id, hostOf(p.argv)]),
    [
      ['prefill-0/rank-0', '10.0.0.1'],
      ['prefill-1/rank-0', '10.0.0.2'],
      ['decode-0/rank-0', '10.0.0.3'],
      ['decode-1/rank-0', '10.0.0.4'],
      ['router', '10.0.0.1'],
    ],
  );
});

test('without host: ssh servers and router still bind 0.0.0.0; a literal host is passed as written', () => {
  const { plan } = planDeployCell(spec(undefined, undefined), sshCluster('lab', 4));
  assert.deepEqual([...new Set(plan.processes.map((p) => hostOf(p.argv)))], ['0.0.0.0']);
  const literal = planDeployCell(spec('10.9.9.9', '10.8.8.8'), sshCluster('lab', 4)).plan;
  assert.deepEqual(
    literal.processes.map((p) => hostOf(p.argv)),
    ['10.9.9.9', '10.9.9.9', '10.9.9.9', '10.9.9.9', '10.8.8.8'],
  );
});
