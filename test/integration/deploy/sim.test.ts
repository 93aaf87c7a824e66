import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BenchCellExecutor } from '../../../src/core/cells/bench';
import { DeployCellExecutor, stopDeployment } from '../../../src/core/cells/deploy';
import type { Cluster } from '../../../src/core/launch/types';
import { Deployment, DeploymentFailedError, parseComputeAppRows, COMPUTE_APPS_QUERY } from '../../../src/core/deploy';
import { Session } from '../../../src/core/exec/session';
import { createSimCluster } from '../../../src/core/sim/cluster';
import { emulatorBin, type EmulatorBin } from './emulator';
import { cellContext, Events, fixture, liveInGroups } from './helpers';

// The same planned argv on a `sim` cluster: four emulated nodes, each its own loopback address,
// whose PATH shims turn `python3 -m sglang.launch_server` / the router into the emulator.

let emu: EmulatorBin;
let root: string;

before(async () => {
  emu = await emulatorBin();
  root = mkdtempSync(path.join(os.tmpdir(), 'moebench-deploy-sim-'));
});
after(async () => {
  await emu.dispose();
  rmSync(root, { recursive: true, force: true });
});

let caseNo = 0;
async function setup(): Promise<{ session: Session; cluster: Cluster; executor: DeployCellExecutor }> {
  const dir = path.join(root, `case${++caseNo}`);
  const cluster = await createSimCluster({ name: 'test', nodes: ['node1', 'node2', 'node3', 'node4'], gpusPerNode: 8, cliPath: emu.cliPath, zeroCost: true });
  const session = new Session({ notebookPath: path.join(dir, 'exp.moebench'), toolVersion: 'test' });
  session.clusters.set('test', cluster, 'cluster');
  session.store.add(cluster);
  return { session, cluster, executor: new DeployCellExecutor({ remoteDir: path.join(dir, 'nodes'), graceMs: 3000 }) };
}

function deploymentOf(session: Session, name: string): Deployment {
  const d = session.deployments.get(name);
  assert.ok(d instanceof Deployment);
  return d;
}

