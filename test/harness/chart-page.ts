/**
 * The notebook renderer (out/media/renderer.js and the out/plotly.min.js it loads, `npm run build`)
 * in headless Chromium at a given width and VS Code theme, for layout checks: render a doc, then
 * measure every text box Plotly drew (tick labels, axis titles, legend items, annotations, colour
 * bar labels, the modebar) and report the pairs that overlap, text that overlaps a plot area it
 * does not belong to, and text cut off by the chart's edge.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { OutputDoc } from '../../src/core/output/doc';

export const OUT_DIR = path.resolve(__dirname, '../../out');

export const THEMES = {
  light: { '--vscode-editor-foreground': '#333333', '--vscode-editor-background': '#ffffff', '--vscode-editorWidget-border': '#c8c8c8' },
  dark: { '--vscode-editor-foreground': '#cccccc', '--vscode-editor-background': '#1e1e1e', '--vscode-editorWidget-border': '#454545' },
} as const;
export type ThemeName = keyof typeof THEMES;

export interface Overlap {
  plot: string;
  what: string;
}

const PAGE = (width: number, theme: Record<string, string>): string => `<!doctype html><html><head><meta charset="utf-8"><style>
:root { ${Object.entries(theme).map(([k, v]) => `${k}: ${v};`).join(' ')} --vscode-font-family: "DejaVu Sans", sans-serif; }
body { margin: 0; padding: 8px; width: ${width}px; box-sizing: border-box; background: var(--vscode-editor-background); color: var(--vscode-editor-foreground); }
</style><script>/* tsx (esbuild keepNames) wraps functions passed to page.evaluate in __name() */ window.__name = (f) => f;</script>
</head><body><div id="out"></div><script type="module">
const mod = await import('/out/media/renderer.js');
const ctx = { postMessage() {}, onDidReceiveMessage() { return { dispose() {} }; }, workspace: { isTrusted: true }, getState() {}, setState() {} };
const api = await mod.activate(ctx);
const el = document.getElementById('out');
window.renderDoc = async (text) => {
  api.renderOutputItem({ id: 'doc', mime: 'application/vnd.moebench.doc+json', metadata: {}, json: () => JSON.parse(text), text: () => text }, el);
  const want = JSON.parse(text).blocks.filter((b) => b.type === 'plot').length;
  for (let i = 0; i < 400; i++) {
    const plots = [...el.querySelectorAll('.moebench-plot')];
    if (plots.length === want && plots.every((p) => Number(p.dataset.rendered || 0) > 0)) break;
    if (el.textContent.includes('could not be drawn')) throw new Error(el.textContent.slice(0, 300));
    await new Promise((r) => setTimeout(r, 25));
  }
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
};
window.ready = true;
</script></body></html>`;

/** Runs in the page: the layout problems of every plot drawn. */
function measure(): { plot: string; what: string }[] {
  type Box = { x0: number; y0: number; x1: number; y1: number; label: string; group: string };
  const problems: { plot: string; what: string }[] = [];
  const boxOf = (e: Element, group: string, label: string): Box | undefined => {
    const r = e.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) return undefined;
    const style = getComputedStyle(e);
    if (style.visibility === 'hidden' || style.display === 'none' || Number(style.opacity) === 0) return undefined;
    return { x0: r.left, y0: r.top, x1: r.right, y1: r.bottom, label, group };
  };
  const overlap = (a: Box, b: Box, slack = 1): boolean => Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0) > slack && Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0) > slack;
  for (const host of Array.from(document.querySelectorAll<HTMLElement>('.moebench-plot'))) {
    const name = host.dataset.plotId ?? host.id ?? '?';
    const texts: Box[] = [];
    const add = (sel: string, group: string): void => {
      host.querySelectorAll(sel).forEach((e: Element) => {
        const t = (e.textContent ?? '').trim();
        if (!t) return;
        const b = boxOf(e, group, `${group} "${t.slice(0, 40)}"`);
        if (b) texts.push(b);
      });
    };
    // one group per axis for ticks: Plotly itself keeps an axis's own labels apart
    host.querySelectorAll('.xaxislayer-above > g, .yaxislayer-above > g').forEach((g: Element) => {
      g.querySelectorAll(':scope > text').forEach((e: Element) => {
        const t = (e.textContent ?? '').trim();
        const b = t ? boxOf(e, `tick:${g.getAttribute('class') ?? ''}`, `tick "${t}"`) : undefined;
        if (b) texts.push(b);
      });
    });
    add('.infolayer g[class^="g-x"][class$="title"] text, .infolayer g[class^="g-y"][class$="title"] text', 'axis title');
    add('.infolayer .legend .traces .legendtext', 'legend');
    add('.infolayer .gtitle', 'title');
    add('.annotation .annotation-text', 'annotation');
    add('.infolayer .colorbar text', 'colorbar');
    const modebar = host.querySelector('.modebar-container .modebar');
    const mb = modebar ? boxOf(modebar, 'modebar', 'modebar') : undefined;
    // plot areas (one per subplot): legends, titles and colour bars must stay off them
    const areas: Box[] = [];
    host.querySelectorAll('.draglayer .nsewdrag').forEach((e: Element) => {
      const b = boxOf(e, 'plot area', 'plot area');
      if (b) areas.push(b);
    });
    for (let i = 0; i < texts.length; i++) {
      for (let j = i + 1; j < texts.length; j++) {
        const a = texts[i];
        const b = texts[j];
        if (a.group === b.group && (a.group.startsWith('tick:') || a.group === 'legend')) continue;
        if (overlap(a, b)) problems.push({ plot: name, what: `${a.label} overlaps ${b.label}` });
      }
      if (mb && overlap(texts[i], mb)) problems.push({ plot: name, what: `${texts[i].label} is under the modebar` });
      if (['legend', 'title', 'colorbar', 'axis title'].includes(texts[i].group)) {
        for (const area of areas) if (overlap(texts[i], area, 2)) problems.push({ plot: name, what: `${texts[i].label} sits on the data` });
      }
    }
    const svg = host.querySelector('svg.main-svg');
    if (svg) {
      const frame = svg.getBoundingClientRect();
      for (const t of texts) {
        if (t.x0 < frame.left - 1 || t.x1 > frame.right + 1 || t.y0 < frame.top - 1 || t.y1 > frame.bottom + 1) problems.push({ plot: name, what: `${t.label} is cut off by the chart's edge` });
      }
    }
  }
  return problems;
}

