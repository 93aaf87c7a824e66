import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BenchCellExecutor } from '../../../src/core/cells/bench';
import { DeployCellExecutor, stopDeployment } from '../../../src/core/cells/deploy';
import type { SshCluster } from '../../../src/core/launch/ssh/ssh-cluster';
import { Deployment, DeploymentFailedError } from '../../../src/core/deploy';
import { Session } from '../../../src/core/exec/session';
import { readRunMeta, readRunResult } from '../../../src/core/results';
import { writeSimShims } from '../../../src/core/sim/shims';
import { startLab, type Lab } from '../../lab/lab';
import { labCluster, recordingHost } from '../ssh/helpers';
import { emulatorBin, type EmulatorBin } from './emulator';
import { cellContext, Events, fixture, freePort } from './helpers';
import type { RemoteProcessState } from '../../../src/core/launch/shell';

// The same launch over real OpenSSH servers: each lab node's PATH starts with a python3 shim
// that runs the emulator, processes are supervised through ssh exec, and health checks and the
// endpoint go through SSH port forwards (to the node's loopback for 0.0.0.0 binds, to the node's
// own address for servers given `--host <node address>`).

let lab: Lab;
let emu: EmulatorBin;

before(async () => {
  lab = await startLab({ nodes: 4 });
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
  // --host 0.0.0.0 binds 0.0.0.0 as SGLang does (the emulator maps wildcards to this address);
  // a specific --host (a node address) is bound exactly as given, whatever this says
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

/** a port no one listens on at any lab address (concurrent labs use the same 127.0.0.x) */
async function freeOnLab(span: number): Promise<number> {
  const hosts = ['127.0.0.1', ...lab.nodes.map((n) => n.host)];
  const freeAt = (host: string, port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, host, () => srv.close(() => resolve(true)));
    });
  for (let i = 0; i < 100; i++) {
    const p = await freePort('127.0.0.1', span);
    let ok = true;
    for (const h of hosts) ok = ok && (await freeAt(h, p));
    if (ok) return p;
  }
  throw new Error('no port free on every lab address');
}

async function spec4(): Promise<{ text: string; serverPort: number; routerPort: number }> {
  const serverPort = await freeOnLab(300);
  const routerPort = await freeOnLab(300);
  const text = fixture('deploy-2p2d-lab.yaml')
    .replace('server: 44000', `server: ${serverPort}`)
    .replace('bootstrap: 44500', `bootstrap: ${await freePort()}`)
    .replace('port: 45000', `port: ${routerPort}`);
  return { text, serverPort, routerPort };
}

