import { test, mock, beforeEach, afterEach } from 'node:test';
import * as assert from 'node:assert/strict';
import type { ExecOptions, ExecResult } from '../../../src/core/launch/types';
import { GpuTreeData } from '../../../src/extension/views/gpu-tree-data';
import { fakeCluster, fixture, untilAborted } from '../telemetry/helpers';

const NODES = [
  { name: 'gpu-001', address: '10.0.0.1', gpus: 2 },
  { name: 'gpu-002', address: '10.0.0.2', gpus: 2 },
];
const STREAM = fixture('nvidia-smi/h200x2/query-load-stream.csv');
const QXML = fixture('nvidia-smi/h200x2/q.xml');
const APPS = fixture('nvidia-smi/h200x2/apps.csv');
const ok = (stdout: string): ExecResult => ({ exitCode: 0, signal: null, stdout, stderr: '' });

/** nvidia-smi on a fake cluster: -q -x and compute apps answer from the H200 captures; streams are fed by the test. */
function smiCluster(nodes = NODES, missingOn: string[] = []) {
  const streams = new Map<string, ExecOptions[]>();
  const cluster = fakeCluster(nodes, async (node, argv, options) => {
    if (missingOn.includes(node)) return { exitCode: 127, signal: null, stdout: '', stderr: 'sh: 1: nvidia-smi: not found' };
    if (argv.includes('-lms')) {
      streams.set(node, [...(streams.get(node) ?? []), options]);
      return untilAborted(options.signal);
    }
    if (argv.includes('-x')) return ok(QXML);
    if (argv.some((a) => a.startsWith('--query-compute-apps'))) return ok(APPS);
    return { exitCode: 2, signal: null, stdout: '', stderr: 'unexpected' };
  });
  const live = (node: string) => {
    const list = streams.get(node) ?? [];
    return list.filter((o) => !o.signal?.aborted);
  };
  const feed = (node: string, text: string) => {
    for (const o of live(node)) o.onStdout?.(text);
  };
  return { cluster, streams, live, feed };
}

const settle = () => new Promise((r) => setImmediate(r));

beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }));
afterEach(() => mock.timers.reset());

test('each node lists its GPUs from the real H200 stream, named from -q -x, refreshed at most once a second', async () => {
  const { cluster, feed } = smiCluster();
  const data = new GpuTreeData({ cluster });
  const changes: string[][] = [];
  data.onChange((nodes) => changes.push([...nodes].sort()));
  try {
    assert.equal(data.status('gpu-001').state, 'stale', 'nothing runs while the view is hidden');
    data.setVisible(true);
    await settle();
    assert.equal(data.status('gpu-001').state, 'waiting');
    feed('gpu-001', STREAM);
    feed('gpu-002', STREAM);
    await settle();
    // 39 ticks per node and two inventories arrived: one change now, the rest wait for the second to pass
    assert.equal(changes.length, 1);
    mock.timers.tick(999);
    assert.equal(changes.length, 1);
    mock.timers.tick(1);
    assert.equal(changes.length, 2);
    assert.deepEqual(changes[1], ['gpu-001', 'gpu-002']);

    const rows = data.rows('gpu-001');
    assert.equal(rows.length, 2, 'the GPU count comes from nvidia-smi');
    assert.deepEqual(rows[0], { index: 0, name: 'NVIDIA H200', utilPct: 100, memUsedMiB: 42099, memTotalMiB: 143771, tempC: 61, powerW: 689.84, warnings: [] });
    assert.equal(rows[1].utilPct, 0);
    assert.equal(data.status('gpu-002').state, 'live');
    mock.timers.tick(10_000);
    assert.equal(changes.length, 2, 'no new samples, no refresh');
  } finally {
    await data.dispose();
  }
});

