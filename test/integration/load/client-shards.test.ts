/**
 * Client shards on the real-sshd lab: two lab nodes each run `moebench load-shard` (the bundled
 * CLI, copied over SFTP) against the emulator on a loopback address they reach, and the owner
 * merges them into one run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import type { SshCluster } from '../../../src/core/launch/ssh/ssh-cluster';
import { runBenchmark, type BenchmarkConfig } from '../../../src/core/bench/benchmark';
import { readRequests } from '../../../src/core/results';
import { startSimServer, type SimServer } from '../../../src/core/sim';
import { startLab, type Lab } from '../../lab/lab';
import { labCluster } from '../ssh/helpers';
import { Session } from '../../../src/core/exec/session';
import { runCell } from '../../../src/core/exec/run-cell';
import { defaultExecutors } from '../../../src/core/cells';
import { headlessHost } from '../../../src/core/host';
import type { CellEvent } from '../../../src/core/exec/events';

const root = path.join(__dirname, '..', '..', '..');
const N = 160;

let lab: Lab;
let cluster: SshCluster;
let sim: SimServer;
let store: string;
let bundleDir: string;

/** cli.js and load-worker.js of this tree (out/ may be another developer's older build) */
async function buildBundle(dir: string): Promise<void> {
  const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version: string };
  const common: esbuild.BuildOptions = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning', external: ['vscode', 'cpu-features', '*.node'], mainFields: ['module', 'main'], define: { __MOEBENCH_VERSION__: JSON.stringify(pkg.version) }, outdir: dir };
  await esbuild.build({ ...common, entryPoints: { cli: path.join(root, 'src/cli/main.ts'), 'load-worker': path.join(root, 'src/core/load/worker-entry.ts') } });
}

before(async () => {
  store = await mkdtemp(path.join(os.tmpdir(), 'moebench-client-shards-'));
  bundleDir = path.join(store, 'bundle');
  await buildBundle(bundleDir);
  lab = await startLab({ nodes: 2 });
  cluster = await labCluster(lab, ['node1', 'node2']);
  // paced: first token 30 ms after arrival, then one every 4 ms, at any load; the lab's nodes
  // share this host's network, so they reach it on 127.0.0.1
  parentDir = path.join(store, 'on-nodes');
  await mkdir(parentDir, { mode: 0o777 });
  await chmod(parentDir, 0o777);
  await chmod(store, 0o755);
  sim = await startSimServer({ pace: { ttftMs: 30, itlMs: 4 }, seed: 1, port: 0, host: '127.0.0.1' });
});

after(async () => {
  await sim?.close();
  await cluster?.dispose();
  await lab?.stop();
  await rm(store, { recursive: true, force: true });
});

function config(over: Partial<BenchmarkConfig> = {}): BenchmarkConfig {
  return {
    name: 'client-shards',
    url: sim.url,
    api: 'completions',
    model: 'default',
    dataset: { name: 'random', numPrompts: N, seed: 7, inputLen: 32, outputLen: 12, rangeRatio: 0.5 },
    cacheBust: false,
    requestRate: Infinity,
    burstiness: 1,
    maxConcurrency: 16,
    warmupRequests: 1,
    definition: 'sglang',
    percentiles: [50, 90, 99],
    payload: { temperature: 0, ignoreEos: true },
    workers: 1,
    ...over,
  };
}

/** `moebench load-shard` processes started from a per-run folder (this test's only) */
function shardProcesses(): string[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => /moebench-load\.[A-Za-z0-9]+\/cli\.js load-shard/.test(l));
}

/**
 * Per-run folders left on the node. The lab's nodes share this host's /tmp and other test runs may
 * use it at the same time, so these tests put their per-run folders under a parent of their own.
 */
let parentDir: string;
async function leftovers(node: string): Promise<string> {
  const r = await cluster.exec(node, ['sh', '-c', 'ls -d "$1"/moebench-load.* 2>/dev/null || true', 'sh', parentDir]);
  return r.stdout.trim();
}

