import { test, mock } from 'node:test';
import * as assert from 'node:assert/strict';
import type { PlotBlock } from '../../../src/core/output/doc';
import { compactPlot, svgWhenSmall, TelemetryState, telemetryCharts } from '../../../src/core/telemetry/live-charts';
import { Throttle } from '../../../src/core/util/timing';
import type { GpuSample, ServerSample } from '../../../src/core/telemetry/schema';

const T0 = 1_700_000_000_000;

function fleet(nodes: number, gpusPerNode: number, seconds: number): TelemetryState {
  const state = new TelemetryState();
  for (let t = 0; t < seconds; t++) {
    for (let n = 0; n < nodes; n++) {
      const s: GpuSample = { kind: 'gpu', tsMs: T0 + t * 1000 + 0.123, node: `node${n + 1}`, gpus: [] };
      for (let i = 0; i < gpusPerNode; i++) {
        // node 4 GPU 5 stalls for a second at t=1234
        const util = n === 3 && i === 5 && t === 1234 ? 0 : 80 + ((t * 7 + i * 3) % 20);
        s.gpus.push({ index: i, utilGpuPct: util, memUsedMiB: 120_000 + ((t + i) % 300) * 3.3, memTotalMiB: 143_771, powerW: 500 + ((t + i) % 190) * 1.07 });
      }
      state.add(s);
    }
  }
  return state;
}

const ids = (plots: PlotBlock[]) => plots.map((p) => p.id);

test('96 GPUs for an hour: GPU × time heatmaps plus one small panel per node, and the final doc stays small enough for a notebook', () => {
  const state = fleet(12, 8, 3600);
  const live = telemetryCharts(state, { idPrefix: 'mon', t0Ms: T0 });
  assert.deepEqual(ids(live), ['mon-gpu-util-heat', 'mon-gpu-nodes']);
  const heat = live[0].data[0] as { type: string; y: string[]; z: (number | null)[][] };
  assert.equal(heat.type, 'heatmap');
  assert.equal(heat.y.length, 96);
  const nodes = live[1];
  assert.equal(nodes.data.length, 96, 'one line per GPU');
  assert.ok(nodes.data.every((t) => t.type === 'scatter'), 'downsampled lines are drawn as SVG (no WebGL context used)');
  const axes = Object.keys(nodes.layout ?? {}).filter((k) => /^xaxis\d*$/.test(k));
  assert.equal(axes.length, 12, 'one panel per node, not per GPU');
  const node4 = nodes.data.find((t) => t.name === 'node4/5') as { y: number[] };
  assert.ok(node4.y.includes(0), 'the one-second stall survives downsampling');

  const final = telemetryCharts(state, { idPrefix: 'mon', t0Ms: T0, final: true });
  assert.deepEqual(ids(final), [...ids(live), 'mon-gpu-mem-heat'], 'final charts keep the live ids (updated in place) and add the memory heatmap');
  const finalBytes = JSON.stringify(final).length;
  assert.ok(finalBytes < 350_000, `final charts ${finalBytes} bytes`);
  const liveNodes = JSON.stringify(live[1]).length;
  const finalNodes = JSON.stringify(final[1]).length;
  assert.ok(finalNodes < liveNodes * 0.6, `final per-node lines ${finalNodes} vs live ${liveNodes} bytes`);
});

test('a single 8-GPU node gets one line per GPU for utilization, memory and power', () => {
  const state = fleet(1, 8, 120);
  const plots = telemetryCharts(state, { idPrefix: 'm' });
  assert.deepEqual(ids(plots), ['m-gpus']);
  assert.equal(plots[0].data.length, 24);
});

