/**
 * Notebook renderer for MoE Bench outputs (OutputDoc JSON). Runs in the notebook webview.
 * Plotly (out/plotly.min.js, 4.8 MB) is loaded only when a doc has a plot, once per webview.
 * Live updates arrive as a new render call on the same element: plots are updated in place (no
 * flicker, no re-layout of the whole output). Small charts go through Plotly.react; large line
 * charts and heatmaps draw their data on a canvas over a Plotly frame that is redrawn only when
 * an axis or the layout changes (canvas-plot.ts).
 */
import type { ActivationFunction, OutputItem } from 'vscode-notebook-renderer';
import type { Block, OutputDoc, PlotBlock } from '../../src/core/output/doc';
import { validateOutputDoc } from '../../src/core/output/validate-doc';
import { canvasEligible, drawnRanges, drawSeries, frameFigure, frameSignature, repaint } from './canvas-plot';
import { STYLE } from './style';

type PlotlyModule = {
  react(el: HTMLElement, data: unknown[], layout: Record<string, unknown>, config: Record<string, unknown>): Promise<unknown>;
  purge(el: HTMLElement): void;
};
/** a plot element once Plotly has drawn in it (Plotly adds an event emitter) */
type PlotlyHost = HTMLElement & { on?: (event: string, fn: () => void) => void };

let plotlyPromise: Promise<PlotlyModule> | undefined;
/**
 * Plotly from the one plotly.min.js the extension ships (out/plotly.min.js, the file the HTML
 * report inlines too) rather than a second 4.8 MB copy bundled as a chunk: the VSIX carried both.
 * It is loaded as a classic script: plotly.min.js is UMD, and with no module system around it
 * sets globalThis.Plotly. This bundle is out/media/renderer.js, so the file is one folder up.
 */
function loadPlotly(): Promise<PlotlyModule> {
  plotlyPromise ??= new Promise<PlotlyModule>((resolve, reject) => {
    const existing = (globalThis as { Plotly?: PlotlyModule }).Plotly;
    if (existing) return resolve(existing);
    const src = new URL('../plotly.min.js', import.meta.url).href;
    const script = document.createElement('script');
    script.src = src;
    script.async = true;
    script.onload = () => {
      const P = (globalThis as { Plotly?: PlotlyModule }).Plotly;
      if (P) resolve(P);
      else reject(new Error(`${src} loaded but did not define Plotly`));
    };
    script.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.appendChild(script);
  }).catch((err: unknown) => {
    plotlyPromise = undefined;
    throw err;
  });
  return plotlyPromise;
}

interface Rendered {
  root: HTMLElement;
  plots: Map<string, HTMLElement>;
}
const rendered = new Map<string, Rendered>();

export const activate: ActivationFunction = () => {
  injectStyle();
  // the first output of ours is about to render: start fetching the Plotly chunk now
  void loadPlotly();
  return {
    renderOutputItem(item: OutputItem, element: HTMLElement) {
      let raw: unknown;
      try {
        raw = item.json();
      } catch (err) {
        element.textContent = `MoE Bench: this output could not be read (${String(err)})`;
        return;
      }
      // stored outputs are data someone else wrote: check the shape, keep only what we produce
      const checked = validateOutputDoc(raw);
      if ('error' in checked) {
        element.textContent = `MoE Bench: this output is not one MoE Bench wrote (${checked.error}); it is not drawn.`;
        return;
      }
      renderDoc(item.id, checked.doc, element);
    },
    disposeOutputItem(id?: string) {
      const ids = id ? [id] : [...rendered.keys()];
      for (const i of ids) {
        const r = rendered.get(i);
        if (!r) continue;
        for (const p of r.plots.values()) void loadPlotly().then((P) => P.purge(p));
        rendered.delete(i);
      }
    },
  };
};

