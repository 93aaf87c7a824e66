import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveMonitorTargets } from '../../../src/core/cells/monitor';
import { monitorSpecSchema } from '../../../src/core/spec/monitor-spec';
import { parseSpec } from '../../../src/core/spec/yaml-spec';
import { Session } from '../../../src/core/exec/session';
import type { DeploymentHandle } from '../../../src/core/exec/handles';
import { CellReferenceError, SpecValidationError } from '../../../src/core/util/errors';
import { fakeCluster } from '../telemetry/helpers';

const parse = (text: string) => parseSpec(monitorSpecSchema, text, { cell: 'mon', kind: 'moebench-monitor' }).spec;

function pdDeployment(): DeploymentHandle {
  return {
    name: 'ds-pd',
    clusterName: 'h200',
    engine: 'sglang',
    simulated: false,
    endpoint: async () => 'http://127.0.0.1:8000',
    servers: async () => [
      { role: 'prefill', node: 'gpu-001', url: 'http://127.0.0.1:30001' },
      { role: 'decode', node: 'gpu-002', url: 'http://127.0.0.1:30002' },
      { role: 'decode', node: 'gpu-003', url: 'http://127.0.0.1:30003' },
      { role: 'router', node: 'gpu-001', url: 'http://127.0.0.1:8000' },
    ],
    // decode spans two nodes: rank 1 on gpu-004 has no HTTP server but has GPUs
    commands: [
      { node: 'gpu-003', argv: ['python3', '-m', 'sglang.launch_server', '--node-rank', '0'], env: {} },
      { node: 'gpu-004', argv: ['python3', '-m', 'sglang.launch_server', '--node-rank', '1'], env: {} },
    ],
  };
}

function session(): Session {
  // a notebook folder of its own, not a /tmp path shared by other test runs
  const s = new Session({ notebookPath: path.join(mkdtempSync(path.join(os.tmpdir(), 'moebench-monitor-spec-')), 'nb.moebench'), toolVersion: '0' });
  const nodes = ['gpu-001', 'gpu-002', 'gpu-003', 'gpu-004'].map((name) => ({ name, address: name, gpus: 8 }));
  s.clusters.set('h200', { ...fakeCluster(nodes, async () => ({ exitCode: 0, signal: null, stdout: '', stderr: '' })), name: 'h200', kind: 'ssh' }, 'cluster');
  s.deployments.set('ds-pd', pdDeployment(), 'deploy');
  return s;
}

test('a typo in a key is reported on its own line, with the allowed keys to hover', () => {
  assert.throws(
    () => parse('name: watch\ntarget: ds-pd\ninterval: 500\n'),
    (err: unknown) => err instanceof SpecValidationError && err.where.line === 3 && /interval/.test(err.message),
  );
  assert.throws(() => parse('name: watch\nwatch: [gpus, nvlink]\n'), (err: unknown) => err instanceof SpecValidationError && err.where.line === 2);
  assert.throws(() => parse('name: watch\nintervalMs: 10\n'), (err: unknown) => err instanceof SpecValidationError && err.where.field === 'intervalMs');
  assert.throws(() => parse('name: watch\nurls: [127.0.0.1:30000]\n'), (err: unknown) => err instanceof SpecValidationError && /URL/.test(err.message));
});

test('a deployment target watches its servers (not the router) and the GPUs of every node it launched on', async () => {
  const t = await resolveMonitorTargets(parse('name: watch\ntarget: ds-pd\n'), { session: session() });
  assert.deepEqual(t.servers.map((s) => `${s.name}@${s.node}`), ['prefill-0@gpu-001', 'decode-0@gpu-002', 'decode-1@gpu-003']);
  assert.deepEqual(t.nodes, ['gpu-001', 'gpu-002', 'gpu-003', 'gpu-004']);
  assert.equal(t.cluster?.name, 'h200');
  assert.deepEqual(t.watch, ['gpus', 'serverMetrics']);
  assert.equal(t.deployment, 'ds-pd');
});

test('explicit nodes narrow the GPUs watched; a node the cluster does not have is named in the error', async () => {
  const t = await resolveMonitorTargets(parse('name: watch\ncluster: h200\nnodes: [gpu-004]\n'), { session: session() });
  assert.deepEqual(t.nodes, ['gpu-004']);
  assert.deepEqual(t.watch, ['gpus']);
  assert.equal(t.servers.length, 0);
  await assert.rejects(
    resolveMonitorTargets(parse('name: watch\ncluster: h200\nnodes: [gpu-009]\n'), { session: session() }),
    (err: unknown) => err instanceof CellReferenceError && /gpu-009/.test(err.message) && err.where.field === 'nodes' && /gpu-001/.test(err.hint ?? ''),
  );
});

test('an unknown deployment names the ones that exist; server metrics with nothing to scrape say what to add', async () => {
  await assert.rejects(resolveMonitorTargets(parse('name: watch\ntarget: ds-typo\n'), { session: session() }), (err: unknown) => err instanceof CellReferenceError && /ds-pd/.test(err.hint ?? ''));
  await assert.rejects(
    resolveMonitorTargets(parse('name: watch\nwatch: [serverMetrics]\ncluster: h200\n'), { session: session() }),
    (err: unknown) => err instanceof CellReferenceError && err.where.field === 'target',
  );
});

test('a URL target is scraped directly; the only cluster is used for GPUs when none is named', async () => {
  const t = await resolveMonitorTargets(parse('name: watch\ntarget: http://127.0.0.1:30000\nurls: [http://127.0.0.1:30001/]\n'), { session: session() });
  assert.deepEqual(t.servers.map((s) => s.name), ['127.0.0.1:30000', '127.0.0.1:30001']);
  assert.equal(t.cluster?.name, 'h200');
  assert.equal(t.nodes, undefined, 'every node');
});
