import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { OutputDoc } from '../../src/core/output/doc';
import { TelemetryState, telemetryCharts } from '../../src/core/telemetry/live-charts';
import { ChartPage } from '../harness/chart-page';

// The monitor cell's charts for 96 GPUs are large enough that the renderer draws their data on a
// canvas over a Plotly frame (media/src/canvas-plot.ts). Drawn by the real renderer in Chromium:
// the text still reads cleanly, the cells and lines are there with the right colours, a live
// update redraws the data without Plotly, and hovering a cell names the GPU and its value.

const T0 = 1_700_000_000_000;
const NODES = 12;
/** node3/5 idles at 0 %; every other GPU is busy at 90-99 % */
const idle = (node: number, gpu: number) => node === 2 && gpu === 5;

function monitorDoc(seconds: number): OutputDoc {
  const state = new TelemetryState();
  for (let t = 0; t < seconds; t++) {
    for (let n = 0; n < NODES; n++) {
      const gpus = Array.from({ length: 8 }, (_, i) => ({ index: i, utilGpuPct: idle(n, i) ? 0 : 90 + ((t + i + n) % 10), memUsedMiB: 100_000, memTotalMiB: 143_771, powerW: 600 }));
      state.add({ kind: 'gpu', tsMs: T0 + t * 1000, node: `node${n + 1}`, gpus });
    }
  }
  return { title: 'monitor', blocks: telemetryCharts(state, { idPrefix: 'mon', t0Ms: T0 }) };
}

let charts: ChartPage;
before(async () => {
  charts = await ChartPage.start();
});
after(async () => {
  await charts?.dispose();
});

