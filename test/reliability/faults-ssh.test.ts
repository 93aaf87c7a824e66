/**
 * Faults on real OpenSSH nodes: the connection cut under a running command and (twice) under a
 * supervised process's log stream, and a node that cannot be reached when the cluster cell runs.
 * For each: the user sees a clear, typed state; nothing already received is lost; nothing is left
 * running on the nodes (checked with ps on the node itself).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ClusterCellExecutor } from '../../src/core/cells/cluster';
import { headlessHost } from '../../src/core/host';
import { SshConnectionLostError } from '../../src/core/launch/ssh/ssh-errors';
import type { SshCluster } from '../../src/core/launch/ssh/ssh-cluster';
import type { CellEvent } from '../../src/core/exec/events';
import { Session } from '../../src/core/exec/session';
import { followRemoteLog, remoteProcessStatus, startRemoteProcess } from '../../src/core/launch/shell';
import { CommandFailedError } from '../../src/core/util/errors';
import { startLab, type Lab } from '../lab/lab';
import { labCluster } from '../integration/ssh/helpers';
import { figure } from './helpers';

let lab: Lab;
let cluster: SshCluster;
let orphans = 0;
let lost = 0;

/** cuts every established ssh connection to `node` (kills the sshd processes serving them) */
async function cut(node: string): Promise<number> {
  const listener = await lab.sshdPid(node);
  const children = execFileSync('pgrep', ['-P', String(listener), '-f', '^sshd: .*\\[priv\\]'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  for (const pid of children) process.kill(-Number(pid), 'SIGKILL');
  return children.length;
}

/** processes on the node whose command line matches `pattern` */
async function running(node: string, pattern: string): Promise<string[]> {
  const r = await cluster.exec(node, ['ps', '-e', '-o', 'pid=,stat=,args=']);
  return r.stdout.split('\n').filter((l) => l.includes(pattern) && !/\sZ/.test(l.slice(0, 16)) && !l.includes('ps -e'));
}

describe('faults on real-sshd nodes', () => {
  before(async () => {
    lab = await startLab({ nodes: 2 });
    cluster = await labCluster(lab, ['node1', 'node2']);
  });
  after(async () => {
    await cluster?.dispose();
    await lab?.stop();
  });

  test('a connection cut during a running command: a typed "connection lost" error, and the command does not run on unseen', async () => {
    let out = '';
    const p = cluster.exec('node1', ['bash', '-c', 'echo started; sleep 4242; echo never'], { onStdout: (s) => (out += s) });
    while (!out.includes('started')) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await cut('node1'), 1);
    await assert.rejects(p, (err: unknown) => {
      assert.ok(err instanceof SshConnectionLostError, String(err));
      assert.equal(err.where.node, 'node1');
      assert.match(err.hint ?? '', /stopped after reconnecting/);
      return true;
    });
    assert.equal(out, 'started\n', 'what arrived before the cut was delivered');
    const left = await running('node1', 'sleep 4242');
    orphans += left.length;
    assert.deepEqual(left, []);
  });

  test('connections cut twice during a supervised run and its log stream: every line exactly once, the process unharmed, nothing left', async () => {
    const lines = 200;
    const proc = await startRemoteProcess(cluster, 'node2', {
      deploymentId: 'faults',
      name: 'counter',
      argv: ['bash', '-c', `for i in $(seq 1 ${lines}); do echo "line $i"; sleep 0.015; done`],
    });
    let text = '';
    let cuts = 0;
    let interruptions = 0;
    const r = await followRemoteLog(cluster, proc, {
      retryDelayMs: 100,
      onInterrupted: () => interruptions++,
      onData: (chunk) => {
        text += chunk;
        const n = text.split('\n').length;
        if ((cuts === 0 && n > 40) || (cuts === 1 && n > 120)) {
          cuts++;
          void cut('node2');
        }
      },
    });
    const got = text.trimEnd().split('\n');
    const expected = Array.from({ length: lines }, (_, i) => `line ${i + 1}`);
    lost += expected.filter((l) => !got.includes(l)).length;
    assert.equal(cuts, 2);
    assert.ok(interruptions >= 2, `interrupted ${interruptions} times`);
    assert.deepEqual(got, expected, 'no line lost or repeated');
    assert.equal(r.complete, true);
    assert.deepEqual(await remoteProcessStatus(cluster, proc), { state: 'exited', exitCode: 0, logBytes: r.offset });
    const left = (await running('node2', 'seq 1 200')).concat(await running('node2', 'tail -c'));
    orphans += left.length;
    assert.deepEqual(left, [], 'no supervised process or log follower left');
    figure({ 'log-stream-cuts': cuts, 'log-lines-lost': expected.length - got.filter((l, i) => l === expected[i]).length });
  });

  test('a node unreachable at start: the cluster cell names it and the reason, the others are checked', async () => {
    const session = new Session({ notebookPath: path.join(lab.dir, 'nb', 'x.moebench'), toolVersion: 'test' });
    const events: CellEvent[] = [];
    const stopped = lab.nodes[1];
    // a node whose sshd is down (its launcher killed), and an address nothing listens on
    // the node dies: its namespace launcher is killed, which kills its sshd
    process.kill(stopped.launcherPid, 'SIGKILL');
    for (let i = 0; i < 250; i++) {
      const open = await new Promise<boolean>((resolve) => {
        const s = net.connect(stopped.port, stopped.host, () => (s.destroy(), resolve(true)));
        s.on('error', () => resolve(false));
      });
      if (!open) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const source = [
      'name: lab',
      'kind: ssh',
      'gpusPerNode: 0',
      `nodes: [node1, { name: down, host: ${stopped.host}, port: ${stopped.port}, user: ${lab.user}, identityFile: ${JSON.stringify(lab.identityFile)} }, { name: nowhere, host: 127.0.0.250, port: ${stopped.port} }]`,
    ].join('\n');
    try {
      await assert.rejects(
        new ClusterCellExecutor().execute(source, { session, cell: { index: 0, name: 'lab', language: 'moebench-cluster' }, emit: (e) => events.push(e), signal: new AbortController().signal, host: headlessHost({ settings: { 'ssh.configFile': lab.sshConfigPath } }) }),
        (err: unknown) => {
          assert.ok(err instanceof CommandFailedError, String(err));
          assert.match(err.message, /2 of 3 nodes of lab are not usable: down \(.*ECONNREFUSED.*\); nowhere \(.*ECONNREFUSED.*\)/);
          assert.equal(err.where.node, 'down');
          return true;
        },
      );
      const doc = events.filter((e): e is Extract<CellEvent, { kind: 'doc' }> => e.kind === 'doc' && e.id === 'cluster').pop();
      const rows = doc?.doc.blocks[0]?.type === 'table' ? doc.doc.blocks[0].rows : [];
      assert.deepEqual(rows.map((r) => [r[0], r[3]]), [['node1', 'OK'], ['down', 'FAILED'], ['nowhere', 'FAILED']]);
    } finally {
      await session.dispose();
    }
  });

  test('figures', () => {
    figure({ 'ssh-fault-orphans': orphans, 'ssh-fault-lines-lost': lost });
  });
});