describe('deploy cell on the real-sshd lab', () => {
  test('prefill + decode + router over ssh: healthy, generate through the forwarded endpoint, stop leaves no process on any node', async (t) => {
    const cluster = await labCluster(lab, ['node1', 'node2'], recordingHost(), { gpusPerNode: 8 });
    const session = new Session({ notebookPath: path.join(lab.dir, 'nb', 'exp.moebench'), toolVersion: 'test' });
    session.clusters.set('lab', cluster, 'cluster');
    session.store.add(cluster);
    // also when an assertion fails: the cluster's SSH forwards would keep this process alive
    t.after(() => session.dispose());
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
    assert.ok(d.remoteStates().every((s) => (s.remote as RemoteProcessState).dir.startsWith('~/.moebench/deployments/pd-lab/')));
    const byNode = (n: string) => d.remoteStates().filter((s) => s.remote.node === n).map((s) => s.remote.pgid ?? 0);
    assert.equal((await liveOnNode(cluster, 'node1', byNode('node1'))).length >= 2, true);
    const report = await stopDeployment(session, 'pd-lab');
    assert.deepEqual(report.processes.map((p) => p.outcome), ['terminated', 'terminated', 'terminated']);
    assert.deepEqual(report.gpuChecks.map((c) => c.result), ['no-nvidia-smi', 'no-nvidia-smi']);
    assert.deepEqual(await liveOnNode(cluster, 'node1', byNode('node1')), []);
    assert.deepEqual(await liveOnNode(cluster, 'node2', byNode('node2')), []);
  });

  test('2 prefill + 2 decode + router, each on its node address and one shared port: healthy, a bench cell by name through the forwarded router, stop leaves no process on any node', async (t) => {
    const nodes = ['node1', 'node2', 'node3', 'node4'];
    const cluster = await labCluster(lab, nodes, recordingHost(), { gpusPerNode: 8 });
    const session = new Session({ notebookPath: path.join(lab.dir, 'nb4', 'exp.moebench'), toolVersion: 'test' });
    session.clusters.set('lab', cluster, 'cluster');
    session.store.add(cluster);
    // also when an assertion fails: the cluster's SSH forwards would keep this process alive
    t.after(() => session.dispose());
    const { text, serverPort, routerPort } = await spec4();
    const events = new Events();
    const t0 = Date.now();
    // a server reached at the wrong address never answers: fail in a minute, not the default 30
    await new DeployCellExecutor({ graceMs: 3000, healthTimeoutMs: 60_000 }).execute(text, cellContext(session, events));
    t.diagnostic(`2P+2D+router over ssh (4 nodes): ready after ${Date.now() - t0} ms`);

    const d = session.deployments.get('pd-lab4');
    assert.ok(d instanceof Deployment);
    assert.deepEqual(
      d.view().processes.map((p) => [p.id, p.node, p.port, p.phase]),
      [
        ['prefill-0/rank-0', 'node1', serverPort, 'healthy'],
        ['prefill-1/rank-0', 'node2', serverPort, 'healthy'],
        ['decode-0/rank-0', 'node3', serverPort, 'healthy'],
        ['decode-1/rank-0', 'node4', serverPort, 'healthy'],
        ['router', 'node1', routerPort, 'healthy'],
      ],
    );
    // each server was started with, and bound, its own node's address; nothing took 127.0.0.1
    for (const n of nodes) {
      const address = cluster.node(n).address;
      assert.match(events.logText(), new RegExp(`^\\[${n} (prefill|decode)-\\d/rank-0\\] .*host='${address.replace(/\./g, '\\.')}', port=${serverPort}\\)`, 'm'));
    }
    const loopback = await new Promise<string>((resolve) => {
      const sock = net.connect(serverPort, '127.0.0.1', () => {
        sock.destroy();
        resolve('connected');
      });
      sock.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    assert.equal(loopback, 'ECONNREFUSED');

    // the endpoint and every server are SSH forwards on this machine, one per node and address
    const endpoint = await d.endpoint();
    assert.match(endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    const servers = await d.servers();
    assert.equal(new Set(servers.map((x) => x.url)).size, 5);
    for (const x of servers) {
      assert.match(x.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const h = await fetch(`${x.url}/health`);
      await h.arrayBuffer();
      assert.equal(h.status, 200, `${x.role} on ${x.node}`);
    }

    // a bench cell targets the deployment by name: every request goes through the forwarded router
    const bench = new Events();
    const benchCell = ['name: smoke', 'target: pd-lab4', 'workload: { dataset: random, numPrompts: 16, inputLen: 64, outputLen: 8, seed: 1 }', 'load: { maxConcurrency: 4 }', ''].join('\n');
    await new BenchCellExecutor().execute(benchCell, { ...cellContext(session, bench, undefined, 'smoke'), cell: { index: 2, name: 'smoke', language: 'moebench-bench' } });
    const runIds = session.runs.get('smoke').runIds;
    assert.equal(runIds.length, 1);
    const runDir = path.join(session.runStoreDir, runIds[0]);
    const meta = await readRunMeta(runDir);
    assert.equal(meta.target.url, endpoint);
    assert.equal(meta.target.deployment, 'pd-lab4');
    const { summary } = await readRunResult(runDir);
    assert.deepEqual([summary.completed, summary.failed], [16, 0]);

    const byNode = (n: string) => d.remoteStates().filter((x) => x.remote.node === n).map((x) => x.remote.pgid ?? 0);
    const report = await stopDeployment(session, 'pd-lab4');
    assert.deepEqual(report.processes.map((p) => p.outcome), ['terminated', 'terminated', 'terminated', 'terminated', 'terminated']);
    assert.deepEqual(report.errors, []);
    for (const n of nodes) {
      assert.deepEqual(await liveOnNode(cluster, n, byNode(n)), [], n);
      // nor any other process of this deployment (by its ports) on the node
      const ps = await cluster.exec(n, ['ps', '-e', '-o', 'args=']);
      assert.deepEqual(ps.stdout.split('\n').filter((l) => l.includes(`--port ${serverPort}`) || l.includes(`--port ${routerPort}`)), [], n);
    }
  });

  test('a decode rank that dies over ssh: its log tail in the error, the prefill rank stopped', async (t) => {
    const cluster = await labCluster(lab, ['node1', 'node2'], recordingHost(), { gpusPerNode: 8 });
    const session = new Session({ notebookPath: path.join(lab.dir, 'nb2', 'exp.moebench'), toolVersion: 'test' });
    session.clusters.set('lab', cluster, 'cluster');
    session.store.add(cluster);
    // also when an assertion fails: the cluster's SSH forwards would keep this process alive
    t.after(() => session.dispose());
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
    const prefill = d.remoteStates().filter((s) => s.remote.node === 'node1').map((s) => s.remote.pgid ?? 0);
    assert.equal(prefill.length, 1);
    assert.deepEqual(await liveOnNode(cluster, 'node1', prefill), []);
  });
});