function injectStyle(): void {
  if (document.getElementById('moebench-style')) return;
  const s = document.createElement('style');
  s.id = 'moebench-style';
  s.textContent = STYLE;
  document.head.appendChild(s);
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function renderDoc(id: string, doc: OutputDoc, element: HTMLElement): void {
  let state = rendered.get(id);
  if (!state || state.root.parentElement !== element) {
    element.textContent = '';
    state = { root: el('div', 'moebench-doc'), plots: new Map() };
    element.appendChild(state.root);
    rendered.set(id, state);
  }
  const root = state.root;
  const keep = new Set<string>();
  // non-plot blocks are cheap: rebuild them; plots persist across updates for Plotly.react
  // plot hosts already drawn stay where they are (see syncChildren)
  const nodes: Node[] = [];
  if (doc.simulated) nodes.push(el('div', 'moebench-sim', 'SIMULATED — results come from the embedded SGLang emulator, not from GPUs'));
  if (doc.title) nodes.push(el('div', 'moebench-title', doc.title));
  for (const block of doc.blocks) {
    if (block.type === 'plot') {
      keep.add(block.id);
      let host = state.plots.get(block.id);
      if (!host) {
        host = el('div', 'moebench-plot');
        host.dataset.plotId = block.id;
        state.plots.set(block.id, host);
      }
      // the title is HTML above the chart, not Plotly's: Plotly's title shares the top strip with
      // the modebar and the step labels, and collided with both
      if (block.title) nodes.push(el('div', 'moebench-plot-title', block.title));
      nodes.push(host);
      drawPlot(host, block);
    } else {
      nodes.push(renderBlock(block));
    }
  }
  for (const [pid, host] of state.plots) {
    if (!keep.has(pid)) {
      void loadPlotly().then((P) => P.purge(host));
      state.plots.delete(pid);
    }
  }
  syncChildren(root, reuseEqual(root, nodes, new Set(state.plots.values())));
}

/**
 * The nodes to show, with each new title, table or badge row that is identical to one already
 * shown (in the same order) replaced by the one shown: a live update then touches only what
 * changed, and the browser re-lays out and repaints only that.
 */
function reuseEqual(root: HTMLElement, nodes: Node[], plots: Set<Node>): Node[] {
  const shown = Array.from(root.childNodes).filter((c) => !plots.has(c));
  let k = 0;
  return nodes.map((n) => {
    if (plots.has(n)) return n;
    for (let j = k; j < shown.length; j++) {
      if (shown[j].isEqualNode(n)) {
        k = j + 1;
        return shown[j];
      }
    }
    return n;
  });
}

/**
 * Put `nodes` in `root` in this order without detaching the plots already there: a Plotly chart
 * taken out and put back has every style of its SVG recomputed (~15 ms a chart per update).
 */
function syncChildren(root: HTMLElement, nodes: Node[]): void {
  const wanted = new Set(nodes);
  for (const child of Array.from(root.childNodes)) if (!wanted.has(child)) child.remove();
  let cur = root.firstChild;
  for (const n of nodes) {
    if (cur === n) cur = cur.nextSibling;
    else root.insertBefore(n, cur);
  }
}

function renderBlock(block: Exclude<Block, PlotBlock>): HTMLElement {
  switch (block.type) {
    case 'table': {
      const wrap = el('div', 'moebench-block');
      if (block.title) wrap.appendChild(el('div', 'moebench-subtitle', block.title));
      const table = el('table', 'moebench-table');
      // key columns first; the rest (bench_serving's full 38-column result) behind a toggle
      const key = block.keyColumns !== undefined && block.keyColumns < block.columns.length ? block.keyColumns : block.columns.length;
      const extra = (i: number): string | undefined => (i >= key ? 'extra' : undefined);
      const head = el('tr');
      block.columns.forEach((c, i) => head.appendChild(el('th', extra(i), block.units?.[i] ? `${c} (${block.units[i]})` : c)));
      table.appendChild(el('thead')).appendChild(head);
      const body = el('tbody');
      for (const row of block.rows) {
        const tr = el('tr');
        row.forEach((cell, i) => {
          const cls = [typeof cell === 'number' ? 'num' : '', extra(i) ?? ''].filter(Boolean).join(' ');
          tr.appendChild(el('td', cls || undefined, formatCell(cell)));
        });
        body.appendChild(tr);
      }
      table.appendChild(body);
      wrap.appendChild(table);
      if (key < block.columns.length) {
        table.classList.add('collapsed');
        const hidden = block.columns.length - key;
        const toggle = el('button', 'moebench-toggle', `Show all columns (${hidden} more)`);
        toggle.addEventListener('click', () => {
          const collapsed = table.classList.toggle('collapsed');
          toggle.textContent = collapsed ? `Show all columns (${hidden} more)` : 'Show key columns only';
        });
        wrap.appendChild(toggle);
      }
      return wrap;
    }
    case 'kv': {
      const wrap = el('div', 'moebench-block');
      if (block.title) wrap.appendChild(el('div', 'moebench-subtitle', block.title));
      const dl = el('dl', 'moebench-kv');
      for (const [k, v] of block.items) {
        dl.appendChild(el('dt', undefined, k));
        dl.appendChild(el('dd', undefined, formatCell(v)));
      }
      wrap.appendChild(dl);
      return wrap;
    }
    case 'badges': {
      const wrap = el('div', 'moebench-badges');
      for (const b of block.items) {
        const span = el('span', `moebench-badge ${b.level}`, b.text);
        if (b.detail) span.title = b.detail;
        wrap.appendChild(span);
      }
      return wrap;
    }
    case 'text':
      return el(block.format === 'pre' ? 'pre' : 'div', 'moebench-text', block.text);
    case 'progress': {
      const wrap = el('div', 'moebench-progress');
      wrap.appendChild(el('span', 'label', block.label));
      const bar = el('div', 'bar');
      const fill = el('div', 'fill');
      fill.style.width = block.fraction === null ? '100%' : `${Math.round(Math.max(0, Math.min(1, block.fraction)) * 100)}%`;
      if (block.fraction === null) fill.classList.add('indeterminate');
      bar.appendChild(fill);
      wrap.appendChild(bar);
      if (block.detail) wrap.appendChild(el('span', 'detail', block.detail));
      return wrap;
    }
  }
}

function formatCell(v: string | number | null): string {
  if (v === null) return '—';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v)) return v.toLocaleString('en-US');
    return Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);
  }
  return v;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** true when the editor background is dark (the theme decides what "calm" looks like) */
