import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { DeepTelemetryState } from '../../../src/core/telemetry/deep/state';
import { nicHeatmapPlot, nicNodePlot, nvlinkHeatmapPlot } from '../../../src/core/telemetry/charts/deep-bandwidth';
import { rankQueuesPlot, rankTokenUsagePlot, SMALL_MULTIPLES_MAX_RANKS } from '../../../src/core/telemetry/charts/deep-sched';
import { activityVsThroughputPlot } from '../../../src/core/telemetry/charts/deep-activity';
import { parseTelemetryJsonl } from '../../../src/core/telemetry/recorder';
import type { PhaseMarker, TelemetryRecord } from '../../../src/core/telemetry/schema';

const T0 = 1_700_000_000_000;

function run(ranks: number, seconds: number): DeepTelemetryState {
  const s = new DeepTelemetryState();
  for (let t = 0; t < seconds; t++) {
    const tsMs = T0 + t * 1000;
    for (const node of ['node2', 'node10']) {
      s.add({ kind: 'gpu-deep', tsMs, node, source: 'dcgm', gpus: [0, 1].map((index) => ({ index, smActivePct: 70, tensorActivePct: 40, nvlinkTxGBps: 100 + index, nvlinkRxGBps: 90 })) });
      // node10 NIC 1 goes quiet at t = 30: a stalled rail must show in the heatmap
      s.add({ kind: 'nic', tsMs, node, intervalSec: 1, nics: [0, 1].map((i) => ({ device: `mlx5_${i}`, port: 1, txGbps: node === 'node10' && i === 1 && t >= 30 ? 0 : 200, rxGbps: 180, gpus: [`GPU${i}`] })), txGbps: 400, rxGbps: 360 });
    }
    for (let r = 0; r < ranks; r++) s.add({ kind: 'sched', tsMs, endpoint: 'decode-0', event: 'decode', rank: { dp: r, tp: r }, runningReqs: 10 + r, queueReqs: t > 40 ? 5 : 0, tokenUsage: 0.5, genThroughputTokPerSec: 300, preallocQueueReqs: 1, transferQueueReqs: 2 });
  }
  return s;
}

const phases: PhaseMarker[] = [
  { kind: 'phase', tsMs: T0 + 5000, phase: 'step', edge: 'start', step: 0, label: 'concurrency 64' },
  { kind: 'phase', tsMs: T0 + 50_000, phase: 'step', edge: 'end', step: 0 },
];

test('NIC heatmap has one row per NIC, labelled with its GPUs, nodes in natural order; the stalled rail reads 180', () => {
  const p = nicHeatmapPlot(run(2, 60), 'nic', { t0Ms: T0, phases, epSize: 16, timeBuckets: 60 });
  assert.ok(p);
  const trace = p.data[0] as { y: string[]; z: (number | null)[][] };
  assert.deepEqual(trace.y, ['node2/mlx5_0:1 (GPU0)', 'node2/mlx5_1:1 (GPU1)', 'node10/mlx5_0:1 (GPU0)', 'node10/mlx5_1:1 (GPU1)']);
  assert.equal(trace.z[3][trace.z[3].length - 1], 180, 'TX gone, RX left');
  assert.equal(trace.z[0][trace.z[0].length - 1], 380);
  assert.match(p.title ?? '', /EP16/);
  assert.equal((p.layout?.shapes as unknown[]).length, 1, 'the sweep step is shaded');
});

test('NVLink heatmap and per-node network lines', () => {
  const s = run(2, 20);
  const nv = nvlinkHeatmapPlot(s, 'nv', { t0Ms: T0 });
  assert.ok(nv);
  assert.deepEqual((nv.data[0] as { y: string[] }).y, ['node2/0', 'node2/1', 'node10/0', 'node10/1']);
  assert.equal((nv.data[0] as { z: number[][] }).z[1][0], 191);
  const lines = nicNodePlot(s, 'nodes', { t0Ms: T0 });
  assert.deepEqual(lines?.data.map((d) => d.name), ['node2 TX', 'node2 RX', 'node10 TX', 'node10 RX']);
  assert.equal(nvlinkHeatmapPlot(new DeepTelemetryState(), 'x'), undefined, 'no data, no chart');
});

test('per-rank queues: small multiples with PD queues for few ranks, a heatmap for many', () => {
  const few = rankQueuesPlot(run(4, 60), 'q', { t0Ms: T0 });
  assert.ok(few);
  assert.deepEqual(((few.layout?.annotations ?? []) as { text: string }[]).map((a) => a.text), ['decode-0 DP0', 'decode-0 DP1', 'decode-0 DP2', 'decode-0 DP3']);
  assert.deepEqual([...new Set(few.data.map((d) => d.name))], ['running', 'queued', 'prealloc queue', 'transfer queue']);
  const queued = few.data.find((d) => d.name === 'queued' && d.yaxis === 'y4') as { y: number[] };
  assert.equal(queued.y[queued.y.length - 1], 5);
  const many = rankQueuesPlot(run(SMALL_MULTIPLES_MAX_RANKS + 8, 10), 'q');
  assert.equal(many?.data[0].type, 'heatmap');
  assert.equal((many?.data[0] as { y: string[] }).y[10], 'decode-0 DP10');
  const kv = rankTokenUsagePlot(run(2, 10), 'kv', { t0Ms: T0 });
  assert.deepEqual((kv?.data[0] as { y: number[] }).y.slice(0, 2), [50, 50]);
});

test('activity vs throughput: mean SM/tensor activity and the summed generation throughput of all ranks', () => {
  const p = activityVsThroughputPlot(run(3, 10), 'a', { t0Ms: T0 });
  assert.ok(p);
  const thr = p.data.find((d) => d.yaxis === 'y2') as { y: number[] };
  assert.equal(thr.y[0], 900);
  assert.equal((p.data[0] as { y: number[] }).y[0], 70);
});

test('deep records survive telemetry.jsonl; older readers would skip them as unknown kinds', () => {
  const s = run(1, 1);
  const recs: TelemetryRecord[] = [{ kind: 'nic', tsMs: T0, node: 'n', intervalSec: 1, nics: [], txGbps: 0, rxGbps: 0 }, { kind: 'sched', tsMs: T0, endpoint: 'd', event: 'decode', rank: {}, queueReqs: 1 }];
  const parsed = parseTelemetryJsonl(recs.map((r) => JSON.stringify(r)).join('\n'));
  assert.equal(parsed.records.length, 2);
  assert.equal(parsed.skippedUnknown, 0);
  assert.equal(s.counts.sched, 1);
});
