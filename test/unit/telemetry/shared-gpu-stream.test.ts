import { test, mock } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchTelemetry, telemetryBlocks } from '../../../src/core/cells/bench-telemetry';
import { MonitorCellExecutor } from '../../../src/core/cells/monitor';
import type { CellContext } from '../../../src/core/exec/cell';
import type { CellEvent } from '../../../src/core/exec/events';
import type { DeploymentHandle } from '../../../src/core/exec/handles';
import { Session } from '../../../src/core/exec/session';
import { headlessHost } from '../../../src/core/host';
import type { ExecOptions, ExecResult } from '../../../src/core/launch/types';
import type { TelemetryNotice } from '../../../src/core/telemetry/notice';
import { GpuStreamRegistry } from '../../../src/core/telemetry/gpu/shared-stream';
import type { GpuSample } from '../../../src/core/telemetry/schema';
import { GpuTreeData } from '../../../src/extension/views/gpu-tree-data';
import { fakeCluster, fixture, untilAborted } from './helpers';

const NODES = [
  { name: 'gpu-001', address: '10.0.0.1', gpus: 2 },
  { name: 'gpu-002', address: '10.0.0.2', gpus: 2 },
];
// two H200s, 39 ticks (test/fixtures/nvidia-smi/h200x2)
const STREAM = fixture('nvidia-smi/h200x2/query-load-stream.csv');
const QXML = fixture('nvidia-smi/h200x2/q.xml');

/**
 * A cluster whose nodes answer nvidia-smi: `-q -x` from the H200 capture, and `-lms` streams the
 * test feeds. It counts the streams running at each moment, as `pgrep nvidia-smi` on the node would.
 */