function darkTheme(): boolean {
  const bg = getComputedStyle(document.body).getPropertyValue('--vscode-editor-background').trim();
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})/i.exec(bg) ?? /^#([0-9a-f])([0-9a-f])([0-9a-f])$/i.exec(bg);
  if (m) {
    const [r, g, b] = m.slice(1, 4).map((h) => parseInt(h.length === 1 ? h + h : h, 16));
    return 0.299 * r + 0.587 * g + 0.114 * b < 128;
  }
  return document.body.classList.contains('vscode-dark') || document.body.classList.contains('vscode-high-contrast');
}

/** the phase labels (shaded steps) and other paper-anchored notes drawn above the plot area */
function hasTopAnnotations(layout: Obj): boolean {
  const a = layout.annotations;
  // step labels (yref paper) and panel labels (yref "y2 domain"...) sitting on a plot's top edge
  return Array.isArray(a) && a.some((x) => isObj(x) && typeof x.yref === 'string' && (x.yref === 'paper' || x.yref.endsWith(' domain')) && typeof x.y === 'number' && x.y >= 1);
}

/** legend entries Plotly will draw */
function legendEntries(data: Obj[], layout: Obj): number {
  if (layout.showlegend === false) return 0;
  const shown = data.filter((t) => t.showlegend !== false && t.type !== 'heatmap' && typeof t.name === 'string');
  // one trace alone gets no legend unless asked for
  return shown.length <= 1 && layout.showlegend !== true ? 0 : shown.length;
}

/**
 * Layout rules every chart follows, so no builder has to get them right alone:
 * - every axis has automargin: tick labels and titles push the margins instead of being clipped
 *   or printed over each other (right-hand axes, long rank names);
 * - a chart of stacked panels sharing one x axis draws that axis (and "elapsed (s)") under the
 *   bottom panel, not under the first one;
 * - in a grid of panels only the bottom row keeps its x-axis title;
 * - the horizontal legend sits at the bottom of the chart, below the x-axis title, and the chart
 *   grows by its rows instead of squeezing the data;
 * - the top strip is reserved: the modebar first, then the step labels below it.
 */
