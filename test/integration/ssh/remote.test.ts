import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { SshCluster } from '../../../src/core/launch/ssh/ssh-cluster';
import type { ConnectionState } from '../../../src/core/launch/types';
import {
  followRemoteLog,
  parseRemoteProcess,
  remoteProcessStatus,
  serializeRemoteProcess,
  startRemoteProcess,
  stopRemoteProcess,
} from '../../../src/core/launch/shell';
import { startLab, type Lab } from '../../lab/lab';
import { labCluster } from './helpers';

/** Cuts every established ssh connection to `node` by killing the sshd processes serving them. */
async function cutConnections(lab: Lab, node: string): Promise<number> {
  const listener = await lab.sshdPid(node);
  // sshd is pid 1 of the node's namespace: detached processes are its children too; only the
  // per-connection `sshd: user [priv]` processes are cut
  const children = execFileSync('pgrep', ['-P', String(listener), '-f', '^sshd: .*\\[priv\\]'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  // [priv] leads a process group with the unprivileged child that holds the socket: kill both
  for (const pid of children) process.kill(-Number(pid), 'SIGKILL');
  return children.length;
}

describe('remote processes on lab nodes over ssh', () => {
  let lab: Lab;
  let cluster: SshCluster;
  before(async () => {
    lab = await startLab({ nodes: 2 });
    cluster = await labCluster(lab, ['node1', 'node2']);
  });
  after(async () => {
    await cluster.dispose();
    await lab.stop();
  });

  it('a cut connection reconnects, the process keeps running and the log resumes without loss or duplication', async () => {
    const proc = await startRemoteProcess(cluster, 'node1', {
      deploymentId: 'cut',
      name: 'counter',
      argv: ['bash', '-c', 'for i in $(seq 1 150); do echo "line $i"; sleep 0.02; done'],
    });
    const states: string[] = [];
    const sub = cluster.onStateChange((node: string, s: ConnectionState) => node === 'node1' && states.push(s.state));
    let text = '';
    let cut = false;
    let interruptions = 0;
    const result = await followRemoteLog(cluster, proc, {
      retryDelayMs: 100,
      onInterrupted: () => interruptions++,
      onData: (chunk) => {
        text += chunk;
        if (!cut && text.split('\n').length > 20) {
          cut = true;
          // the sshd serving our connection dies, as when a network path drops
          void cutConnections(lab, 'node1').then((n) => assert.equal(n, 1, 'one connection to node1'));
        }
      },
    });
    await sub.dispose();
    assert.ok(interruptions >= 1, 'the stream was really interrupted');
    assert.ok(states.includes('reconnecting') && states.at(-1) === 'connected', states.join(' '));
    const lines = text.trimEnd().split('\n');
    assert.deepEqual(lines, Array.from({ length: 150 }, (_, i) => `line ${i + 1}`));
    assert.deepEqual(result, { offset: Buffer.byteLength(text), complete: true });
    assert.deepEqual(await remoteProcessStatus(cluster, proc), { state: 'exited', exitCode: 0, logBytes: result.offset });
  });

  it('stop kills the whole process group, children included, and nothing is left on the node', async () => {
    const proc = await startRemoteProcess(cluster, 'node2', {
      deploymentId: 'stop',
      name: 'server',
      // a child that ignores TERM forces the KILL step
      argv: ['bash', '-c', 'sleep 401 & (trap "" TERM; sleep 402) & python3 -c "import time; time.sleep(403)" & wait'],
    });
    const listGroup = async (): Promise<string> =>
      (await cluster.exec('node2', ['sh', '-c', 'ps -eo pgid=,stat=,args= | awk -v g="$1" \'$1 == g && $2 !~ /^Z/\'', 'sh', String(proc.pgid)])).stdout;
    await new Promise((r) => setTimeout(r, 200));
    assert.match(await listGroup(), /sleep 402/);
    assert.equal(await stopRemoteProcess(cluster, proc, { graceMs: 500 }), 'killed');
    assert.equal(await listGroup(), '');
    const leftovers = await cluster.exec('node2', ['sh', '-c', 'pgrep -f "sleep 40[12]|time.sleep\\(403\\)" || true']);
    assert.equal(leftovers.stdout, '');
    assert.equal(await stopRemoteProcess(cluster, proc), 'not-running');
  });

  it('re-attaches from saved state in a new session (window reload) and resumes at the saved offset', async () => {
    const proc = await startRemoteProcess(cluster, 'node2', {
      deploymentId: 'reload',
      name: 'server',
      argv: ['bash', '-c', 'echo ready; sleep 1; echo "$GREETING"; exec sleep 300'],
      env: { GREETING: 'hello; $(touch /tmp/never)' },
    });
    let seen = '';
    const ac = new AbortController();
    const guard = setTimeout(() => ac.abort(), 15_000);
    const first = await followRemoteLog(cluster, proc, {
      signal: ac.signal,
      onData: (t) => {
        seen += t;
        if (seen.includes('ready\n')) ac.abort();
      },
    });
    clearTimeout(guard);
    assert.equal(first.complete, false);
    assert.equal(seen, 'ready\n');
    const saved = JSON.stringify({ process: serializeRemoteProcess(proc), offset: first.offset });

    // a new cluster object: nothing shared with the first "window" but the saved JSON
    const reloaded = await labCluster(lab, ['node1', 'node2']);
    try {
      const restored = JSON.parse(saved) as { process: string; offset: number };
      const again = parseRemoteProcess(restored.process);
      assert.equal((await remoteProcessStatus(reloaded, again)).state, 'running');
      let rest = '';
      const ac2 = new AbortController();
      // a broken resume must fail the test, not hang it
      const guard = setTimeout(() => ac2.abort(), 15_000);
      await followRemoteLog(reloaded, again, {
        fromOffset: restored.offset,
        signal: ac2.signal,
        onData: (t) => {
          rest += t;
          if (rest.endsWith('\n')) ac2.abort();
        },
      });
      clearTimeout(guard);
      assert.equal(seen.slice(0, restored.offset) + rest, 'ready\nhello; $(touch /tmp/never)\n');
      assert.equal(await stopRemoteProcess(reloaded, again, { graceMs: 2000 }), 'terminated');
    } finally {
      await reloaded.dispose();
    }
  });
});
