import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Cluster } from '../../../src/core/launch/types';
import { specificHost } from '../../../src/core/launch/endpoint-host';
import { Deployment, listenHost } from '../../../src/core/deploy';
import { planDeployCell } from '../../../src/core/plan/planner';
import { noLauncher } from '../no-launcher';

test('listenHost: the last --host wins (extraArgs), --host=X too, none when not given', () => {
  assert.equal(listenHost({ argv: ['python3', '-m', 'sglang.launch_server', '--host', '0.0.0.0', '--port', '1', '--host', '10.0.0.7'] }), '10.0.0.7');
  assert.equal(listenHost({ argv: ['vllm', 'serve', 'm', '--host=10.0.0.8'] }), '10.0.0.8');
  assert.equal(listenHost({ argv: ['python3', '-m', 'sglang.launch_server', '--port', '1'] }), undefined);
});

test('specificHost: wildcards and loopback mean the node loopback; IPv6 loses its brackets', () => {
  for (const h of [undefined, '0.0.0.0', '::', '[::]', '127.0.0.1', 'localhost', '::1']) assert.equal(specificHost(h), undefined, String(h));
  assert.equal(specificHost('10.0.0.5'), '10.0.0.5');
  assert.equal(specificHost('[fd00::5]'), 'fd00::5');
  assert.equal(specificHost('gpu-01.cluster'), 'gpu-01.cluster');
});

/** a cluster that only answers httpEndpoint, recording what it was asked */
function recordingCluster(calls: [string, number, string | undefined][]): Cluster {
  const nodes = [1, 2, 3].map((i) => ({ name: `node${i}`, address: `10.0.0.${i}`, gpus: 8 }));
  return {
    name: 'lab',
    kind: 'ssh',
    launcher: noLauncher,
    nodes,
    node: (n) => {
      const found = nodes.find((x) => x.name === n);
      assert.ok(found, n);
      return found;
    },
    exec: () => Promise.reject(new Error('not in this test')),
    httpEndpoint: async (node, port, host) => {
      calls.push([node, port, host]);
      return `http://forward/${node}/${host ?? 'loopback'}/${port}`;
    },
    connectionState: () => ({ state: 'connected' }),
    dispose: () => undefined,
  };
}

function plan(hostLine: string): ReturnType<typeof planDeployCell>['plan'] {
  const text = ['name: pd', 'cluster: lab', 'model: /m', hostLine, 'prefill:', '  nodes: [node1]', '  parallel: { tp: 8 }', 'decode:', '  nodes: [node2]', '  parallel: { tp: 8 }', 'router: { node: node3, port: 8000, host: node_address }', ''].join('\n');
  const cluster = { name: 'lab', kind: 'ssh', nodes: [1, 2, 3].map((i) => ({ name: `node${i}`, address: `10.0.0.${i}`, gpus: 8 })) };
  return planDeployCell(text, cluster).plan;
}

test('endpoint and servers reach each process at the host it binds (node IP), or loopback for 0.0.0.0', async () => {
  const calls: [string, number, string | undefined][] = [];
  const d = new Deployment(plan('server: { host: node_address }'), recordingCluster(calls));
  assert.equal(await d.endpoint(), 'http://forward/node3/10.0.0.3/8000');
  const servers = await d.servers();
  assert.deepEqual(servers.map((s) => s.url), ['http://forward/node1/10.0.0.1/30000', 'http://forward/node2/10.0.0.2/30000', 'http://forward/node3/10.0.0.3/8000']);

  calls.length = 0;
  const wildcard = new Deployment(plan(''), recordingCluster(calls));
  await wildcard.servers();
  // the cluster maps 0.0.0.0 to the node's loopback itself (specificHost)
  assert.deepEqual(calls.map((c) => specificHost(c[2]) ?? 'loopback'), ['loopback', 'loopback', '10.0.0.3']);
});
