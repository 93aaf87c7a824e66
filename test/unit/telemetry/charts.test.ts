import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { balancednessPlot, expertHeatmapPlot } from '../../../src/core/telemetry/charts/expert-charts';
import { gpuHeatmapPlot, gpuSmallMultiplesPlot, gpuTimelinePlot } from '../../../src/core/telemetry/charts/gpu-charts';
import { serverQueuesPlot } from '../../../src/core/telemetry/charts/server-charts';
import { lttb, minMaxBuckets } from '../../../src/core/telemetry/downsample';
import { expertSnapshot } from '../../../src/core/telemetry/experts/load';
import type { GpuSample, PhaseMarker } from '../../../src/core/telemetry/schema';
import { GpuSeriesStore, ServerSeriesStore } from '../../../src/core/telemetry/series';

function fleet(nodes: number, gpusPerNode: number, seconds: number): GpuSeriesStore {
  const store = new GpuSeriesStore();
  for (let t = 0; t < seconds; t++) {
    for (let n = 0; n < nodes; n++) {
      const s: GpuSample = { kind: 'gpu', tsMs: 1_000_000 + t * 1000, node: `node${n}`, gpus: [] };
      for (let i = 0; i < gpusPerNode; i++) {
        // node 3 GPU 5 drops to 0 % for one second at t=1234: a stall the charts must not hide
        const util = n === 3 && i === 5 && t === 1234 ? 0 : 90 + ((t + i) % 10);
        s.gpus.push({ index: i, utilGpuPct: util, memUsedMiB: 100_000, powerW: 600 + i });
      }
      store.add(s);
    }
  }
  return store;
}

test('min/max buckets keep a one-second stall in an hour of busy samples', () => {
  const x = Array.from({ length: 3600 }, (_, i) => i);
  const y = x.map((i) => (i === 1234 ? 0 : 95));
  const d = minMaxBuckets(x, y, 150);
  assert.ok(d.x.length <= 302);
  assert.ok(d.y.includes(0));
  assert.deepEqual([d.x[0], d.x[d.x.length - 1]], [0, 3599]);
  for (let i = 1; i < d.x.length; i++) assert.ok(d.x[i] > d.x[i - 1], 'time order kept');
});

test('LTTB keeps first, last and the peak, and drops missing values', () => {
  const x = Array.from({ length: 1000 }, (_, i) => i);
  const y = x.map((i) => (i === 500 ? 1000 : i === 10 ? NaN : Math.sin(i / 50)));
  const d = lttb(x, y, 100);
  assert.equal(d.x.length, 100);
  assert.equal(d.x[0], 0);
  assert.equal(d.x[99], 999);
  assert.ok(d.y.includes(1000));
  assert.ok(d.y.every(Number.isFinite));
});

test('96 GPUs × 1 hour: the heatmap is one trace of 96 rows, JSON stays small, and the stall shows', () => {
  const store = fleet(12, 8, 3600);
  const plot = gpuHeatmapPlot(store, 'util', 'gpu-heat', { timeBuckets: 3600 });
  assert.equal(plot.data.length, 1);
  const trace = plot.data[0] as { type: string; z: (number | null)[][]; y: string[] };
  assert.equal(trace.type, 'heatmap');
  assert.equal(trace.y.length, 96);
  assert.equal(trace.y[3 * 8 + 5], 'node3/5');
  assert.ok(trace.z[3 * 8 + 5].includes(0), 'the 1-second stall is visible at 1 s resolution');
  const size = JSON.stringify(plot).length;
  assert.ok(size < 2_500_000, `heatmap JSON ${size} bytes`);
  const coarse = gpuHeatmapPlot(store, 'util', 'gpu-heat', { timeBuckets: 300 });
  assert.equal((coarse.data[0] as { z: unknown[][] }).z[0].length, 300);
});