function themeLayout(block: PlotBlock, widthPx: number): Obj {
  const css = getComputedStyle(document.body);
  const fg = css.getPropertyValue('--vscode-editor-foreground').trim() || '#444';
  const grid = css.getPropertyValue('--vscode-editorWidget-border').trim() || 'rgba(128,128,128,0.25)';
  const font = css.getPropertyValue('--vscode-font-family').trim() || 'sans-serif';
  const base: Obj = { ...(block.layout ?? {}) };
  delete base.title;
  // outside ticks and a standoff keep the first x label and the first y label apart at the corner
  const axis = (a: unknown): Obj => ({ gridcolor: grid, zerolinecolor: grid, linecolor: grid, ticks: 'outside', ticklen: 3, tickcolor: grid, ticklabelstandoff: 3, ...(isObj(a) ? a : {}), automargin: true });
  const entries = legendEntries(block.data, base);
  const perRow = Math.max(1, Math.floor((widthPx - 40) / 210));
  const legendRows = entries === 0 ? 0 : Math.ceil(entries / perRow);
  const legendPx = legendRows * 19;
  const baseMargin = isObj(base.margin) ? base.margin : {};
  const topPx = 26 + (hasTopAnnotations(base) ? 16 : 0);
  const layout: Obj = {
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: 'rgba(0,0,0,0)',
    font: { color: fg, family: font, size: 11 },
    ...base,
    margin: { l: 8, r: 12, ...baseMargin, t: topPx, b: 8 + legendPx, autoexpand: true },
    height: (block.heightPx ?? (base.height as number | undefined) ?? 280) + legendPx,
  };
  if (entries > 0) {
    const legend = isObj(base.legend) ? base.legend : {};
    // below everything: anchored to the bottom of the whole chart, in the margin kept for it
    layout.legend = { ...legend, orientation: 'h', x: 0, xanchor: 'left', y: 0, yanchor: 'bottom', yref: 'container', font: { size: 10 } };
  }
  const keys = Object.keys(layout).filter((k) => /^[xy]axis\d*$/.test(k));
  for (const k of keys) layout[k] = axis(layout[k]);
  if (!('xaxis' in layout)) layout.xaxis = axis(undefined);
  if (!('yaxis' in layout)) layout.yaxis = axis(undefined);
  stackedPanels(layout);
  gridTitles(layout);
  return layout;
}

/** y axes stacked by `domain` over one x axis: anchor x to the lowest panel */
function stackedPanels(layout: Obj): void {
  const x = layout.xaxis;
  if (!isObj(x) || x.anchor !== undefined) return;
  let lowest: { id: string; start: number } | undefined;
  for (const [k, v] of Object.entries(layout)) {
    const m = /^yaxis(\d*)$/.exec(k);
    if (!m || !isObj(v) || !Array.isArray(v.domain)) continue;
    if (v.overlaying !== undefined) continue;
    if (k !== 'yaxis' && v.anchor !== 'x') continue;
    const start = Number(v.domain[0]);
    if (!lowest || start < lowest.start) lowest = { id: `y${m[1]}`, start };
  }
  if (lowest && lowest.id !== 'y') x.anchor = lowest.id;
}

/** a grid of independent panels: only the bottom row's x axes keep their titles */
function gridTitles(layout: Obj): void {
  const g = layout.grid;
  if (!isObj(g) || typeof g.rows !== 'number' || typeof g.columns !== 'number' || g.rows < 2) return;
  const columns = g.columns;
  const rows = g.rows;
  for (const [k, v] of Object.entries(layout)) {
    const m = /^xaxis(\d*)$/.exec(k);
    if (!m || !isObj(v)) continue;
    const n = m[1] === '' ? 1 : Number(m[1]);
    const row = Math.floor((n - 1) / columns);
    if (row < rows - 1) delete v.title;
  }
  // panels sharing one y scale: tick labels on the first column only (an inner panel's labels
  // sat on its left neighbour's last x label)
  for (const [k, v] of Object.entries(layout)) {
    const m = /^yaxis(\d*)$/.exec(k);
    if (!m || !isObj(v) || v.matches === undefined) continue;
    const n = m[1] === '' ? 1 : Number(m[1]);
    if ((n - 1) % columns !== 0) v.showticklabels = false;
  }
}

/**
 * Heatmaps of amounts (utilisation, memory, queued requests, bandwidth, expert load) use one
 * sequential scale where low is calm: pale to dark red on a light theme, dark to bright on a dark
 * one. Plotly's named "YlOrRd" runs the other way (0 is its darkest red), which made zero queued
 * requests and idle NICs look alarming. Diverging heatmaps (zmid set) keep their scale.
 */
function themeTraces(data: Obj[], dark: boolean): Obj[] {
  return data.map((t) => {
    if (t.type !== 'heatmap' || t.zmid !== undefined) return t;
    const colorbar = isObj(t.colorbar) ? t.colorbar : {};
    const title = isObj(colorbar.title) ? colorbar.title : {};
    return {
      ...t,
      colorscale: dark ? 'Hot' : 'YlOrRd',
      reversescale: !dark,
      colorbar: { thickness: 12, outlinewidth: 0, ...colorbar, title: { ...title, side: 'right' } },
    };
  });
}