describe('deploy cell on a sim cluster', () => {
  test('2 prefill + 2 decode + router come up healthy on four nodes, generate works, stop leaves no process and no GPU app', async (t) => {
    const { session, cluster, executor } = await setup();
    const events = new Events();
    const t0 = Date.now();
    await executor.execute(fixture('deploy-2p2d-sim.yaml'), cellContext(session, events));
    t.diagnostic(`2P+2D+router on sim: ready after ${Date.now() - t0} ms`);

    const d = deploymentOf(session, 'pd-small');
    const view = d.view();
    assert.equal(view.phase, 'ready');
    assert.deepEqual(
      view.processes.map((p) => [p.id, p.node, p.phase]),
      [
        ['prefill-0/rank-0', 'node1', 'healthy'],
        ['prefill-1/rank-0', 'node2', 'healthy'],
        ['decode-0/rank-0', 'node3', 'healthy'],
        ['decode-1/rank-0', 'node4', 'healthy'],
        ['router', 'node1', 'healthy'],
      ],
    );
    // each node's log lines carry its name
    for (const n of ['node1', 'node2', 'node3', 'node4']) assert.match(events.logText(), new RegExp(`^\\[${n} (prefill|decode)-\\d/rank-0\\] `, 'm'));
    // the router is the endpoint, on node1's own loopback address
    const endpoint = await d.endpoint();
    assert.equal(endpoint, `http://${cluster.node('node1').address}:8000`);
    const r = await fetch(`${endpoint}/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'Hello', sampling_params: { max_new_tokens: 4, temperature: 0 } }) });
    assert.equal(r.status, 200);
    assert.ok(((await r.json()) as { text?: string }).text);

    // a bench cell targets the deployment by name: its requests go through the router
    const bench = new Events();
    const benchCell = ['name: smoke', 'target: pd-small', 'workload: { dataset: random, numPrompts: 12, inputLen: 64, outputLen: 8, seed: 1 }', 'load: { maxConcurrency: 4 }', ''].join('\n');
    await new BenchCellExecutor().execute(benchCell, { ...cellContext(session, bench, undefined, 'smoke'), cell: { index: 2, name: 'smoke', language: 'moebench-bench' } });
    assert.equal(session.runs.get('smoke').runIds.length, 1);
    assert.ok(bench.all.some((e) => e.kind === 'doc' && e.doc.simulated === true), 'the bench output is labelled simulated');

    // the emulated GPUs list our servers as compute apps while they run (so the check can fail)
    const pgids = d.remoteStates().map((s) => s.remote.pgid ?? 0);
    const apps = await cluster.exec('node3', [...COMPUTE_APPS_QUERY]);
    assert.equal(apps.exitCode, 0, apps.stderr);
    const appPids = parseComputeAppRows(apps.stdout).map((a) => a.pid);
    assert.ok(appPids.length > 0, 'node3 shows no compute app while decode-0 runs');
    const ourPids = liveInGroups(pgids).map((l) => Number(l.split(/\s+/)[0]));
    assert.ok(appPids.every((p) => ourPids.includes(p)), `compute apps ${appPids.join(',')} are not in the deployment's process groups`);

    const report = await stopDeployment(session, 'pd-small');
    assert.deepEqual(report.processes.map((p) => p.outcome), ['terminated', 'terminated', 'terminated', 'terminated', 'terminated']);
    assert.deepEqual(report.gpuChecks.map((c) => [c.node, c.result]).sort(), [['node1', 'clean'], ['node2', 'clean'], ['node3', 'clean'], ['node4', 'clean']]);
    assert.deepEqual(liveInGroups(pgids), []);
    const after = await cluster.exec('node3', [...COMPUTE_APPS_QUERY]);
    assert.deepEqual(parseComputeAppRows(after.stdout).filter((a) => appPids.includes(a.pid)), []);
    await session.dispose();
  });

  test('a decode rank that dies at start-up: error with its log tail, every other rank stopped', async () => {
    const { session, executor } = await setup();
    const events = new Events();
    const text = fixture('deploy-2p2d-sim.yaml').replace('memory: { cudaGraphBatchSizes:', 'memory: { fraction: 0.3, cudaGraphBatchSizes:');
    const err = await executor.execute(text, cellContext(session, events)).then(
      () => assert.fail('the deployment should have failed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DeploymentFailedError, String(err));
    assert.match(err.message, /decode-\d\/rank-0 on node[34] exited with status 1/);
    assert.match(err.detail.logTail ?? '', /RuntimeError: Not enough memory/);
    const d = deploymentOf(session, 'pd-small');
    assert.equal(d.phase, 'failed');
    assert.deepEqual(liveInGroups(d.remoteStates().map((s) => s.remote.pgid ?? 0)), []);
    const prefill = d.view().processes.filter((p) => p.role === 'prefill');
    assert.deepEqual(prefill.map((p) => p.phase), ['stopped', 'stopped']);
    await session.dispose();
  });

  test('multi-node instances: two-node prefill and decode (rank 1 joins rank 0 over dist-init) behind the router', async () => {
    const { session, executor } = await setup();
    const text = fixture('deploy-2p2d-sim.yaml')
      .replace(/replicas: 2\n {2}parallel: \{ tp: 8, dp: 8,/g, 'parallel: { tp: 16, dp: 16,')
      .replace('chunkedPrefill: 131072', 'chunkedPrefill: 262144');
    await executor.execute(text, cellContext(session, new Events()));
    const d = deploymentOf(session, 'pd-small');
    assert.deepEqual(
      d.view().processes.map((p) => [p.id, p.node, p.phase]),
      [
        ['prefill-0/rank-0', 'node1', 'healthy'],
        ['prefill-0/rank-1', 'node2', 'healthy'],
        ['decode-0/rank-0', 'node3', 'healthy'],
        ['decode-0/rank-1', 'node4', 'healthy'],
        ['router', 'node1', 'healthy'],
      ],
    );
    const pgids = d.remoteStates().map((s) => s.remote.pgid ?? 0);
    await stopDeployment(session, 'pd-small');
    assert.deepEqual(liveInGroups(pgids), []);
    await session.dispose();
  });
});