describe('client shards on the sshd lab', () => {
  test('two client nodes make one run: every request once, the sum of their shares, metrics like a single client', async () => {
    const logs: string[] = [];
    const clients = { host: cluster, nodes: ['node1', 'node2'], workers: 2, nodeBinary: 'node', url: sim.url, bundleDir, parentDir, onLog: (node: string, text: string) => void logs.push(`${node}: ${text}`) };
    const multi = await runBenchmark(config(), { runStoreDir: store, toolVersion: 'test', clients });
    const single = await runBenchmark(config(), { runStoreDir: store, toolVersion: 'test' });

    assert.equal(multi.summary.completed, N, logs.join(''));
    assert.equal(multi.summary.failed, 0);
    assert.equal(multi.summary.warmupRequests, 1);
    const stored = await readRequests(multi.runDir ?? '');
    const measured = stored.filter((r) => !r.warmup);
    // every planned request exactly once, whichever node sent it
    assert.deepEqual(measured.map((r) => r.seq).sort((a, b) => a - b), Array.from({ length: N }, (_, i) => i));
    // four slices (2 nodes × 2 threads): the per-shard counts add up to the run
    assert.equal(multi.client.workers, 4);
    const shards = multi.client.shards ?? [];
    assert.deepEqual(shards.map((s) => s.name), ['node1 thread 0', 'node1 thread 1', 'node2 thread 0', 'node2 thread 1']);
    assert.equal(shards.reduce((a, s) => a + s.requests, 0), N);
    assert.ok(shards.every((s) => s.requests > 0), JSON.stringify(shards));
    assert.ok(multi.validity.some((v) => v.id === 'client-saturated'), 'saturation judged on the merged health');

    // same request set, same tokens
    assert.equal(multi.summary.totalInputTokens, single.summary.totalInputTokens);
    assert.equal(multi.summary.totalOutputTokens, single.summary.totalOutputTokens);
    assert.equal(multi.summary.itlMs.count, single.summary.itlMs.count);
    // the paced server's truth holds on every node (no stamp before the 30 ms first token) ...
    assert.ok((multi.summary.ttftMs.min ?? 0) >= 30, `TTFT min ${multi.summary.ttftMs.min}`);
    // ... and the start times are on the shared clock: nothing starts before t0, and the first
    // requests of every node start near it (a node given a start in the wrong clock would be seconds off)
    for (const node of [0, 1]) {
      const first = Math.min(...measured.filter((r) => r.seq % 4 === node * 2).map((r) => r.startMs));
      assert.ok(first >= 0 && first < 1000, `node${node + 1} first start ${first} ms after t0`);
    }
    // medians agree with the single-client run (not a timing benchmark: both runs see the same
    // paced server, but the four node processes share this machine's cores with other test files,
    // which adds tens of ms; the bound only catches a broken merge: units, a wrong column, a lost shard)
    const near = (a: number | null | undefined, b: number | null | undefined, what: string): void => assert.ok(a != null && b != null && a <= 3 * b + 15 && b <= 3 * a + 15, `${what}: ${a} vs ${b}`);
    near(multi.summary.ttftMs.median, single.summary.ttftMs.median, 'median TTFT');
    near(multi.summary.tpotMs.median, single.summary.tpotMs.median, 'median TPOT');

    // only what we copied is gone again
    assert.equal(await leftovers('node1'), '');
    assert.equal(await leftovers('node2'), '');
  });

  test('a bench cell with clients: on an ssh cluster cell runs its load from the lab nodes', async () => {
    const session = new Session({ notebookPath: path.join(store, 'nb.moebench'), toolVersion: 'test' });
    const events: CellEvent[] = [];
    const runOne = (language: string, source: string) =>
      runCell({ index: 0, kind: 'code', language, source }, { session, host: headlessHost({ settings: { consents: ['ssh.sshConfig:*', 'ssh.knownHosts:*'] } }), executors: defaultExecutors(), emit: (e) => events.push(e), signal: new AbortController().signal });
    try {
      await runOne('moebench-cluster', `name: lab\nkind: ssh\ngpusPerNode: 0\nnodes: [node1, node2]\nsshConfig: ${lab.sshConfigPath}\nknownHosts: ${lab.knownHostsPath}\n`);
      const bench = ['name: from-nodes', `target: ${sim.url}`, 'api: completions', 'model: default', 'workload: { dataset: random, numPrompts: 40, inputLen: 32, outputLen: 8, cacheBust: false }', 'load: { maxConcurrency: 8 }'];
      // this machine's `workers:` does not apply when the load runs elsewhere: said, not ignored
      await assert.rejects(runOne('moebench-bench', [...bench, 'workers: 2', 'clients: { nodes: [node1, node2] }'].join('\n')), /clients\.workers/);
      await runOne('moebench-bench', [...bench, 'clients: { nodes: [node1, node2], workers: 1 }'].join('\n'));
      const logs = events.filter((e): e is Extract<CellEvent, { kind: 'log' }> => e.kind === 'log').map((e) => e.text).join('');
      assert.match(logs, /from-nodes \[.*\] run \S+: 40 completed, 0 failed/);
      const result = events.filter((e) => e.kind === 'doc' && e.id === 'from-nodes-result').pop();
      assert.ok(result && result.kind === 'doc');
      // the client-saturated check ran over the nodes' health: its detail names the worst node
      assert.match(JSON.stringify(result.doc), /worst: node[12]/);
    } finally {
      await session.dispose();
    }
  });

  test('a node without Node.js at the configured path fails with an error naming it, before any load', async () => {
    const clients = { host: cluster, nodes: ['node1', 'node2'], workers: 1, nodeBinary: '/nonexistent/bin/node', url: sim.url, bundleDir, parentDir };
    await assert.rejects(runBenchmark(config(), { runStoreDir: store, toolVersion: 'test', clients }), (err: Error) => /Client node node[12] has no usable Node\.js at "\/nonexistent\/bin\/node"/.test(err.message));
    assert.equal(await leftovers('node1'), '');
  });

  test('an SSH drop ends that shard with an error naming the node; the records it sent are kept', async () => {
    const clients = { host: cluster, nodes: ['node1', 'node2'], workers: 1, nodeBinary: 'node', url: sim.url, bundleDir, parentDir };
    let runDir: string | undefined;
    let dropped = false;
    const run = runBenchmark(config({ requestRate: 4, dataset: { name: 'random', numPrompts: 80, seed: 7, inputLen: 32, outputLen: 12, rangeRatio: 0.5 } }), {
      runStoreDir: store,
      toolVersion: 'test',
      clients,
      onStart: (live, dir) => {
        runDir = dir;
        const poll = setInterval(() => {
          if (live.progress().completed < 6 || dropped) return;
          dropped = true;
          clearInterval(poll);
          // node2's per-connection sshd processes (under the listener this test's lab started) die: the TCP connection drops
          void lab.sshdPid('node2').then((listener) => {
            const children = (pid: number): number[] => {
              try {
                return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number);
              } catch {
                return []; // ps exits 1 when there are none
              }
            };
            // a process may already be gone (the monitor exits with its session): ESRCH is fine
            const kill = (pid: number): void => {
              try {
                process.kill(pid, 'SIGKILL');
              } catch {
                /* already gone */
              }
            };
            for (const priv of children(listener)) {
              for (const session of children(priv)) kill(session);
              kill(priv);
            }
          });
        }, 50);
      },
    });
    await assert.rejects(run, (err: Error) => /client shard on node2 (lost its link|ended before it finished)/.test(err.message) || assert.fail(`unexpected error: ${err.message}`));
    assert.ok(dropped);
    // the orphaned shard on node2 saw its stdin close and stopped sending (no load keeps hitting the server)
    for (let i = 0; i < 200 && shardProcesses().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(shardProcesses(), []);
    const stored = (await readRequests(runDir ?? '')).filter((r) => !r.warmup);
    // node2 takes the odd requests: those it finished before the drop are in the run store
    assert.ok(stored.some((r) => r.seq % 2 === 1), 'records node2 sent before the drop are kept');
    assert.equal(new Set(stored.map((r) => r.seq)).size, stored.length, 'no request twice');
    const meta = JSON.parse(await readFile(path.join(runDir ?? '', 'meta.json'), 'utf8')) as { status: string; error?: string };
    assert.equal(meta.status, 'failed');
    assert.match(meta.error ?? '', /node2/);
    // node2's folder too: removed once the connection came back
    assert.equal(await leftovers('node1'), '');
    assert.equal(await leftovers('node2'), '');
  });

  test('a server the nodes cannot reach fails the warmup naming the node', async () => {
    // this machine reaches the emulator; the nodes are pointed at a closed port
    const clients = { host: cluster, nodes: ['node1', 'node2'], workers: 1, nodeBinary: 'node', url: 'http://127.0.0.1:9', bundleDir, parentDir };
    await assert.rejects(runBenchmark(config(), { runStoreDir: store, toolVersion: 'test', clients }), (err: Error) => /client shard on node1 failed its warmup \(the server must be reachable from node1\)/.test(err.message));
    assert.equal(await leftovers('node1'), '');
    assert.equal(await leftovers('node2'), '');
  });

  test('cancelling stops the remote shards and keeps what they finished', async () => {
    const ac = new AbortController();
    const clients = { host: cluster, nodes: ['node1', 'node2'], workers: 1, nodeBinary: 'node', url: sim.url, bundleDir, parentDir };
    // a slow schedule (2 req/s over 80 requests), cancelled once a few requests have finished
    const run = runBenchmark(config({ requestRate: 2, dataset: { name: 'random', numPrompts: 80, seed: 7, inputLen: 32, outputLen: 12, rangeRatio: 0.5 } }), {
      runStoreDir: store,
      toolVersion: 'test',
      clients,
      signal: ac.signal,
      onStart: (live) => {
        const poll = setInterval(() => {
          if (live.progress().completed >= 3) {
            clearInterval(poll);
            ac.abort();
          }
        }, 50);
      },
    });
    const out = await run;
    assert.equal(out.cancelled, true);
    assert.ok(out.summary.completed >= 3 && out.summary.completed < 80, `completed ${out.summary.completed}`);
    const stored = (await readRequests(out.runDir ?? '')).filter((r) => !r.warmup);
    assert.equal(stored.length, out.measuredRequests);
    assert.equal(new Set(stored.map((r) => r.seq)).size, stored.length, 'no request twice');
    assert.equal(await leftovers('node1'), '');
    assert.equal(await leftovers('node2'), '');
  });
});
