import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SshCluster } from '../../../src/core/launch/ssh/ssh-cluster';
import { CancelledError } from '../../../src/core/util/errors';
import { startRemoteProcess, stopRemoteProcess } from '../../../src/core/launch/shell';
import { startLab, type Lab } from '../../lab/lab';
import { hostileStrings } from '../../unit/cluster/hostile-strings';
import { labCluster } from './helpers';

describe('commands on lab nodes over ssh', () => {
  let lab: Lab;
  let cluster: SshCluster;
  /** the canary as the node sees it, and where that file is on this machine */
  const canaryOnNode = '/home/moebench-lab/canary';
  const canaryHere = (): string => path.join(lab.nodeHome('node1'), 'canary');

  before(async () => {
    lab = await startLab({ nodes: 1 });
    cluster = await labCluster(lab, ['node1']);
  });
  after(async () => {
    await cluster.dispose();
    await lab.stop();
  });

  it('hostile arguments arrive byte-identical and nothing executes', async () => {
    const hostile = hostileStrings(canaryOnNode);
    const r = await cluster.exec('node1', ['printf', '%s\\0', ...hostile]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\0').slice(0, -1), hostile);
    assert.equal(existsSync(canaryHere()), false, 'canary must not exist');
  });

  it('hostile env values and a hostile working directory never execute', async () => {
    const hostile = hostileStrings(canaryOnNode).filter((s) => s.length < 1000);
    const env: Record<string, string> = {};
    hostile.forEach((v, i) => (env[`V${i}`] = v));
    const r = await cluster.exec('node1', ['sh', '-c', 'for n in "$@"; do printenv "$n"; printf "\\0"; done', 'sh', ...Object.keys(env)], { env });
    assert.deepEqual(r.stdout.split('\n\0').slice(0, -1), hostile);
    // directory names cannot hold "/" or NUL; everything else is fair game
    const dirName = `d $(touch ${canaryOnNode}) \`touch ${canaryOnNode}\` '; touch ${canaryOnNode}\n日本`;
    assert.equal((await cluster.exec('node1', ['mkdir', '-p', '--', dirName])).exitCode, 0);
    const pwd = await cluster.exec('node1', ['pwd'], { cwd: `~/${dirName}` });
    assert.equal(pwd.stdout, `/home/moebench-lab/${dirName}\n`);
    // and through remote supervision, whose scripts take argv and env as data too
    const proc = await startRemoteProcess(cluster, 'node1', { deploymentId: 'hostile', name: 'p', argv: ['printf', '%s\\0', ...hostile], env: { X: hostile[3] } });
    await new Promise((res) => setTimeout(res, 300));
    const log = readFileSync(path.join(lab.nodeHome('node1'), '.moebench/deployments/hostile/p/log'), 'utf8');
    assert.deepEqual(log.split('\0').slice(0, -1), hostile);
    await stopRemoteProcess(cluster, proc);
    assert.equal(existsSync(canaryHere()), false, 'canary must not exist');
  });

  it('streams output as it comes and passes stderr and the exit code through', async () => {
    const seen: string[] = [];
    const r = await cluster.exec('node1', ['sh', '-c', 'for i in 1 2 3; do echo "out $i"; sleep 0.1; done; echo oops >&2; exit 4'], { onStdout: (c) => seen.push(c) });
    assert.deepEqual([r.exitCode, r.stdout, r.stderr], [4, 'out 1\nout 2\nout 3\n', 'oops\n']);
    assert.ok(seen.length >= 2, 'output arrived in pieces, not at the end');
  });

  it('runs the cluster preamble first, and reports when it fails', async () => {
    const withPreamble = await labCluster(lab, ['node1'], undefined, { preamble: 'export GREETING="from the preamble"; cd /tmp', workDir: '~' });
    try {
      const r = await withPreamble.exec('node1', ['sh', '-c', 'echo "$GREETING in $(pwd)"']);
      assert.equal(r.stdout, 'from the preamble in /tmp\n');
    } finally {
      await withPreamble.dispose();
    }
    const broken = await labCluster(lab, ['node1'], undefined, { preamble: 'source /nonexistent/venv/bin/activate' });
    try {
      const r = await broken.exec('node1', ['echo', 'never']);
      assert.equal(r.exitCode, 125);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /preamble failed/);
    } finally {
      await broken.dispose();
    }
  });

  it('abort kills the remote process group, children included', async () => {
    const ac = new AbortController();
    const run = cluster.exec('node1', ['bash', '-c', 'sleep 311 & sleep 312 & echo started; wait'], {
      signal: ac.signal,
      onStdout: (c) => c.includes('started') && ac.abort(),
    });
    await assert.rejects(run, CancelledError);
    const left = await cluster.exec('node1', ['sh', '-c', 'pgrep -f "sleep 31[12]" || true']);
    assert.equal(left.stdout, '', 'no sleep survived');
  });

  it('40 concurrent commands on one connection all succeed under MaxSessions 10', async () => {
    const run = (c: SshCluster): Promise<string[]> =>
      Promise.all(Array.from({ length: 40 }, (_, i) => c.exec('node1', ['sh', '-c', 'sleep 0.3; echo "$1"', 'sh', String(i)]).then((r) => `${r.exitCode}:${r.stdout.trim()}`)));
    const expected = Array.from({ length: 40 }, (_, i) => `0:${i}`);
    assert.deepEqual(await run(cluster), expected);
    // guessing too high: the server refuses the 11th session, the pool learns and queues
    const greedy = await labCluster(lab, ['node1'], undefined, {}, { maxSessions: 40 });
    try {
      assert.deepEqual(await run(greedy), expected);
      assert.match(readFileSync(path.join(lab.dir, 'nodes', 'node1', 'sshd.log'), 'utf8'), /no more sessions/);
    } finally {
      await greedy.dispose();
    }
  });

  it('reads and writes files over SFTP', async () => {
    const text = 'model: /models/DeepSeek-V3\nü ✓\n';
    await cluster.writeFile('node1', '~/sub-cfg.yaml', text);
    assert.equal(readFileSync(path.join(lab.nodeHome('node1'), 'sub-cfg.yaml'), 'utf8'), text);
    assert.equal((await cluster.readFile('node1', '~/sub-cfg.yaml')).toString('utf8'), text);
    await assert.rejects(cluster.readFile('node1', '/nonexistent/x'), /SFTP read of \/nonexistent\/x on node1 failed/);
  });

  it('forwards a local port to an HTTP server on the node, and says why when nothing listens', async () => {
    // the nodes share this machine's loopback, so a port free here is free there
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const a = probe.address();
        probe.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
      });
    });
    const base = await cluster.httpEndpoint('node1', port);
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(base, `http://127.0.0.1:${port}`);
    const refused = await fetch(`${base}/hello.txt`);
    assert.equal(refused.status, 502);
    assert.match(await refused.text(), new RegExp(`could not reach port ${port} on node1: .*Connection refused`));

    await cluster.exec('node1', ['mkdir', '-p', 'www']);
    await cluster.writeFile('node1', '~/www/hello.txt', 'hello from node1\n');
    const server = await startRemoteProcess(cluster, 'node1', { deploymentId: 'fwd', name: 'http', argv: ['python3', '-m', 'http.server', '--bind', '127.0.0.1', String(port)], cwd: '~/www' });
    try {
      let res = await fetch(`${base}/hello.txt`);
      for (let i = 0; i < 100 && res.status === 502; i++) {
        await res.text();
        await new Promise((r) => setTimeout(r, 100));
        res = await fetch(`${base}/hello.txt`);
      }
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'hello from node1\n');
      assert.equal(await cluster.httpEndpoint('node1', port), base, 'one forward per node and port');
    } finally {
      await stopRemoteProcess(cluster, server, { graceMs: 2000 });
    }
  });
});
