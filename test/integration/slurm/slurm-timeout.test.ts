import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ClusterCellExecutor } from '../../../src/core/cells/cluster';
import { DeployCellExecutor, stopDeployment } from '../../../src/core/cells/deploy';
import { Deployment } from '../../../src/core/deploy';
import type { CellContext } from '../../../src/core/exec/cell';
import { Session } from '../../../src/core/exec/session';
import { headlessHost } from '../../../src/core/host';
import { SlurmCluster } from '../../../src/core/launch/slurm/cluster';
import { emulatorBin, type EmulatorBin } from '../deploy/emulator';
import { Events, fixture, freePort } from '../deploy/helpers';
import { slurmLab, type SlurmLab } from './lab';

// The most common way a scheduler ends a deployment: its time limit. Slurm's smallest limit is
// one minute, and the lab's slurmctld ends the job about a minute after it started (63 s seen),
// so this test takes that long; it has its own file so it runs beside the others.

let lab: SlurmLab;
let emu: EmulatorBin;
let root: string;

before(async () => {
  lab = slurmLab();
  emu = await emulatorBin();
  root = mkdtempSync(path.join(os.tmpdir(), 'moebench-slurm-timeout-'));
});
after(async () => {
  await emu?.dispose();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('slurm time limit', () => {
  test('a deployment whose job reaches its time limit is reported TIMEOUT on every rank', async (t) => {
    const name = `slurm-tl-${process.pid}`;
    const host = headlessHost({ settings: { 'env.allowNames': ['PATH'] } });
    const session = new Session({ notebookPath: path.join(root, 'exp.moebench'), toolVersion: 'test' });
    t.after(() => session.dispose());
    const ctx = (language: string, cell: string): CellContext => ({ session, cell: { index: 0, name: cell, language }, emit: new Events().sink, signal: new AbortController().signal, host });
    const cell = [
      `name: ${name}`,
      'kind: slurm',
      'nodes: 2',
      `partition: ${lab.partition}`,
      'timeLimit: "1"',
      `logDir: ${JSON.stringify(path.join(root, 'slurm'))}`,
      'env:',
      `  SLURM_CONF: ${JSON.stringify(lab.slurmConf)}`,
      `  PATH: ${JSON.stringify(`${emu.binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`)}`,
      '  MOEBENCH_SIM_ZERO_COST: "1"',
      '',
    ].join('\n');
    await new ClusterCellExecutor().execute(cell, ctx('moebench-cluster', name));
    const cluster = session.clusters.get(name);
    assert.ok(cluster instanceof SlurmCluster);
    const text = fixture('deploy-2p2d-slurm.yaml')
      .replace('name: pd-slurm', 'name: pd-tl')
      .replace('cluster: slurmlab', `cluster: ${name}`)
      .replace('server: 44000', `server: ${await freePort('0.0.0.0', 300)}`)
      .replace('bootstrap: 44500', `bootstrap: ${await freePort('0.0.0.0')}`)
      .replace('port: 45000', `port: ${await freePort('0.0.0.0')}`)
      .replace('nodes: [node1, node2]\n  replicas: 2', 'nodes: [node1]')
      .replace('nodes: [node3, node4]\n  replicas: 2', 'nodes: [node2]');
    await new DeployCellExecutor({ graceMs: 3000, healthTimeoutMs: 50_000 }).execute(text, ctx('moebench-deploy', 'deploy'));
    const d = session.deployments.get('pd-tl');
    assert.ok(d instanceof Deployment);
    assert.equal((await d.refresh()).phase, 'ready');

    // nothing to do but wait for Slurm: the refresh a tree view makes, until the ranks are gone
    let view = await d.refresh();
    while (view.processes.some((p) => p.phase !== 'gone')) {
      await new Promise((r) => setTimeout(r, 1000));
      view = await d.refresh();
    }
    for (const p of view.processes) assert.match(p.reason ?? '', new RegExp(`job ${cluster.jobId} TIMEOUT: the time limit was reached; Slurm reason: TimeLimit`), p.id);
    const state = cluster.connectionState();
    assert.equal(state.state, 'failed');
    const report = await stopDeployment(session, 'pd-tl', { graceMs: 2000 });
    assert.deepEqual(report.errors, []);
    assert.equal(lab.slurm(['squeue', '-h', '-n', `moebench-${name}`, '-o', '%i %T']).trim(), '');
  });
});