for (const theme of ['light', 'dark'] as const) {
  test(`96 GPUs x 10 minutes, ${theme} theme: heatmap and per-node lines drawn on a canvas, readable, updated live without Plotly, with hover`, async () => {
    const doc = monitorDoc(600);
    assert.deepEqual(
      doc.blocks.map((b) => b.type === 'plot' && b.id),
      ['mon-gpu-util-heat', 'mon-gpu-nodes'],
    );
    const { problems, page } = await charts.render(doc, 900, theme);
    try {
      assert.deepEqual(problems, [], 'text boxes overlap, cover the data or are cut off');
      // both charts have a canvas with data inside their plot areas
      const painted = await page.evaluate(() =>
        Array.from(document.querySelectorAll<HTMLElement>('.moebench-plot')).map((host) => {
          const canvas = host.querySelector<HTMLCanvasElement>('canvas.moebench-canvas');
          const area = host.querySelector('.draglayer .nsewdrag')?.getBoundingClientRect();
          if (!canvas || !area) return { id: host.dataset.plotId, painted: 0 };
          const box = canvas.getBoundingClientRect();
          const scale = canvas.width / box.width;
          const g = canvas.getContext('2d');
          const px = g?.getImageData((area.left - box.left) * scale, (area.top - box.top) * scale, area.width * scale, area.height * scale).data ?? new Uint8ClampedArray();
          let n = 0;
          for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
          return { id: host.dataset.plotId, painted: n / (px.length / 4), frames: Number(host.dataset.frames ?? 0) };
        }),
      );
      assert.equal(painted.length, 2);
      for (const p of painted) assert.ok(p.painted > 0.02, `${p.id}: the canvas holds data (${(p.painted * 100).toFixed(1)} % of the plot area painted)`);
      // the heatmap fills its plot area; low is calm: the idle GPU's row is lighter than its neighbours
      assert.ok(painted[0].painted > 0.9, `the heatmap fills its plot area (${(painted[0].painted * 100).toFixed(1)} %)`);
      const heat = await page.$('.moebench-plot[data-plot-id="mon-gpu-util-heat"]');
      assert.ok(heat, 'the heatmap is drawn');
      /** where a GPU's row is, in page pixels (the middle of the plot area), from the axis Plotly laid out */
      const rowPoint = (label: string) =>
        heat.evaluate((host, label) => {
          const ya = (host as unknown as { _fullLayout?: { yaxis?: { _categories: string[]; _offset: number; l2p(v: number): number } } })._fullLayout?.yaxis;
          const area = host.querySelector('.draglayer .nsewdrag')?.getBoundingClientRect();
          const container = host.querySelector('.svg-container')?.getBoundingClientRect();
          const row = ya?._categories.indexOf(label) ?? -1;
          if (!ya || !area || !container || row < 0) return undefined;
          return { x: area.left + area.width / 2, y: container.top + ya._offset + ya.l2p(row) };
        }, label);
      const rowColour = async (label: string) => {
        const p = await rowPoint(label);
        if (!p) return undefined;
        return heat.evaluate((host, p) => {
          const canvas = host.querySelector<HTMLCanvasElement>('canvas.moebench-canvas');
          if (!canvas) return undefined;
          const box = canvas.getBoundingClientRect();
          const scale = canvas.width / box.width;
          const [r, g, b] = canvas.getContext('2d')?.getImageData((p.x - box.left) * scale, (p.y - box.top) * scale, 1, 1).data ?? [];
          return 0.299 * r + 0.587 * g + 0.114 * b;
        }, p);
      };
      const idleLum = await rowColour('node3/5');
      const busyLum = await rowColour('node3/4');
      assert.ok(idleLum !== undefined && busyLum !== undefined, 'the rows node3/4 and node3/5 are labelled');
      // low is calm: pale on a light theme, dark on a dark one
      if (theme === 'light') assert.ok(idleLum > busyLum + 60, `the idle GPU's row (luminance ${idleLum}) is much lighter than a busy one (${busyLum})`);
      else assert.ok(idleLum + 60 < busyLum, `the idle GPU's row (luminance ${idleLum}) is much darker than a busy one (${busyLum})`);

      // live updates: the next seconds arrive under the same output id. The first one keeps the
      // margins the first draw measured (one Plotly redraw of the frame); after that the axes stay
      const frames = () => page.evaluate(() => Array.from(document.querySelectorAll<HTMLElement>('.moebench-plot')).map((h) => Number(h.dataset.frames ?? 0)));
      const update = async (seconds: number) => {
        const rendered = await page.evaluate(() => Array.from(document.querySelectorAll<HTMLElement>('.moebench-plot')).map((h) => Number(h.dataset.rendered)));
        await page.evaluate(async (text) => (window as unknown as { renderDoc(t: string): Promise<void> }).renderDoc(text), JSON.stringify(monitorDoc(seconds)));
        await page.waitForFunction((n) => Array.from(document.querySelectorAll<HTMLElement>('.moebench-plot')).every((h, i) => Number(h.dataset.rendered) > n[i]), rendered);
      };
      await update(601);
      const settled = await frames();
      for (let s = 602; s < 612; s++) await update(s);
      // the time axis moves with 5 % room when the data reach its end: once in these ten seconds
      const redraws = (await frames()).map((f, i) => f - settled[i]);
      assert.ok(redraws.every((n) => n <= 1), `ten more seconds redraw the data, the axes at most once (${redraws.join(', ')} Plotly redraws)`);
      const xEnds = await page.evaluate(() => Array.from(document.querySelectorAll<HTMLElement>('.moebench-plot')).map((h) => (h as unknown as { _fullLayout: { xaxis: { range: number[] } } })._fullLayout.xaxis.range[1]));
      const last = monitorDoc(611).blocks.map((b) => (b.type === 'plot' ? Math.max(...b.data.flatMap((t) => (t.x as number[]) ?? [])) : 0));
      xEnds.forEach((end, i) => assert.ok(end >= last[i], `the newest data (${last[i]} s) are on the time axis (it ends at ${end} s)`));

      // hover over the idle GPU's row names it and its value
      await heat.evaluate((h) => h.scrollIntoView({ block: 'start' }));
      const point = await rowPoint('node3/5');
      assert.ok(point);
      await page.mouse.move(point.x, point.y);
      const tip = await heat.$eval('.moebench-tip', (e) => (getComputedStyle(e).display === 'none' ? '' : (e.textContent ?? '')));
      assert.match(tip, /^node3\/5 at \d+ s: 0 %$/, `the tooltip names the GPU, the time and its utilisation: "${tip}"`);
    } finally {
      await page.close();
    }
  });
}
