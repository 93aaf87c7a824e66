/**
 * Renderer benchmark: the notebook renderer bundle (out/media/renderer.js, `npm run build`) in
 * headless Chromium, driven through the VS Code renderer API shape (activate -> renderOutputItem).
 * Prints:
 *   (a) live-update time for 96 series × 3,600 points (same output id again), target < 50 ms; also
 *       96 × 600 and the doc the monitor cell actually sends for 96 GPUs × 1 h (GPU × time heatmap and
 *       per-node small multiples). Next to each, measured in the same page on the same doc texts:
 *       the floor (JSON.parse of the doc and a raw canvas draw of every point or cell, no axes, no
 *       checks, no decimation) and a bare Plotly.react of the same traces (what the renderer did
 *       before large charts went to a canvas); and on how many updates Plotly had to redraw the frame;
 *   (b) first paint of a 100k-point CDF in a fresh page (Plotly chunk load included), target < 1.5 s.
 * `render ms` is what the renderer records on each plot (`data-render-ms`, the Plotly.react call);
 * `wall ms` runs from renderOutputItem (JSON parse included) to the next animation frame after
 * every plot of the doc reports done.
 *
 * Usage: node --import tsx scripts/bench-renderer.ts [--renderer out/media/renderer.js] [--updates 10] [--only "(a)"|"(b)"|"(c)"|monitor]
 * Timings depend on the machine's load: run it on a quiet machine and compare variants in one go.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { OutputDoc } from '../src/core/output/doc';
import { TelemetryState, telemetryCharts } from '../src/core/telemetry/live-charts';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const rendererPath = path.resolve(arg('--renderer', 'out/media/renderer.js'));
const updates = Number(arg('--updates', '10'));
/** run only the measurements whose label contains this ("(a)", "(b)", "monitor", "SVG"...) */
const only = arg('--only', '');
const want = (label: string): boolean => only === '' || label.includes(only);

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'];

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><style>body{margin:0;width:1100px}#out{width:1000px}</style></head>
<body><div id="out"></div><script type="module">
const mod = await import('/r/media/${path.basename(rendererPath)}');
const ctx = { postMessage() {}, onDidReceiveMessage() { return { dispose() {} }; }, workspace: { isTrusted: true }, getState() {}, setState() {} };
const api = await mod.activate(ctx);
const el = document.getElementById('out');
const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
function item(id, text) {
  return { id, mime: 'application/vnd.moebench.doc+json', metadata: {}, json: () => JSON.parse(text), text: () => text, data: () => new TextEncoder().encode(text), blob: () => new Blob([text]) };
}
function counts() {
  return [...el.querySelectorAll('.moebench-plot')].map((p) => Number(p.dataset.rendered || '0'));
}
// render a doc (JSON text) under output id; resolve when every plot has drawn once more
window.renderTimed = async (id, text, plots) => {
  const before = counts();
  const t0 = performance.now();
  api.renderOutputItem(item(id, text), el);
  const syncMs = performance.now() - t0;
  for (;;) {
    const now = counts();
    if (now.length === plots && now.every((c, i) => c > (before[i] ?? 0))) break;
    const err = el.textContent.includes('could not be drawn') ? el.textContent : '';
    if (err) throw new Error(err.slice(0, 300));
    await new Promise((r) => setTimeout(r, 0));
  }
  const drawnMs = performance.now() - t0;
  await frame();
  const wallMs = performance.now() - t0;
  const renderMs = [...el.querySelectorAll('.moebench-plot')].map((p) => Number(p.dataset.renderMs));
  return { syncMs, drawnMs, wallMs, renderMs };
};
window.series = (nSeries, nPoints, shift, type) => {
  const data = [];
  for (let s = 0; s < nSeries; s++) {
    const x = new Array(nPoints), y = new Array(nPoints);
    let v = 50 + (s % 40);
    for (let i = 0; i < nPoints; i++) {
      const t = i + shift;
      v = Math.max(0, Math.min(100, v + Math.sin(t * 0.37 + s) * 3 + ((t * 7919 + s * 104729) % 13) - 6));
      x[i] = t; y[i] = Math.round(v * 10) / 10;
    }
    data.push({ type, mode: 'lines', name: 'node' + Math.floor(s / 8) + '/' + (s % 8), x, y, line: { width: 1 } });
  }
  return JSON.stringify({ title: 'bench', blocks: [{ type: 'plot', id: 'gpus', title: 'GPU utilization', data, layout: { xaxis: { title: { text: 'elapsed (s)' } }, yaxis: { range: [0, 105] }, showlegend: false }, heightPx: 420 }] });
};
window.cdf = (n, type, points) => {
  const xs = new Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1103515245) + 12345) >>> 0; const u = (s + 1) / 4294967297; xs[i] = Math.round(-Math.log(u) * 80 * 1000) / 1000 + 20; }
  xs.sort((a, b) => a - b);
  let x = xs, y = xs.map((_, i) => (i + 1) / n);
  if (points < n) {
    // a CDF sampled at evenly spaced ranks (plus the tail) is exact at every drawn point
    const idx = Array.from({ length: points }, (_, k) => Math.round((k * (n - 1)) / (points - 1)));
    x = idx.map((i) => xs[i]); y = idx.map((i) => (i + 1) / n);
  }
  return JSON.stringify({ title: 'TTFT CDF', blocks: [{ type: 'plot', id: 'cdf', title: 'TTFT CDF (100k requests)', data: [{ type, mode: 'lines', name: 'TTFT', x, y }], layout: { xaxis: { title: { text: 'ms' }, type: 'log' }, yaxis: { range: [0, 1] } }, heightPx: 360 }] });
};
// the floor: parse the doc and put every point (or heatmap cell) on a canvas, nothing else
// (on the page, like ours: what reaches the screen is part of the cost)
const rawCanvas = document.createElement('canvas');
rawCanvas.width = 1000; rawCanvas.height = 420;
document.body.appendChild(rawCanvas);
window.rawDraw = async (text) => {
  const t0 = performance.now();
  const doc = JSON.parse(text);
  const g = rawCanvas.getContext('2d');
  g.clearRect(0, 0, 1000, 420);
  g.lineWidth = 1;
  for (const b of doc.blocks) {
    if (b.type !== 'plot') continue;
    for (const t of b.data) {
      if (t.type === 'heatmap') {
        const rows = t.z.length, cols = t.z[0]?.length ?? 0;
        const img = new ImageData(Math.max(1, cols), Math.max(1, rows));
        for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) { const v = t.z[r][c] ?? 0; const o = (r * cols + c) * 4; img.data[o] = v * 2.5; img.data[o + 3] = 255; }
        g.putImageData(img, 0, 0);
        continue;
      }
      g.beginPath();
      const n = t.x.length, sx = 1000 / n;
      for (let i = 0; i < n; i++) { const y = 420 - (t.y[i] ?? 0) * 4; if (i) g.lineTo(i * sx, y); else g.moveTo(0, y); }
      g.stroke();
    }
  }
  await frame();
  return performance.now() - t0;
};
// the renderer's old path: Plotly.react of the doc's traces and layout, one div per plot
const bare = document.createElement('div');
document.body.appendChild(bare);
window.bareReact = async (text) => {
  const t0 = performance.now();
  const doc = JSON.parse(text);
  const plots = doc.blocks.filter((b) => b.type === 'plot');
  while (bare.children.length < plots.length) { const d = document.createElement('div'); d.style.width = '1000px'; bare.appendChild(d); }
  await Promise.all(plots.map((b, i) => globalThis.Plotly.react(bare.children[i], b.data, { ...b.layout, height: b.heightPx ?? 280 }, { displaylogo: false })));
  await frame();
  return performance.now() - t0;
};
window.plotlyFrames = () => [...el.querySelectorAll('.moebench-plot')].map((p) => Number(p.dataset.frames || '0'));
window.ready = true;
</script></body></html>`;

function serve(dir: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    // no keep-alive: a page reusing a socket the server just timed out fails its module import
    res.setHeader('connection', 'close');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      return;
    }
    const rel = decodeURIComponent(url.pathname.replace(/^\/r\//, ''));
    const file = path.resolve(dir, rel);
    if (!url.pathname.startsWith('/r/') || !file.startsWith(dir + path.sep) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

interface Timed {
  /** renderOutputItem itself: JSON parse and DOM */
  syncMs: number;
  /** until every plot's Plotly.react resolved */
  drawnMs: number;
  /** until the frame after that (what a person sees) */
  wallMs: number;
  renderMs: number[];
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `median ${q(0.5).toFixed(1)}, p90 ${q(0.9).toFixed(1)}, min ${s[0].toFixed(1)}`;
};

async function freshPage(browser: Browser, base: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.on('pageerror', (e) => console.error(`  page error: ${e.message}`));
  await page.goto(base);
  await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
  return page;
}

async function updateBench(browser: Browser, base: string, label: string, makeDoc: (page: Page, shift: number) => Promise<string>, plots: number, n = updates): Promise<void> {
  if (!want(label)) return;
  const page = await freshPage(browser, base);
  const first = await page.evaluate(async ([text, n]) => (window as unknown as { renderTimed: (id: string, t: string, n: number) => Promise<Timed> }).renderTimed('out-1', text, n), [await makeDoc(page, 0), plots] as const);
  const walls: number[] = [];
  const renders: number[] = [];
  const syncs: number[] = [];
  const drawn: number[] = [];
  const perPlot: number[][] = [];
  const texts: string[] = [];
  const framesBefore = await page.evaluate(() => (window as unknown as { plotlyFrames: () => number[] }).plotlyFrames());
  for (let u = 1; u <= n; u++) {
    const text = await makeDoc(page, u);
    texts.push(text);
    const r = await page.evaluate(async ([t, n]) => (window as unknown as { renderTimed: (id: string, t: string, n: number) => Promise<Timed> }).renderTimed('out-1', t, n), [text, plots] as const);
    walls.push(r.wallMs);
    syncs.push(r.syncMs);
    drawn.push(r.drawnMs);
    renders.push(r.renderMs.reduce((a, b) => a + b, 0));
    r.renderMs.forEach((ms, i) => (perPlot[i] ??= []).push(ms));
  }
  const framesAfter = await page.evaluate(() => (window as unknown as { plotlyFrames: () => number[] }).plotlyFrames());
  const plotlyUpdates = framesAfter.map((f, i) => f - (framesBefore[i] ?? 0));
  // the same doc texts, in the same page: the floor and the old path
  const raw: number[] = [];
  const bare: number[] = [];
  for (const t of texts) raw.push(await page.evaluate((t) => (window as unknown as { rawDraw: (t: string) => Promise<number> }).rawDraw(t), t));
  await page.evaluate((t) => (window as unknown as { bareReact: (t: string) => Promise<number> }).bareReact(t), await makeDoc(page, 0));
  for (const t of texts) bare.push(await page.evaluate((t) => (window as unknown as { bareReact: (t: string) => Promise<number> }).bareReact(t), t));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const ours = median(walls);
  console.log(
    `${label}\n  first render ${first.wallMs.toFixed(0)} ms wall (Plotly load included)\n  update (${n}×), until next frame: ${ours.toFixed(1)} ms median (${target(ours)}); floor (parse + raw canvas of every point) ${median(raw).toFixed(1)} ms; bare Plotly.react ${median(bare).toFixed(1)} ms\n    renderOutputItem (parse + checks + DOM) ms ${stats(syncs)}; until drawn ms ${stats(drawn)}; until next frame ms ${stats(walls)}\n    draw ms (per plot: frame if needed + canvas, or Plotly.react) ${stats(renders)}${perPlot.length > 1 ? ` (per plot medians: ${perPlot.map((xs) => stats(xs).split(',')[0].replace('median ', '')).join(' / ')})` : ''}; Plotly redrew the frame on ${plotlyUpdates.join(' / ')} of ${n} updates${plotlyUpdates.length > 1 ? ' (per plot)' : ''}`,
  );
  await page.close();
}

const target = (ms: number) => (ms < 50 ? 'target < 50 ms: met' : `target < 50 ms: missed by ${(ms - 50).toFixed(0)} ms`);

/** the doc the monitor cell sends for 96 GPUs (12 nodes × 8) after `seconds` of 1 Hz samples */
function monitorDoc(seconds: number): { text: string; plots: number } {
  const T0 = 1_700_000_000_000;
  const state = new TelemetryState();
  for (let t = 0; t < seconds; t++) {
    for (let n = 0; n < 12; n++) {
      const gpus = Array.from({ length: 8 }, (_, i) => ({ index: i, utilGpuPct: 60 + ((t * 7 + i * 13 + n) % 40), memUsedMiB: 120_000 + ((t + i) % 300) * 3.3, memTotalMiB: 143_771, powerW: 500 + ((t + i) % 190) }));
      state.add({ kind: 'gpu', tsMs: T0 + t * 1000, node: `node${n + 1}`, gpus });
    }
  }
  const blocks = telemetryCharts(state, { idPrefix: 'mon', t0Ms: T0 });
  const doc: OutputDoc = { title: 'monitor', blocks };
  return { text: JSON.stringify(doc), plots: blocks.length };
}

async function main(): Promise<void> {
  if (!existsSync(rendererPath)) {
    console.error(`${rendererPath} not found: run \`npm run build\` first (or pass --renderer <file>).`);
    process.exitCode = 1;
    return;
  }
  // serve a copy: a concurrent `npm run build` replaces out/media (and its chunk names) mid-run
  const copy = mkdtempSync(path.join(os.tmpdir(), 'moebench-renderer-'));
  // the renderer loads Plotly from out/plotly.min.js, one folder above it: serve both
  cpSync(path.dirname(rendererPath), path.join(copy, 'media'), { recursive: true });
  const plotlyFile = path.join(path.dirname(path.dirname(rendererPath)), 'plotly.min.js');
  if (existsSync(plotlyFile)) cpSync(plotlyFile, path.join(copy, 'plotly.min.js'));
  const server = await serve(copy);
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  try {
    console.log(`renderer: ${path.relative(process.cwd(), rendererPath)}; Chromium ${browser.version()}; ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    const probe = await freshPage(browser, base);
    const webgl = await probe.evaluate(() => !!document.createElement('canvas').getContext('webgl'));
    console.log(`WebGL available: ${webgl}${webgl ? '' : ' (scattergl cannot draw: Plotly falls back or fails)'}`);
    await probe.close();

    const gen = (type: string, points: number) => (page: Page, shift: number) =>
      page.evaluate(([s, t, p]) => (window as unknown as { series: (n: number, p: number, s: number, t: string) => string }).series(96, p, s, t), [shift, type, points] as const);
    const heavy = Math.max(1, Math.min(updates, 6));
    await updateBench(browser, base, '(a) 96 series × 3,600 points, scattergl, live update (target < 50 ms)', gen('scattergl', 3600), 1, heavy);
    await updateBench(browser, base, '(a) 96 series × 3,600 points, SVG scatter', gen('scatter', 3600), 1, heavy);
    await updateBench(browser, base, '(a) 96 series × 600 points (min/max-downsampled, what MoE Bench sends), scattergl', gen('scattergl', 600), 1);
    await updateBench(browser, base, '(a) 96 series × 600 points, SVG scatter', gen('scatter', 600), 1);
    let docSeconds = 3600;
    const md = monitorDoc(docSeconds);
    if (want('monitor')) console.log(`monitor doc for 96 GPUs × ${docSeconds} s: ${md.plots} plots, ${(md.text.length / 1024).toFixed(0)} KiB`);
    await updateBench(browser, base, '(a) the monitor cell\'s live doc, 96 GPUs × 1 h (heatmaps + per-node small multiples)', async () => monitorDoc(docSeconds++).text, md.plots);

    if (want('(b)')) {
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const page = await freshPage(browser, base);
        const text = JSON.stringify({ blocks: [{ type: 'plot', id: 'tiny', data: [{ type: 'scatter', x: [1, 2, 3], y: [1, 3, 2] }] }] });
        times.push((await page.evaluate(async (t) => (window as unknown as { renderTimed: (id: string, t: string, n: number) => Promise<Timed> }).renderTimed('tiny', t, 1), text)).wallMs);
        await page.close();
      }
      console.log(`(b) first paint of a 3-point chart, fresh page (the cost of loading the Plotly chunk): ${stats(times)} ms`);
    }
    for (const [type, points] of want('(b)') ? ([['scattergl', 100_000], ['scatter', 100_000], ['scatter', 2_000]] as const) : []) {
      const times: number[] = [];
      const drawn: number[] = [];
      for (let i = 0; i < 3; i++) {
        const page = await freshPage(browser, base);
        const text = await page.evaluate(([t, p]) => (window as unknown as { cdf: (n: number, t: string, p: number) => string }).cdf(100_000, t, p), [type, points] as const);
        const r = await page.evaluate(async (t) => (window as unknown as { renderTimed: (id: string, t: string, n: number) => Promise<Timed> }).renderTimed('cdf', t, 1), text);
        times.push(r.wallMs);
        drawn.push(r.drawnMs);
        await page.close();
      }
      const what = points >= 100_000 ? '100k points' : `100k requests drawn as ${points} points`;
      console.log(`(b) first paint, CDF of 100k requests, ${what}, ${type}, fresh page (target < 1.5 s): until next frame ms ${stats(times)}; until drawn ms ${stats(drawn)}`);
    }
    if (want('(c)')) {
      // one notebook = one webview: every scattergl chart holds a WebGL context, and Chromium keeps at most 16
      const page = await freshPage(browser, base);
      const warnings: string[] = [];
      page.on('console', (m) => {
        if (/WebGL|context/i.test(m.text())) warnings.push(m.text());
      });
      const blocks = Array.from({ length: 20 }, (_, i) => ({ type: 'plot', id: `p${i}`, data: [{ type: 'scattergl', mode: 'lines', x: [0, 1, 2], y: [i, i + 1, i] }], heightPx: 120 }));
      await page.evaluate(async (t) => (window as unknown as { renderTimed: (id: string, t: string, n: number) => Promise<Timed> }).renderTimed('many', t, 20), JSON.stringify({ blocks }));
      await page.waitForTimeout(500);
      console.log(`(c) 20 scattergl charts in one page: ${warnings.length} WebGL warnings${warnings[0] ? ` (first: "${warnings[0].slice(0, 120)}")` : ''}`);
      await page.close();
    }
  } finally {
    await browser.close();
    await new Promise((r) => server.close(r));
    rmSync(copy, { recursive: true, force: true });
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
