import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canvasEligible, frameFigure, hoverText, liveRange } from '../../../media/src/canvas-plot';
import { TelemetryState, telemetryCharts } from '../../../src/core/telemetry/live-charts';

// The renderer's canvas path for large charts (media/src/canvas-plot.ts): which charts take it,
// how a live chart's axes move, what the hover says. Drawing itself is checked in Chromium
// (test/e2e/canvas-charts.test.ts).

function monitorBlocks(seconds: number, gpusPerNode = 8, nodes = 12) {
  const state = new TelemetryState();
  for (let t = 0; t < seconds; t++) {
    for (let n = 0; n < nodes; n++) {
      const gpus = Array.from({ length: gpusPerNode }, (_, i) => ({ index: i, utilGpuPct: (t * 7 + i * 13 + n) % 100, memUsedMiB: 100_000, memTotalMiB: 143_771, powerW: 600 }));
      state.add({ kind: 'gpu', tsMs: 1_700_000_000_000 + t * 1000, node: `node${n + 1}`, gpus });
    }
  }
  return telemetryCharts(state, { idPrefix: 'mon', t0Ms: 1_700_000_000_000 });
}

test('a 96-GPU monitor keeps its heatmap and node lines on the canvas at every length from 5 min to 1 h (rounded bucket times never tip it back to Plotly)', () => {
  for (let seconds = 300; seconds <= 3600; seconds += 97) {
    const blocks = monitorBlocks(seconds);
    const eligible = blocks.map((b) => canvasEligible(b.data, b.layout ?? {}));
    assert.deepEqual(eligible, [true, true], `at ${seconds} s`);
  }
});

test('small charts and mixed or marker charts stay with Plotly', () => {
  const few = monitorBlocks(60, 2, 2);
  assert.ok(few.every((b) => !canvasEligible(b.data, b.layout ?? {})), 'a 4-GPU minute is drawn by Plotly');
  const x = Array.from({ length: 20_000 }, (_, i) => i);
  assert.equal(canvasEligible([{ type: 'scatter', mode: 'lines', x, y: x }], {}), true);
  assert.equal(canvasEligible([{ type: 'scatter', mode: 'markers', x, y: x }], {}), false);
  assert.equal(canvasEligible([{ type: 'scatter', mode: 'lines', x, y: x }, { type: 'bar', x: [1], y: [1] }], {}), false);
  assert.equal(canvasEligible([{ type: 'scatter', mode: 'lines', x: x.map(String), y: x }], {}), false, 'category x');
});

test('a live time axis keeps its range while the data fit and fill it, and moves with 5 % room when they reach its end', () => {
  assert.deepEqual(liveRange(undefined, [0, 600]), [0, 600], 'first draw: exactly the data');
  assert.deepEqual(liveRange([0, 630], [0, 601]), [0, 630], 'one more second fits');
  assert.deepEqual(liveRange([0, 630], [0, 631]), [0, 631 + 0.05 * 631], 'past the end: 5 % room');
  assert.deepEqual(liveRange([0, 1000], [0, 600]), [0, 600], 'data filling less than 90 % of the range: tight again');
  const end = liveRange([0, 630], [0, 630]);
  assert.equal(end[1], 630, 'the newest point may sit on the end, never past it');
});

test('the frame Plotly draws has no points, one colour per trace and the ranges of the data', () => {
  const x = Array.from({ length: 5000 }, (_, i) => i / 10);
  const data = [
    { type: 'scattergl', mode: 'lines', name: 'a', x, y: x.map((v) => v * 2), hovertemplate: 'a %{y:.1f} W<extra></extra>' },
    { type: 'scattergl', mode: 'lines', name: 'b', x, y: x.map(() => 7) },
  ];
  const { traces, layout, series } = frameFigure(data, { yaxis: { rangemode: 'tozero' } });
  assert.deepEqual(traces.map((t) => [t.type, t.x, t.y, t.name]), [['scatter', [null], [null], 'a'], ['scatter', [null], [null], 'b']]);
  assert.deepEqual((layout.xaxis as { range: number[] }).range, [0, 499.9]);
  assert.deepEqual((layout.yaxis as { range: number[] }).range, [0, 999.8]);
  assert.equal(layout.hovermode, false, "Plotly's hover is off: the canvas answers it");
  assert.equal(series.length, 2);
});

test('hover text follows the trace hovertemplate', () => {
  assert.equal(hoverText({ x: 305, y: 'node3/5', z: 0 }, '%{y} at %{x:.0f} s: %{z} %<extra></extra>'), 'node3/5 at 305 s: 0 %');
  assert.equal(hoverText({ name: 'node1/0', x: 12.5, y: 87.25 }, 'node1/0 %{y:.0f} %<extra></extra>'), 'node1/0 87 % at 12.5');
  assert.equal(hoverText({ name: 'ttft', x: 3, y: 0.5 }), 'ttft: 0.5 at 3');
});
