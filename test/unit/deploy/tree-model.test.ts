import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deploymentContext, deploymentRow, processRow, processStateText, roleRow, rolesOf } from '../../../src/core/deploy/tree-model';
import type { DeploymentView, ProcessView } from '../../../src/core/deploy/types';

function proc(id: string, role: ProcessView['role'], node: string, phase: ProcessView['phase'], extra: Partial<ProcessView> = {}): ProcessView {
  return { id, role, instanceId: id.split('/')[0], node, nodeRank: 0, nnodes: 1, gpuIds: role === 'router' ? [] : [0, 1, 2, 3, 4, 5, 6, 7], port: role === 'router' ? 8000 : 30000, pgid: 1000, phase, ...extra };
}

const view: DeploymentView = {
  name: 'pd-small',
  clusterName: 'test',
  clusterKind: 'sim',
  engine: { kind: 'sglang', version: '0.5.15' },
  simulated: true,
  phase: 'degraded',
  origin: 'reattached',
  endpointUrl: 'http://127.0.0.2:8000',
  endpointVia: 'router',
  processes: [
    proc('prefill-0/rank-0', 'prefill', 'node1', 'healthy'),
    proc('prefill-1/rank-0', 'prefill', 'node2', 'healthy'),
    proc('decode-0/rank-0', 'decode', 'node3', 'exited', { exitCode: 137 }),
    proc('decode-1/rank-0', 'decode', 'node4', 'healthy'),
    proc('router', 'router', 'node1', 'healthy'),
  ],
};

test('deployment -> roles in launch order -> rank processes', () => {
  assert.deepEqual(rolesOf(view).map((r) => [r.role, r.processes.map((p) => p.id)]), [
    ['prefill', ['prefill-0/rank-0', 'prefill-1/rank-0']],
    ['decode', ['decode-0/rank-0', 'decode-1/rank-0']],
    ['router', ['router']],
  ]);
});

test('the deployment row says its state, how many processes are up, and that it was re-attached', () => {
  const r = deploymentRow(view);
  assert.equal(r.label, 'pd-small');
  assert.equal(r.description, 'degraded · 4/5 processes · sglang 0.5.15 · test · simulated · re-attached');
  assert.equal(r.icon, 'warning');
  assert.match(r.tooltip, /endpoint http:\/\/127\.0\.0\.2:8000 \(router\)/);
});

test('an exited rank shows its exit code on the process and marks its role down', () => {
  const dead = view.processes[2];
  assert.equal(processStateText(dead), 'exited (137)');
  assert.equal(processRow(dead).description, 'node3 · exited (137) · pgid 1000');
  assert.equal(processRow(dead).icon, 'error');
  const decode = roleRow('decode', view.processes.filter((p) => p.role === 'decode'));
  assert.equal(decode.description, '2 instances, 2 ranks · 1/2 up · 1 down');
  assert.equal(roleRow('router', [view.processes[4]]).description, 'router · 1/1 up');
});

test('menu context values: live deployments can stop and restart, busy ones stop, stopped ones restart', () => {
  assert.equal(deploymentContext('ready'), 'deployment-live');
  assert.equal(deploymentContext('degraded'), 'deployment-live');
  assert.equal(deploymentContext('starting'), 'deployment-busy');
  assert.equal(deploymentContext('stopping'), 'deployment-busy');
  assert.equal(deploymentContext('stopped'), 'deployment-stopped');
  assert.equal(deploymentContext('failed'), 'deployment-stopped');
  assert.equal(processRow(view.processes[0]).contextValue, 'deployment-process');
  assert.equal(processStateText({ phase: 'starting' }), 'starting');
  assert.equal(processStateText({ phase: 'stopped' }), 'stopped');
});
