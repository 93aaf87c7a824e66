/**
 * Notebook renderer for MoE Bench outputs (OutputDoc JSON). Runs in the notebook webview.
 * Plotly (out/plotly.min.js, 4.8 MB) is loaded only when a doc has a plot, once per webview.
 * Live updates arrive as a new render call on the same element: plots are updated in place with
 * Plotly.react (no flicker, no re-layout of the whole output).
 */
import type { ActivationFunction, OutputItem } from 'vscode-notebook-renderer';
import type { Block, OutputDoc, PlotBlock } from '../../src/core/output/doc';
import { validateOutputDoc } from '../../src/core/output/validate-doc';
import { STYLE } from './style';

type PlotlyModule = {
  react(el: HTMLElement, data: unknown[], layout: Record<string, unknown>, config: Record<string, unknown>): Promise<unknown>;
  purge(el: HTMLElement): void;
};

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
  const frag = document.createDocumentFragment();
  if (doc.simulated) frag.appendChild(el('div', 'moebench-sim', 'SIMULATED — results come from the embedded SGLang emulator, not from GPUs'));
  if (doc.title) frag.appendChild(el('div', 'moebench-title', doc.title));
  for (const block of doc.blocks) {
    if (block.type === 'plot') {
      keep.add(block.id);
      let host = state.plots.get(block.id);
      if (!host) {
        host = el('div', 'moebench-plot');
        host.dataset.plotId = block.id;
        state.plots.set(block.id, host);
      }
      frag.appendChild(host);
      drawPlot(host, block);
    } else {
      frag.appendChild(renderBlock(block));
    }
  }
  for (const [pid, host] of state.plots) {
    if (!keep.has(pid)) {
      void loadPlotly().then((P) => P.purge(host));
      state.plots.delete(pid);
    }
  }
  root.replaceChildren(frag);
}

function renderBlock(block: Exclude<Block, PlotBlock>): HTMLElement {
  switch (block.type) {
    case 'table': {
      const wrap = el('div', 'moebench-block');
      if (block.title) wrap.appendChild(el('div', 'moebench-subtitle', block.title));
      const table = el('table', 'moebench-table');
      const head = el('tr');
      block.columns.forEach((c, i) => head.appendChild(el('th', undefined, block.units?.[i] ? `${c} (${block.units[i]})` : c)));
      table.appendChild(el('thead')).appendChild(head);
      const body = el('tbody');
      for (const row of block.rows) {
        const tr = el('tr');
        for (const cell of row) {
          const td = el('td', typeof cell === 'number' ? 'num' : undefined, formatCell(cell));
          tr.appendChild(td);
        }
        body.appendChild(tr);
      }
      table.appendChild(body);
      wrap.appendChild(table);
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

function themeLayout(block: PlotBlock): Record<string, unknown> {
  const css = getComputedStyle(document.body);
  const fg = css.getPropertyValue('--vscode-editor-foreground').trim() || '#444';
  const grid = css.getPropertyValue('--vscode-editorWidget-border').trim() || 'rgba(128,128,128,0.25)';
  const font = css.getPropertyValue('--vscode-font-family').trim() || 'sans-serif';
  const base = block.layout ?? {};
  const axis = (a: unknown): Record<string, unknown> => ({ gridcolor: grid, zerolinecolor: grid, linecolor: grid, ...(a && typeof a === 'object' ? (a as Record<string, unknown>) : {}) });
  const layout: Record<string, unknown> = {
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: 'rgba(0,0,0,0)',
    font: { color: fg, family: font, size: 11 },
    margin: { l: 56, r: 16, t: block.title ? 32 : 12, b: 40 },
    legend: { orientation: 'h', y: -0.2 },
    ...base,
    title: block.title ? { text: block.title, font: { size: 13 } } : base.title,
    height: block.heightPx ?? (base.height as number | undefined) ?? 280,
  };
  for (const k of Object.keys(layout)) if (/^[xy]axis\d*$/.test(k)) layout[k] = axis(layout[k]);
  if (!('xaxis' in layout)) layout.xaxis = axis(undefined);
  if (!('yaxis' in layout)) layout.yaxis = axis(undefined);
  return layout;
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

function drawPlot(host: HTMLElement, block: PlotBlock): void {
  host.style.minHeight = `${block.heightPx ?? 280}px`;
  void loadPlotly().then(async (P) => {
    const t0 = performance.now();
    await P.react(host, chooseRenderer(block.data), themeLayout(block), { displaylogo: false, responsive: true, modeBarButtonsToRemove: ['lasso2d', 'select2d'] });
    host.dataset.renderMs = (performance.now() - t0).toFixed(1);
    host.dataset.rendered = String(Number(host.dataset.rendered ?? '0') + 1);
  }).catch((err: unknown) => {
    host.textContent = `Chart could not be drawn: ${String(err)}`;
  });
}
