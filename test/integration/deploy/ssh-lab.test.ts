import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DeployCellExecutor, stopDeployment } from '../../../src/core/cells/deploy';
import type { SshCluster } from '../../../src/core/cluster/ssh-cluster';
import { Deployment, DeploymentFailedError } from '../../../src/core/deploy';
import { Session } from '../../../src/core/exec/session';
import { writeSimShims } from '../../../src/core/sim/shims';
import { startLab, type Lab } from '../../lab/lab';
import { labCluster, recordingHost } from '../ssh/helpers';
import { emulatorBin, type EmulatorBin } from './emulator';
import { cellContext, Events, fixture, freePort } from './helpers';

// The same launch over real OpenSSH servers: each lab node's PATH starts with a python3 shim
// that runs the emulator, processes are supervised through ssh exec, and health checks and the
// endpoint go through SSH port forwards.

let lab: Lab;
let emu: EmulatorBin;

before(async () => {
  lab = await startLab({ nodes: 2 });
  emu = await emulatorBin();
  // the lab user must read the bundle: copy the sim shims' target into the (world-readable) lab dir
  const simDir = path.join(lab.dir, 'sim');
  mkdirSync(simDir, { recursive: true });
  chmodSync(simDir, 0o755);
  const cliPath = path.join(simDir, 'cli.js');
  writeFileSync(cliPath, await import('node:fs/promises').then((fs) => fs.readFile(emu.cliPath)));
  chmodSync(cliPath, 0o644);
  const simBin = path.join(simDir, 'bin');
  await writeSimShims(simBin, { cliPath });
  chmodSync(simBin, 0o755);
  // bind 0.0.0.0 like SGLang's --host 0.0.0.0 (the emulator maps wildcards to this address)
  writeFileSync(path.join(lab.shimDir, 'python3'), `#!/bin/sh\nexport MOEBENCH_SIM_NODE_ADDRESS=0.0.0.0 MOEBENCH_SIM_ZERO_COST=1\nexec ${simBin}/python3 "$@"\n`);
  chmodSync(path.join(lab.shimDir, 'python3'), 0o755);
});
after(async () => {
  await lab?.stop();
  await emu?.dispose();
});

/** live members of these process groups on a lab node, from ps on the node itself */
async function liveOnNode(cluster: SshCluster, node: string, pgids: number[]): Promise<string[]> {
  const r = await cluster.exec(node, ['ps', '-e', '-o', 'pid=,pgid=,stat=,args=']);
  assert.equal(r.exitCode, 0, r.stderr);
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => {
      const [, pgid, stat] = l.split(/\s+/);
      return pgids.includes(Number(pgid)) && !(stat ?? '').startsWith('Z');
    });
}

async function spec(edit: (t: string) => string = (t) => t): Promise<string> {
  return edit(
    fixture('deploy-1p1d-lab.yaml')
      .replace('server: 41000', `server: ${await freePort('127.0.0.1', 300)}`)
      .replace('bootstrap: 41500', `bootstrap: ${await freePort()}`)
      .replace('server: 42000', `server: ${await freePort('127.0.0.1', 300)}`)
      .replace('port: 43000', `port: ${await freePort()}`),
  );
}

describe('deploy cell on the real-sshd lab', () => {
  test('prefill + decode + router over ssh: healthy, generate through the forwarded endpoint, stop leaves no process on any node', async (t) => {
    const cluster = await labCluster(lab, ['node1', 'node2'], recordingHost(), { gpusPerNode: 8 });
    const session = new Session({ notebookPath: path.join(lab.dir, 'nb', 'exp.moebench'), toolVersion: 'test' });
    session.clusters.set('lab', cluster, 'cluster');
    session.store.add(cluster);
    const events = new Events();
    const t0 = Date.now();
    await new DeployCellExecutor({ graceMs: 3000 }).execute(await spec(), cellContext(session, events));
    t.diagnostic(`1P+1D+router over ssh: ready after ${Date.now() - t0} ms`);
    assert.match(events.logText(), /^\[node1 prefill-0\/rank-0\] .*server_args=ServerArgs/m);
    assert.match(events.logText(), /^\[node2 decode-0\/rank-0\] /m);
    const d = session.deployments.get('pd-lab');
    assert.ok(d instanceof Deployment);
    // the endpoint is an SSH forward on this machine
    const endpoint = await d.endpoint();
    assert.match(endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await fetch(`${endpoint}/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'Hello', sampling_params: { max_new_tokens: 4 } }) });
    assert.equal(r.status, 200);
    // supervisor directories live in each node's own home (~ expanded on the node)
    assert.ok(d.remoteStates().every((s) => s.remote.dir.startsWith('~/.moebench/deployments/pd-lab/')));
    const byNode = (n: string) => d.remoteStates().filter((s) => s.remote.node === n).map((s) => s.remote.pgid);
    assert.equal((await liveOnNode(cluster, 'node1', byNode('node1'))).length >= 2, true);
    const report = await stopDeployment(session, 'pd-lab');
    assert.deepEqual(report.processes.map((p) => p.outcome), ['terminated', 'terminated', 'terminated']);
    assert.deepEqual(report.gpuChecks.map((c) => c.result), ['no-nvidia-smi', 'no-nvidia-smi']);
    assert.deepEqual(await liveOnNode(cluster, 'node1', byNode('node1')), []);
    assert.deepEqual(await liveOnNode(cluster, 'node2', byNode('node2')), []);
    await session.dispose();
  });

  test('a decode rank that dies over ssh: its log tail in the error, the prefill rank stopped', async () => {
    const cluster = await labCluster(lab, ['node1', 'node2'], recordingHost(), { gpusPerNode: 8 });
    const session = new Session({ notebookPath: path.join(lab.dir, 'nb2', 'exp.moebench'), toolVersion: 'test' });
    session.clusters.set('lab', cluster, 'cluster');
    session.store.add(cluster);
    const text = await spec((s) => s.replace('memory: { cudaGraphBatchSizes:', 'memory: { fraction: 0.3, cudaGraphBatchSizes:'));
    const err = await new DeployCellExecutor({ graceMs: 3000 }).execute(text, cellContext(session, new Events())).then(
      () => assert.fail('should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DeploymentFailedError, String(err));
    assert.match(err.message, /decode-0\/rank-0 on node2 exited with status 1/);
    assert.match(err.detail.logTail ?? '', /Not enough memory/);
    const d = session.deployments.get('pd-lab');
    assert.ok(d instanceof Deployment);
    const prefill = d.remoteStates().filter((s) => s.remote.node === 'node1').map((s) => s.remote.pgid);
    assert.equal(prefill.length, 1);
    assert.deepEqual(await liveOnNode(cluster, 'node1', prefill), []);
    await session.dispose();
  });
});