test('hiding the view stops the streams; showing it again starts exactly one stream per node', async () => {
  const { cluster, streams, live } = smiCluster();
  const data = new GpuTreeData({ cluster });
  try {
    data.setVisible(true);
    data.setVisible(true);
    await settle();
    assert.deepEqual(NODES.map((n) => live(n.name).length), [1, 1]);
    data.setVisible(false);
    await settle();
    assert.deepEqual(NODES.map((n) => live(n.name).length), [0, 0], 'hidden: no nvidia-smi left running');
    data.setVisible(true);
    await settle();
    await settle();
    assert.deepEqual(NODES.map((n) => live(n.name).length), [1, 1]);
    assert.deepEqual(NODES.map((n) => streams.get(n.name)?.length), [2, 2]);
  } finally {
    await data.dispose();
  }
  assert.deepEqual(NODES.map((n) => live(n.name).length), [0, 0], 'dispose ends every stream');
});

// DEFAULT_STREAM_FIELDS order (no header): index, util, mem util, mem used, mem total, power,
// power limit, temp, mem temp, sm clock, mem clock, pstate, clock event mask, ecc uncorrected
const line = (i: number, o: { memUsedMiB?: number; tempC?: number; mask?: string; ecc?: number } = {}) =>
  `${i}, 90, 20, ${o.memUsedMiB ?? 42000}, 143771, 650.00, 700.00, ${o.tempC ?? 60}, 70, 1755, 3201, P0, ${o.mask ?? '0x0000000000000004'}, ${o.ecc ?? 0}\n`;

test('warnings: hot, thermal slowdown, ECC errors; a power-capped busy GPU is not flagged', async () => {
  const { cluster, feed } = smiCluster([NODES[0]]);
  const data = new GpuTreeData({ cluster });
  try {
    data.setVisible(true);
    await settle();
    feed('gpu-001', line(0) + line(1, { tempC: 88 }) + line(2, { mask: '0x0000000000000040' }) + line(3, { ecc: 2 }) + line(0));
    await settle();
    const w = data.rows('gpu-001').map((r) => r.warnings);
    assert.deepEqual(w, [[], ['hot'], ['hot', 'throttled'], ['ecc']]);
  } finally {
    await data.dispose();
  }
});

test('memory still held after a stop marks the GPU with the process holding it, until the memory is freed', async () => {
  const { cluster, feed } = smiCluster([NODES[0]]);
  const data = new GpuTreeData({ cluster });
  try {
    data.setVisible(true);
    await settle();
    feed('gpu-001', line(0) + line(1, { memUsedMiB: 4 }) + line(0));
    await settle();
    const found = await data.checkHeldMemory(['gpu-001']);
    assert.equal(found.get('gpu-001')?.length, 1);
    const rows = data.rows('gpu-001');
    assert.deepEqual(rows[0].warnings, ['memory-held-after-stop']);
    assert.deepEqual(rows[0].heldBy, [{ pid: 574, processName: 'python3', usedMemMiB: 42090 }]);
    assert.deepEqual(rows[1].warnings, []);
    feed('gpu-001', line(1, { memUsedMiB: 4 }) + line(0, { memUsedMiB: 0 }) + line(1, { memUsedMiB: 4 }));
    await settle();
    assert.deepEqual(data.rows('gpu-001')[0].warnings, [], 'freed: the warning goes');
  } finally {
    await data.dispose();
  }
});

test('a node without nvidia-smi says so instead of waiting forever; the other nodes still stream', async () => {
  const { cluster, feed } = smiCluster(NODES, ['gpu-002']);
  const data = new GpuTreeData({ cluster });
  try {
    data.setVisible(true);
    await settle();
    await settle();
    feed('gpu-001', STREAM);
    await settle();
    const s = data.status('gpu-002');
    assert.equal(s.state, 'unavailable');
    assert.match(s.state === 'unavailable' ? s.message : '', /not installed on gpu-002/);
    assert.equal(data.rows('gpu-001').length, 2);
  } finally {
    await data.dispose();
  }
});
