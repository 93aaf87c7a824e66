/**
 * Issue 17, class 3: Stop must only signal process groups this tool started and can still prove
 * are that group (pgid + leader start time + token recorded at start), never a pid read from a
 * file at stop time, and never from a record shipped inside the workspace.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalCluster } from '../../../src/core/launch/local/local-cluster';
import { deploymentsDir } from '../../../src/core/deploy/record';
import { reattachDeployments } from '../../../src/core/deploy/reattach';
import { Session } from '../../../src/core/exec/session';
import { remoteProcessStatus, startRemoteProcess, stopRemoteProcess, type RemoteProcessState } from '../../../src/core/launch/shell';
import { SIGNAL_SCRIPT } from '../../../src/core/launch/shell/scripts';

const root = mkdtempSync(path.join(os.tmpdir(), 'moebench-stop-trust-'));
const cluster = new LocalCluster('here', 0);
const victims: number[] = [];

/** an unrelated process group of the user: the thing a planted file aims at */
function victim(): number {
  const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
  child.unref();
  assert.ok(child.pid);
  victims.push(child.pid);
  return child.pid;
}

/** a live (non-zombie) member of the group */
function alive(pgid: number): boolean {
  const out = execFileSync('ps', ['-e', '-o', 'pgid=,stat='], { encoding: 'utf8' });
  return out.split('\n').some((l) => {
    const [g, stat] = l.trim().split(/\s+/);
    return Number(g) === pgid && !stat?.startsWith('Z');
  });
}

describe('stop signals only the groups it started', () => {
  after(() => {
    for (const v of victims) {
      try {
        process.kill(-v, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('a pid file and boot_id link planted in the process directory do not redirect stop: our group dies, the victim lives', async () => {
    const v = victim();
    const base = path.join(root, 'sup');
    const state = await startRemoteProcess(cluster, 'local', { deploymentId: 'd', name: 'server', argv: ['sleep', '300'], baseDir: base });
    assert.match(state.token, /^[0-9a-f]{32}$/);
    assert.match(state.leaderStart, /^[0-9]+$/);
    const dir = path.join(base, 'd', 'server');
    writeFileSync(path.join(dir, 'pid'), `${v}\n`);
    rmSync(path.join(dir, 'boot_id'), { force: true });
    symlinkSync('/proc/sys/kernel/random/boot_id', path.join(dir, 'boot_id'));
    assert.equal((await remoteProcessStatus(cluster, state)).state, 'running');
    assert.equal(await stopRemoteProcess(cluster, state, { graceMs: 1000 }), 'terminated');
    assert.equal(alive(state.pgid), false, 'our group survived');
    assert.equal(alive(v), true, 'the planted pid file made stop kill an unrelated group');
  });

  it('a state naming someone else\'s group (no token, or a reused pid with another start time) is never signalled', async () => {
    const v = victim();
    const base = path.join(root, 'forged');
    mkdirSync(path.join(base, 'x'), { recursive: true });
    const forged: RemoteProcessState[] = [
      { version: 1, cluster: 'here', node: 'local', deploymentId: 'x', name: 'y', dir: path.join(base, 'x'), pgid: v, leaderStart: '', token: '0'.repeat(32), startedAt: '', argv: ['sleep'] },
      { version: 1, cluster: 'here', node: 'local', deploymentId: 'x', name: 'y', dir: path.join(base, 'x'), pgid: v, leaderStart: '1', token: 'f'.repeat(32), startedAt: '', argv: ['sleep'] },
    ];
    for (const s of forged) {
      assert.equal((await remoteProcessStatus(cluster, s)).state, 'gone');
      assert.equal(await stopRemoteProcess(cluster, s, { graceMs: 200 }), 'not-running');
      const r = await cluster.exec('local', ['bash', '-c', SIGNAL_SCRIPT, 'moebench-signal', String(s.pgid), s.leaderStart, s.token, 'KILL']);
      assert.equal(r.exitCode, 2);
    }
    assert.equal(alive(v), true);
  });

  it('a token copied to a reused pid does not help: the leader start time must match too', async () => {
    const base = path.join(root, 'reuse');
    const state = await startRemoteProcess(cluster, 'local', { deploymentId: 'r', name: 's', argv: ['sleep', '300'], baseDir: base });
    const wrongStart = { ...state, leaderStart: String(Number(state.leaderStart) + 1) };
    assert.equal(await stopRemoteProcess(cluster, wrongStart, { graceMs: 200 }), 'not-running');
    assert.equal(alive(state.pgid), true);
    // the real record still reaches its own group (fault injection's signal)
    const sent = await cluster.exec('local', ['bash', '-c', SIGNAL_SCRIPT, 'moebench-signal', String(state.pgid), state.leaderStart, state.token, 'CONT']);
    assert.equal(sent.exitCode, 0, sent.stderr);
    assert.equal(await stopRemoteProcess(cluster, state, { graceMs: 1000 }), 'terminated');
  });

  it('deployment records committed into the workspace are never read: re-attach and stop find nothing', async () => {
    const v = victim();
    const ws = path.join(root, 'repo');
    const procDir = path.join(ws, 'evil', 'p');
    mkdirSync(procDir, { recursive: true });
    writeFileSync(path.join(procDir, 'pid'), `${v}\n`);
    symlinkSync('/proc/sys/kernel/random/boot_id', path.join(procDir, 'boot_id'));
    mkdirSync(path.join(ws, '.moebench', 'deployments'), { recursive: true });
    const remote = { version: 1, cluster: 'here', node: 'local', deploymentId: 'evil', name: 'p', dir: procDir, pgid: v, startedAt: '', argv: ['sleep'] };
    writeFileSync(path.join(ws, '.moebench', 'deployments', 'evil.json'), JSON.stringify({ version: 1, name: 'evil', cluster: 'here', clusterKind: 'local', startedAt: '', plan: {}, processes: [{ id: 'p', remote }] }));
    const nb = path.join(ws, 'exp.moebench');
    assert.ok(!deploymentsDir(nb).startsWith(ws), 'records must live outside the workspace');
    const session = new Session({ notebookPath: nb, toolVersion: 'test' });
    try {
      const r = await reattachDeployments(session, cluster);
      assert.deepEqual([r.reattached.length, r.ended, r.problems], [0, [], []]);
    } finally {
      await session.dispose();
    }
    assert.equal(alive(v), true);
  });
});