test('charts keep WebGL only when they carry many points', () => {
  const long = Array.from({ length: 80_000 }, (_, i) => i);
  const big = svgWhenSmall({ type: 'plot', id: 'a', data: [{ type: 'scattergl', x: long, y: long }] });
  assert.equal(big.data[0].type, 'scattergl');
  const small = svgWhenSmall({ type: 'plot', id: 'b', data: [{ type: 'scattergl', x: [1, 2], y: [1, 2] }, { type: 'heatmap', z: [[1]] }] });
  assert.deepEqual(small.data.map((t) => t.type), ['scatter', 'heatmap']);
});

test('server samples add the KV cache / queues chart and the latency chart; expert snapshots add heatmap and balancedness', () => {
  const state = new TelemetryState();
  for (let t = 0; t < 30; t++) {
    const s: ServerSample = { kind: 'server', tsMs: T0 + t * 1000, endpoint: 'decode-0', backend: 'sglang', windowSec: 5, rankSeries: 8, runningReqs: t, queuedReqs: 0, tokenUsage: t / 30, genTokensPerSec: 100 * t };
    state.add(s);
  }
  state.add({ kind: 'experts', tsMs: T0, endpoint: 'decode-0', label: 'before', epSize: 2, numLayers: 2, numLogicalExperts: 4, logicalCount: [[1, 2, 3, 4], [4, 3, 2, 1]], gpuLoad: [[3, 7], [7, 3]], balancednessPerLayer: [0.71, 0.71], balancednessMean: 0.71, layoutApproximate: true });
  state.add({ kind: 'experts', tsMs: T0 + 9, endpoint: 'decode-0', label: 'after', epSize: 2, numLayers: 2, numLogicalExperts: 4, logicalCount: [[2, 3, 2, 3], [3, 2, 3, 2]], gpuLoad: [[5, 5], [5, 5]], balancednessPerLayer: [1, 1], balancednessMean: 1, layoutApproximate: true });
  const plots = telemetryCharts(state, { idPrefix: 'x' });
  assert.deepEqual(ids(plots), ['x-kv-queues', 'x-server-latency', 'x-experts-heat', 'x-experts-gpu', 'x-experts-balance']);
  const kv = plots[0].data.find((t) => String(t.name).includes('KV usage')) as { y: number[] };
  assert.ok(Math.abs(Math.max(...kv.y) - (29 / 30) * 100) < 0.1, "KV usage in percent");
  assert.equal(plots[4].data.filter((t) => t.mode === 'lines+markers').length, 2, 'before and after');
  assert.match(String(plots[2].title), /after/, 'the heatmap shows the newest snapshot');
});

test('compactPlot rounds times to 0.1 s and values to 3 significant digits, leaving gaps alone', () => {
  const p = compactPlot({ type: 'plot', id: 'a', data: [{ type: 'scattergl', x: [0.123456, 12.3456], y: [98.7654, 0.0012345] }, { type: 'heatmap', x: [0.4, 1.6], z: [[12.345, null]] }] });
  assert.deepEqual(p.data[0].x, [0.1, 12.3]);
  assert.deepEqual(p.data[0].y, [98.8, 0.00123]);
  assert.deepEqual(p.data[1].x, [0, 2]);
  assert.deepEqual(p.data[1].z, [[12.3, null]]);
});

test('the throttle calls at most once per interval: a burst gives one call now and one at the end', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  try {
    let calls = 0;
    const t = new Throttle(1000, () => calls++);
    for (let i = 0; i < 50; i++) t.poke();
    assert.equal(calls, 1);
    mock.timers.tick(999);
    for (let i = 0; i < 50; i++) t.poke();
    assert.equal(calls, 1);
    mock.timers.tick(1);
    assert.equal(calls, 2);
    mock.timers.tick(5000);
    assert.equal(calls, 2, 'nothing new, no call');
    t.poke();
    assert.equal(calls, 3, 'idle long enough: called at once');
    t.poke();
    t.dispose();
    mock.timers.tick(5000);
    assert.equal(calls, 3, 'a disposed throttle never calls');
  } finally {
    mock.timers.reset();
  }
});