export class ChartPage {
  private constructor(
    private readonly browser: Browser,
    private readonly server: http.Server,
    private readonly base: string,
  ) {}

  static async start(): Promise<ChartPage> {
    for (const f of ['media/renderer.js', 'plotly.min.js']) {
      if (!existsSync(path.join(OUT_DIR, f))) throw new Error(`out/${f} is missing: run npm run build`);
    }
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      res.setHeader('connection', 'close');
      const m = /^\/page\/(\d+)\/(\w+)$/.exec(url.pathname);
      if (m) {
        res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE(Number(m[1]), THEMES[m[2] as ThemeName]));
        return;
      }
      const file = path.resolve(OUT_DIR, decodeURIComponent(url.pathname.replace(/^\/out\//, '')));
      if (!url.pathname.startsWith('/out/') || !file.startsWith(OUT_DIR + path.sep) || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(file));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--font-render-hinting=none'] });
    return new ChartPage(browser, server, base);
  }

  /** Renders `doc` at `widthPx` in `theme`; returns the layout problems and a page for screenshots. */
  async render(doc: OutputDoc, widthPx: number, theme: ThemeName): Promise<{ problems: Overlap[]; page: Page }> {
    const page = await this.browser.newPage({ viewport: { width: widthPx + 16, height: 900 } });
    await page.goto(`${this.base}/page/${widthPx}/${theme}`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true, undefined, { timeout: 30_000 });
    await page.evaluate(async (text) => (window as unknown as { renderDoc(t: string): Promise<void> }).renderDoc(text), JSON.stringify(doc));
    // the modebar shows on hover: hover each plot so it is measured where a user meets it
    const problems: Overlap[] = [];
    const plots = await page.$$('.moebench-plot');
    for (const p of plots) {
      await p.hover({ position: { x: 5, y: 5 } }).catch(() => undefined);
      await page.waitForTimeout(50);
      const id = await p.getAttribute('data-plot-id');
      for (const x of await page.evaluate(measure)) if (x.plot === id) problems.push(x);
    }
    await page.mouse.move(0, 0);
    return { problems, page };
  }

  async dispose(): Promise<void> {
    await this.browser.close();
    await new Promise((r) => this.server.close(r));
  }
}