test('timeline plot: util/mem/power panels, WebGL lines, at most maxPoints per series', () => {
  const store = fleet(1, 4, 3600);
  const plot = gpuTimelinePlot(store, 'gpus', { maxPointsPerSeries: 400 });
  assert.equal(plot.data.length, 12);
  for (const t of plot.data as { type: string; x: number[] }[]) {
    assert.equal(t.type, 'scattergl');
    assert.ok(t.x.length <= 400);
  }
  assert.deepEqual(plot.data.map((t) => t.yaxis), ['y', 'y2', 'y3', 'y', 'y2', 'y3', 'y', 'y2', 'y3', 'y', 'y2', 'y3']);
  const multiples = gpuSmallMultiplesPlot(store, 'power', 'pw');
  assert.equal(multiples.data.length, 4);
  assert.equal((multiples.layout as Record<string, unknown>).yaxis4 !== undefined, true);
});

test('phase markers become shaded bands with step labels', () => {
  const store = fleet(1, 1, 100);
  const t0 = 1_000_000;
  const phases: PhaseMarker[] = [
    { kind: 'phase', tsMs: t0, phase: 'warmup', edge: 'start' },
    { kind: 'phase', tsMs: t0 + 10_000, phase: 'warmup', edge: 'end' },
    { kind: 'phase', tsMs: t0 + 10_000, phase: 'step', edge: 'start', step: 0, label: 'c=8' },
    { kind: 'phase', tsMs: t0 + 50_000, phase: 'step', edge: 'end', step: 0 },
    { kind: 'phase', tsMs: t0 + 50_000, phase: 'step', edge: 'start', step: 1 },
  ];
  const layout = gpuTimelinePlot(store, 'g', { phases, t0Ms: t0 }).layout as { shapes: { x0: number; x1: number }[]; annotations: { text: string }[] };
  assert.deepEqual(layout.shapes.map((s) => [s.x0, s.x1]), [[0, 10], [10, 50], [50, 99]]);
  assert.deepEqual(layout.annotations.map((a) => a.text), ['warmup', 'c=8', 'step 2']);
});

test('server queues plot: KV usage in %, PD queue panel only when the server reports PD queues', () => {
  const store = new ServerSeriesStore();
  for (let i = 0; i < 5; i++) {
    store.add({ kind: 'server', tsMs: i * 1000, endpoint: 'decode', backend: 'sglang', windowSec: 1, rankSeries: 2, tokenUsage: 0.5, runningReqs: 10, queuedReqs: 1, pd: { decodeTransferQueueReqs: i } });
  }
  const plot = serverQueuesPlot(store, 'q');
  const names = plot.data.map((t) => t.name);
  assert.ok(names.includes('decode KV usage %'));
  assert.ok(names.includes('decode decode transfer queue'));
  assert.deepEqual((plot.data[0] as { y: number[] }).y, [50, 50, 50, 50, 50]);
  assert.ok((plot.layout as Record<string, unknown>).yaxis3);
});

test('expert heatmap shows each expert as a multiple of its fair share; balancedness plot compares snapshots', () => {
  const logical = [
    [5, 5, 5, 5],
    [10, 2, 2, 2],
  ];
  const before = expertSnapshot({ mode: 'stat', logicalCount: logical }, { epSize: 2, label: 'before', endpoint: 'd', tsMs: 0 });
  const heat = expertHeatmapPlot(before, 'eh');
  assert.deepEqual((heat.data[0] as { z: number[][] }).z, [[1, 1, 1, 1], [2.5, 0.5, 0.5, 0.5]]);
  const after = expertSnapshot({ mode: 'stat', logicalCount: logical, physicalToLogicalMap: [[0, 1, 2, 3], [0, 2, 1, 3]] }, { epSize: 2, label: 'after', endpoint: 'd', tsMs: 1 });
  const bal = balancednessPlot([before, after], 'b');
  assert.equal(bal.data.length, 4);
  assert.match(String(bal.data[0].name), /^before \(mean 0\.8\d\d\)$/);
});