/**
 * WebGL only where it pays: a webview keeps at most 16 WebGL contexts (older charts go blank
 * beyond that) and, for a few thousand points, SVG draws faster than a software GL context.
 */
const WEBGL_MIN_POINTS = 60_000;
function chooseRenderer(data: Record<string, unknown>[]): Record<string, unknown>[] {
  return data.map((trace) => {
    if (trace.type !== 'scattergl') return trace;
    const x = trace.x;
    const n = Array.isArray(x) ? x.length : 0;
    return n < WEBGL_MIN_POINTS ? { ...trace, type: 'scatter' } : trace;
  });
}

/**
 * A live update of a chart already drawn keeps the margins the first draw worked out: automargin
 * makes Plotly measure every tick label and draw again when a margin moves, which multiplied the
 * cost of each update (96 × 600 points: ~1.2-1.8 s instead of ~0.2-0.35 s here). Ticks of a live
 * time axis change, their extent rarely does; a resize or a new chart measures again.
 */
function keepMarginsOnUpdate(host: HTMLElement, layout: Obj): void {
  const full = (host as unknown as { _fullLayout?: { margin?: Obj; _size?: { l: number; r: number; t: number; b: number }; width?: number } })._fullLayout;
  const size = full?._size;
  if (!size || !host.dataset.rendered || full.width !== host.clientWidth) return;
  layout.margin = { ...(isObj(layout.margin) ? layout.margin : {}), l: size.l, r: size.r, t: size.t, b: size.b, autoexpand: false };
  for (const k of Object.keys(layout)) if (/^[xy]axis\d*$/.test(k) && isObj(layout[k])) (layout[k] as Obj).automargin = false;
}

/** the frame (everything but the points) each canvas chart last handed to Plotly */
const drawnFrames = new WeakMap<HTMLElement, string>();
const listening = new WeakSet<HTMLElement>();
const PLOTLY_CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ['lasso2d', 'select2d'] };
/** a canvas chart's PNG export would lack its lines: no download button there */
const CANVAS_CONFIG = { ...PLOTLY_CONFIG, modeBarButtonsToRemove: [...PLOTLY_CONFIG.modeBarButtonsToRemove, 'toImage'] };

function drawPlot(host: HTMLElement, block: PlotBlock): void {
  host.style.minHeight = `${block.heightPx ?? 280}px`;
  void loadPlotly().then(async (P) => {
    const t0 = performance.now();
    const widthPx = host.clientWidth || host.parentElement?.clientWidth || 900;
    const layout = themeLayout(block, widthPx);
    keepMarginsOnUpdate(host, layout);
    const data = themeTraces(chooseRenderer(block.data), darkTheme());
    if (canvasEligible(data, layout)) {
      // large charts: Plotly draws the frame (only when it changed), the canvas the data
      const frame = frameFigure(data, { ...layout, uirevision: 'live' }, drawnFrames.has(host) ? drawnRanges(host) : undefined);
      const signature = frameSignature(frame.traces, frame.layout);
      if (drawnFrames.get(host) !== signature) {
        await P.react(host, frame.traces, frame.layout, CANVAS_CONFIG);
        drawnFrames.set(host, signature);
        // how many draws needed Plotly (the renderer bench reports it)
        host.dataset.frames = String(Number(host.dataset.frames ?? '0') + 1);
      }
      drawSeries(host, frame.series);
      if (!listening.has(host) && typeof (host as PlotlyHost).on === 'function') {
        listening.add(host);
        // zoom, pan, autoscale and resizes move the axes: the canvas follows
        (host as PlotlyHost).on?.('plotly_relayout', () => repaint(host));
      }
    } else {
      if (drawnFrames.delete(host)) host.querySelector('canvas.moebench-canvas')?.remove();
      await P.react(host, data, layout, PLOTLY_CONFIG);
    }
    host.dataset.renderMs = (performance.now() - t0).toFixed(1);
    host.dataset.rendered = String(Number(host.dataset.rendered ?? '0') + 1);
  }).catch((err: unknown) => {
    host.textContent = `Chart could not be drawn: ${String(err)}`;
  });
}
