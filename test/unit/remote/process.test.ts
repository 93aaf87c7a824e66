import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalCluster } from '../../../src/core/launch/local/local-cluster';
import {
  followRemoteLog,
  parseRemoteProcess,
  remoteProcessStatus,
  serializeRemoteProcess,
  startRemoteProcess,
  stopRemoteProcess,
} from '../../../src/core/launch/shell';

/** Remote supervision over the local cluster: the same code paths ssh and sim clusters use. */
describe('remote processes on a local cluster', () => {
  let base: string;
  const cluster = new LocalCluster('local-test', 0);

  before(() => {
    base = mkdtempSync(path.join(os.tmpdir(), 'moebench-remote-'));
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  function groupAlive(pgid: number): boolean {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** killed processes may linger as zombies until init reaps them (slowly in containers) */
  function groupIsOnlyZombies(pgid: number): boolean {
    const out = execFileSync('ps', ['-e', '-o', 'pgid=,stat='], { encoding: 'utf8' });
    return out
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter(([g]) => Number(g) === pgid)
      .every(([, stat]) => stat.startsWith('Z'));
  }

  it('starts a detached process whose log, status and exit code can be read', async () => {
    const state = await startRemoteProcess(cluster, 'local', {
      deploymentId: 'd1',
      name: 'echo',
      argv: ['sh', '-c', 'for i in 1 2 3; do echo "line $i"; sleep 0.05; done; exit 7'],
      baseDir: base,
    });
    const chunks: string[] = [];
    const res = await followRemoteLog(cluster, state, { onData: (t) => chunks.push(t) });
    assert.equal(chunks.join(''), 'line 1\nline 2\nline 3\n');
    assert.deepEqual(res, { offset: 21, complete: true });
    assert.deepEqual(await remoteProcessStatus(cluster, state), { state: 'exited', exitCode: 7, logBytes: 21 });
  });

  it('resumes a log from a byte offset without repeating anything', async () => {
    const state = await startRemoteProcess(cluster, 'local', { deploymentId: 'd1', name: 'offset', argv: ['printf', 'héllo\nwörld\n'], baseDir: base });
    let first = '';
    const r1 = await followRemoteLog(cluster, state, { onData: (t) => (first += t) });
    let rest = '';
    const r2 = await followRemoteLog(cluster, state, { fromOffset: 7, onData: (t) => (rest += t) });
    assert.equal(first, 'héllo\nwörld\n');
    assert.equal(rest, 'wörld\n');
    assert.equal(r2.offset, r1.offset);
  });

  it('stop kills the whole process group, children that ignore TERM included', async () => {
    const state = await startRemoteProcess(cluster, 'local', {
      deploymentId: 'd1',
      name: 'tree',
      // a child ignoring TERM forces the KILL path; `wait` keeps the leader around
      argv: ['bash', '-c', 'sleep 300 & (trap "" TERM; sleep 301) & echo started; wait'],
      baseDir: base,
    });
    assert.ok(groupAlive(state.pgid));
    assert.equal((await remoteProcessStatus(cluster, state)).state, 'running');
    const outcome = await stopRemoteProcess(cluster, state, { graceMs: 300 });
    assert.equal(outcome, 'killed');
    assert.equal(groupAlive(state.pgid) && !groupIsOnlyZombies(state.pgid), false);
    // the leader's command died of TERM (143); the straggler that ignored it was KILLed
    const status = await remoteProcessStatus(cluster, state);
    assert.equal(status.state === 'exited' && status.exitCode, 143);
    assert.equal(await stopRemoteProcess(cluster, state), 'not-running');
  });

  it('a TERM-ed process records its exit code', async () => {
    const state = await startRemoteProcess(cluster, 'local', { deploymentId: 'd1', name: 'term', argv: ['sleep', '300'], baseDir: base });
    assert.equal(await stopRemoteProcess(cluster, state, { graceMs: 5000 }), 'terminated');
    const status = await remoteProcessStatus(cluster, state);
    assert.equal(status.state, 'exited');
    assert.equal(status.state === 'exited' && status.exitCode, 143);
  });

  it('re-attaches from serialized state and refuses a second start of a running process', async () => {
    const state = await startRemoteProcess(cluster, 'local', { deploymentId: 'd2', name: 'server', argv: ['sleep', '300'], baseDir: base });
    const again = parseRemoteProcess(serializeRemoteProcess(state));
    assert.deepEqual(again, state);
    assert.equal((await remoteProcessStatus(cluster, again)).state, 'running');
    await assert.rejects(startRemoteProcess(cluster, 'local', { deploymentId: 'd2', name: 'server', argv: ['sleep', '1'], baseDir: base }), /already running/);
    assert.equal(await stopRemoteProcess(cluster, again, { graceMs: 2000 }), 'terminated');
    assert.equal(readFileSync(path.join(base, 'd2', 'server', 'pid'), 'utf8').trim(), String(state.pgid));
  });

  it('refuses ids that could escape the deployment directory and tampered state', async () => {
    await assert.rejects(startRemoteProcess(cluster, 'local', { deploymentId: '../x', name: 'a', argv: ['true'], baseDir: base }), /Invalid deploymentId/);
    await assert.rejects(startRemoteProcess(cluster, 'local', { deploymentId: 'd', name: 'a b', argv: ['true'], baseDir: base }), /Invalid name/);
    const bad = JSON.stringify({ version: 1, cluster: 'c', node: 'n', deploymentId: 'x;rm', name: 'a', dir: '/tmp', pgid: 5, startedAt: '', argv: [] });
    assert.throws(() => parseRemoteProcess(bad), /invalid/);
    assert.throws(() => parseRemoteProcess('{'), /not JSON/);
  });

  it('the process survives the exec that started it (own session)', async () => {
    const state = await startRemoteProcess(cluster, 'local', { deploymentId: 'd3', name: 'sess', argv: ['sleep', '300'], baseDir: base });
    const sid = execFileSync('ps', ['-o', 'sid=', '-p', String(state.pgid)], { encoding: 'utf8' }).trim();
    assert.equal(Number(sid), state.pgid, 'leader of its own session');
    await stopRemoteProcess(cluster, state, { graceMs: 2000 });
  });
});