function smiCluster() {
  const running = new Map<string, Set<ExecOptions>>();
  const started: { node: string; argv: string[] }[] = [];
  let most = 0;
  const crashers = new Map<ExecOptions, (r: ExecResult) => void>();
  const cluster = fakeCluster(NODES, async (node, argv, options) => {
    if (argv.includes('-lms')) {
      started.push({ node, argv: [...argv] });
      const set = running.get(node) ?? new Set();
      running.set(node, set);
      set.add(options);
      most = Math.max(most, set.size);
      try {
        return await new Promise<ExecResult>((resolve) => {
          crashers.set(options, resolve);
          void untilAborted(options.signal).then(resolve);
        });
      } finally {
        set.delete(options);
        crashers.delete(options);
      }
    }
    if (argv.includes('-x')) return { exitCode: 0, signal: null, stdout: QXML, stderr: '' };
    return { exitCode: 2, signal: null, stdout: '', stderr: 'not scripted' };
  });
  return {
    cluster,
    started,
    /** nvidia-smi streams running on the node now */
    count: (node: string) => running.get(node)?.size ?? 0,
    /** the most that ever ran at once on one node */
    most: () => most,
    feed: (node: string, text: string) => {
      for (const o of running.get(node) ?? []) o.onStdout?.(text);
    },
    /** the node's nvidia-smi dies (driver reload) */
    crash: (node: string) => {
      for (const o of running.get(node) ?? []) crashers.get(o)?.({ exitCode: 255, signal: null, stdout: '', stderr: 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.\n' });
    },
  };
}

/** let the event loop deliver what is already under way (no timers: a few turns) */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

/** wait until the condition holds, turn by turn of the event loop (no clock) */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    if (cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`never happened: ${what}`);
}

function cellContext(session: Session, name: string, language: string, signal: AbortSignal): { ctx: CellContext; events: CellEvent[] } {
  const events: CellEvent[] = [];
  return { ctx: { session, cell: { index: 1, name, language }, emit: (e) => events.push(e), signal, host: headlessHost() }, events };
}

test('the Cluster view, a running monitor cell and a bench collect on one node share exactly one nvidia-smi; when all have left, none runs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'moebench-shared-smi-'));
  const smi = smiCluster();
  const session = new Session({ notebookPath: join(dir, 'nb.moebench'), toolVersion: 'test' });
  session.clusters.set('lab', smi.cluster, 'cluster');
  const deployment: DeploymentHandle = { name: 'ds', clusterName: 'lab', engine: 'sglang', simulated: true, endpoint: async () => 'http://127.0.0.1:1', servers: async () => [], commands: [{ node: 'gpu-001', argv: ['python3'], env: {} }] };
  session.deployments.set('ds', deployment, 'deploy');
  const tree = new GpuTreeData({ cluster: smi.cluster, nodes: ['gpu-001'], streams: session.gpuStreams });
  const monitorStop = new AbortController();
  const benchStop = new AbortController();
  try {
    // 1. the Cluster view is open
    tree.setVisible(true);
    await until(() => smi.count('gpu-001') === 1, 'the view starts a stream');

    // 2. a monitor cell watching that node, until stopped
    const mon = cellContext(session, 'mon', 'moebench-monitor', monitorStop.signal);
    const monitorRun = new MonitorCellExecutor().execute('name: mon\ncluster: lab\nnodes: [gpu-001]\nwatch: [gpus]\n', mon.ctx);
    await until(() => mon.events.some((e) => e.kind === 'doc'), 'the monitor is live');

    // 3. a bench cell with `collect: [gpus]` on the deployment on that node
    const bench = cellContext(session, 'bench', 'moebench-bench', benchStop.signal);
    const benchTelemetry = await BenchTelemetry.start(['gpus'], deployment, bench.ctx);
    benchTelemetry.stepStarted(0, 'concurrency=1', undefined);

    assert.equal(smi.count('gpu-001'), 1, 'one nvidia-smi on the node for three watchers');
    assert.equal(smi.started.length, 1, 'no second stream was ever started');
    assert.equal(smi.count('gpu-002'), 0, 'nobody watches gpu-002');

    // every watcher sees the ticks of that one stream
    smi.feed('gpu-001', STREAM);
    await until(() => tree.rows('gpu-001').length === 2, 'the view shows the GPUs');
    assert.equal(tree.rows('gpu-001')[0].name, 'NVIDIA H200');

    // the view closes: the cells still watch, the stream goes on
    tree.setVisible(false);
    await settle();
    assert.equal(smi.count('gpu-001'), 1);

    // the monitor is stopped: its final log counts the ticks it got from the shared stream
    monitorStop.abort();
    await monitorRun;
    const monitorLog = mon.events.filter((e): e is Extract<CellEvent, { kind: 'log' }> => e.kind === 'log').map((e) => e.text).join('');
    assert.match(monitorLog, /mon: 39 GPU samples/);
    assert.equal(smi.count('gpu-001'), 1, 'the bench still collects');

    // the bench ends: the last subscriber leaves and the stream stops
    const result = await benchTelemetry.stop([100], 0, undefined);
    const title = telemetryBlocks(result, ['concurrency=1'])[0];
    assert.equal(title.type === 'table' ? title.title : '', 'Telemetry: 2 GPUs, 39 GPU samples, 0 server scrapes');
    assert.equal(smi.count('gpu-001'), 0, 'no nvidia-smi left on the node');
    assert.deepEqual(session.gpuStreams.activeNodes(smi.cluster), []);
    assert.equal(smi.most(), 1, 'never two at once');
  } finally {
    monitorStop.abort();
    benchStop.abort();
    await tree.dispose();
    await session.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a crashed stream is restarted once, after the backoff, for all its watchers', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  const smi = smiCluster();
  const streams = new GpuStreamRegistry({ restartDelayMs: 1000 });
  const notices: TelemetryNotice[][] = [[], [], []];
  const subs = notices.map((list) => streams.subscribe(smi.cluster, 'gpu-001', { intervalMs: 1000, onSample: () => undefined, onNotice: (n) => list.push(n) }));
  try {
    await until(() => smi.count('gpu-001') === 1, 'the stream runs');
    smi.crash('gpu-001');
    await until(() => notices.every((l) => l.length === 1), 'every watcher is told');
    assert.equal(smi.count('gpu-001'), 0, 'nothing runs during the backoff');
    for (const l of notices) assert.match(l[0].message, /nvidia-smi on gpu-001 stopped .*could not communicate with the NVIDIA driver\.; restarting in 1 s/);
    mock.timers.tick(999);
    await settle();
    assert.equal(smi.started.length, 1, 'no restart before the backoff');
    mock.timers.tick(1);
    await until(() => smi.count('gpu-001') === 1, 'restarted');
    assert.equal(smi.started.length, 2, 'one restart for three watchers (one loop)');
    assert.equal(smi.most(), 1);
  } finally {
    await Promise.all(subs.map((s) => s.dispose()));
    await streams.dispose();
    mock.timers.reset();
  }
  assert.equal(smi.count('gpu-001'), 0);
});

test('watchers with different intervals: the stream runs at the finest, a coarser watcher gets every k-th tick, and it slows down again when the fast one leaves', async () => {
  const smi = smiCluster();
  const streams = new GpuStreamRegistry();
  const slow: GpuSample[] = [];
  const fast: GpuSample[] = [];
  const a = streams.subscribe(smi.cluster, 'gpu-001', { intervalMs: 1000, onSample: (s) => slow.push(s) });
  try {
    await until(() => smi.count('gpu-001') === 1, 'the stream runs');
    const lms = () => smi.started[smi.started.length - 1].argv.at(-1);
    assert.equal(lms(), '1000');
    const b = streams.subscribe(smi.cluster, 'gpu-001', { intervalMs: 500, onSample: (s) => fast.push(s) });
    await until(() => smi.started.length === 2 && smi.count('gpu-001') === 1, 'restarted at 500 ms');
    assert.equal(lms(), '500');
    smi.feed('gpu-001', STREAM);
    assert.equal(fast.length, 39, 'the fast watcher gets every tick');
    assert.equal(slow.length, 20, 'the 1 s watcher gets every second tick (ticks 1, 3, ... 39)');
    await b.dispose();
    await until(() => smi.started.length === 3 && smi.count('gpu-001') === 1, 'back to 1 s');
    assert.equal(lms(), '1000');
    assert.equal(smi.most(), 1, 'a retune stops the old stream before the new one starts');
  } finally {
    await a.dispose();
    await streams.dispose();
  }
  assert.equal(smi.count('gpu-001'), 0);
});

test('replacing a cluster (its cell run again) stops its streams; the view cannot start them again', async () => {
  const smi = smiCluster();
  const session = new Session({ notebookPath: join(tmpdir(), 'nb-replace.moebench'), toolVersion: 'test' });
  session.clusters.set('lab', smi.cluster, 'cluster');
  const tree = new GpuTreeData({ cluster: smi.cluster, streams: session.gpuStreams });
  try {
    tree.setVisible(true);
    await until(() => smi.count('gpu-001') === 1 && smi.count('gpu-002') === 1, 'one stream per node');
    const again = smiCluster();
    session.clusters.set('lab', again.cluster, 'cluster');
    await until(() => smi.count('gpu-001') === 0 && smi.count('gpu-002') === 0, 'the old cluster\'s streams end');
    tree.setVisible(false);
    tree.setVisible(true);
    await settle();
    assert.equal(smi.started.length, 2, 'nothing new on the replaced cluster');
  } finally {
    await tree.dispose();
    await session.dispose();
  }
});
