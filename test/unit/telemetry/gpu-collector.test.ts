import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { GpuCollector, type TelemetryNotice } from '../../../src/core/telemetry/gpu/collector';
import type { GpuSample } from '../../../src/core/telemetry/schema';
import { chunk, fakeCluster, fixture, untilAborted } from './helpers';

// the fields the h200x4 stream capture was taken with
const X4_FIELDS = [
  'index', 'uuid', 'name', 'pci.bus_id', 'memory.total', 'memory.used', 'utilization.gpu', 'utilization.memory',
  'temperature.gpu', 'temperature.memory', 'power.draw', 'power.limit', 'enforced.power.limit', 'clocks.current.sm',
  'clocks.current.memory', 'clocks_throttle_reasons.active', 'clocks_throttle_reasons.sw_power_cap',
  'clocks_throttle_reasons.hw_slowdown', 'pcie.link.gen.current', 'pcie.link.width.current', 'pstate',
  'ecc.errors.uncorrected.volatile.total', 'retired_pages.pending',
];

const NODES = [
  { name: 'node-a', address: '10.0.0.1', gpus: 4 },
  { name: 'node-b', address: '10.0.0.2', gpus: 4 },
];

test('one long-lived nvidia-smi -lms per node; samples stream in; dispose stops every stream', async () => {
  const stream = fixture('nvidia-smi/h200x4/query-load-stream.csv');
  const cluster = fakeCluster(NODES, async (_node, _argv, options) => {
    for (const piece of chunk(stream, 7, 200)) options.onStdout?.(piece);
    return untilAborted(options.signal);
  });
  const samples: GpuSample[] = [];
  const collector = new GpuCollector({ cluster, nodes: ['node-a', 'node-b'], intervalMs: 500, fields: X4_FIELDS, onSample: (s) => samples.push(s) });
  collector.start();
  await new Promise((r) => setImmediate(r));
  assert.equal(cluster.calls.length, 2, 'exactly one command per node');
  const argv = cluster.calls[0].argv;
  assert.equal(argv[0], 'nvidia-smi');
  assert.ok(argv.includes('-lms') && argv[argv.indexOf('-lms') + 1] === '500');
  assert.ok(argv.includes('--format=csv,noheader,nounits'));
  // h200x4 stream has 19 ticks; once the GPU count is learned, even the last one is out before the stream ends
  assert.equal(samples.filter((s) => s.node === 'node-a').length, 19);
  assert.equal(collector.latest('node-b')?.gpus.length, 4);
  await collector.dispose();
  assert.equal(samples.filter((s) => s.node === 'node-b').length, 19);
  assert.equal(cluster.calls.length, 2, 'no restart after dispose');
});

test('a field this driver does not know is dropped and the stream restarted without it', async () => {
  const notices: TelemetryNotice[] = [];
  const cluster = fakeCluster([NODES[0]], async (_node, argv, options) => {
    const query = argv.find((a) => a.startsWith('--query-gpu=')) ?? '';
    if (query.includes('temperature.memory')) {
      options.onStdout?.('Field "temperature.memory" is not a valid field to query.\n\n');
      return { exitCode: 2, signal: null, stdout: '', stderr: '' };
    }
    options.onStdout?.('0, 55\n0, 56\n');
    return untilAborted(options.signal);
  });
  const samples: GpuSample[] = [];
  const collector = new GpuCollector({
    cluster,
    nodes: ['node-a'],
    intervalMs: 1000,
    fields: ['index', 'temperature.memory', 'utilization.gpu'],
    onSample: (s) => samples.push(s),
    onNotice: (n) => notices.push(n),
  });
  collector.start();
  await new Promise((r) => setTimeout(r, 10));
  await collector.dispose();
  assert.equal(cluster.calls.length, 2);
  assert.equal(cluster.calls[1].argv[1], '--query-gpu=index,utilization.gpu');
  assert.match(notices[0].message, /does not know temperature\.memory/);
  assert.deepEqual(samples.map((s) => s.gpus[0].utilGpuPct), [55, 56]);
});

test('a node without nvidia-smi gets one clear error and no restarts; a crash is restarted with backoff', async () => {
  const notices: TelemetryNotice[] = [];
  let crashes = 0;
  const cluster = fakeCluster(NODES, async (node, _argv, options) => {
    if (node === 'node-a') return { exitCode: 127, signal: null, stdout: '', stderr: 'sh: 1: nvidia-smi: not found\n' };
    crashes++;
    if (crashes === 1) return { exitCode: 255, signal: null, stdout: '', stderr: 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.\n' };
    return untilAborted(options.signal);
  });
  const collector = new GpuCollector({ cluster, nodes: ['node-a', 'node-b'], intervalMs: 1000, restartDelayMs: 5, onSample: () => undefined, onNotice: (n) => notices.push(n) });
  collector.start();
  await new Promise((r) => setTimeout(r, 50));
  await collector.dispose();
  assert.equal(cluster.calls.filter((c) => c.node === 'node-a').length, 1);
  assert.equal(cluster.calls.filter((c) => c.node === 'node-b').length, 2);
  const a = notices.find((n) => n.node === 'node-a');
  assert.equal(a?.level, 'error');
  assert.match(a?.message ?? '', /not installed on node-a/);
  const b = notices.find((n) => n.node === 'node-b');
  assert.match(b?.message ?? '', /could not communicate with the NVIDIA driver.*restarting/);
});
