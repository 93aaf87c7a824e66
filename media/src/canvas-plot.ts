/**
 * Large charts (96 GPUs × an hour of 1 Hz samples: line charts of many series, GPU × time
 * heatmaps) are drawn on a canvas over Plotly's frame. Plotly draws what it is good at (axes,
 * ticks, titles, legend, colour bar, phase bands, annotations, zoom and pan) from the same traces
 * with their points left out; the data are one canvas pass: lines decimated to the pixel column
 * (lowest and highest value of each column kept, so no spike is lost), heatmap cells as one
 * image scaled onto the plot area.
 *
 * Why: a live update of 96 × 3,600 points through Plotly.react took ~0.4-0.5 s on this 2-core
 * machine (SVG or software WebGL), 96 × 600 ~0.2 s, a 96 × 120 heatmap ~0.1-0.2 s (Plotly paints
 * each cell and PNG-encodes the canvas on every update). Plotly recomputes every trace on each
 * call, and restyle and extendTraces end in the same full replot of the data. A live update that
 * leaves the axes alone (see liveRange) now never calls Plotly. scripts/bench-renderer.ts
 * measures this path next to a bare Plotly.react and a raw canvas draw of the same data.
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Below this many points (or heatmap cells) in a chart Plotly draws the data itself (its hover, PNG export). */
export const CANVAS_MIN_POINTS = 10_000;

/** the parts of a Plotly axis object (gd._fullLayout.xaxis...) the canvas reads */
interface FullAxis {
  _offset: number;
  _length: number;
  range: [number, number];
  type: string;
  c2p(v: number): number;
  p2c(px: number): number;
  l2p(v: number): number;
  p2l(px: number): number;
}

interface LineSeries {
  kind: 'line';
  name: string;
  x: ArrayLike<unknown>;
  y: ArrayLike<unknown>;
  xaxis: string;
  yaxis: string;
  hovertemplate?: string;
  /** the data's extent (finite values), to tell whether the line needs clipping to its plot */
  extent: { x: [number, number]; y: [number, number] };
}

interface HeatSeries {
  kind: 'heat';
  /** centre of the first column and the column width (x itself for hover) */
  x0: number;
  x: number[];
  dx: number;
  columns: number;
  /** row labels (category axis), bottom row first as Plotly orders them */
  y: string[];
  z: unknown[][];
  xaxis: string;
  yaxis: string;
  hovertemplate?: string;
}

export type CanvasSeries = LineSeries | HeatSeries;

const axisKey = (ref: unknown, letter: 'x' | 'y'): string => {
  const r = typeof ref === 'string' && ref.startsWith(letter) ? ref.slice(1) : '';
  return `${letter}axis${r === '1' ? '' : r}`;
};

const firstNonNull = (xs: unknown[]): unknown => xs.find((v) => v !== null);

/**
 * The step of evenly spaced numbers, or undefined. Bucket centres arrive rounded to whole seconds
 * (compactPlot), so a centre may be half a second off: a second (up to a quarter of a cell), or a
 * tenth of a cell, is still even; a live heatmap must not switch between canvas and Plotly from
 * one second to the next because of a rounding.
 */
function evenStep(x: unknown[]): number | undefined {
  if (x.length < 2) return x.length === 1 && typeof x[0] === 'number' ? 1 : undefined;
  const a = x[0];
  const b = x[x.length - 1];
  if (typeof a !== 'number' || typeof b !== 'number' || !(b > a)) return undefined;
  const dx = (b - a) / (x.length - 1);
  // the step itself comes from two rounded ends: a second of slack in all
  const tolerance = Math.max(0.1 * dx, Math.min(1, 0.25 * dx)) + 1e-9;
  for (let i = 1; i < x.length; i++) {
    const v = x[i];
    if (typeof v !== 'number' || Math.abs(v - (a + i * dx)) > tolerance) return undefined;
  }
  return dx;
}

function heatEligible(t: Obj, layout: Obj): boolean {
  if (!Array.isArray(t.z) || !t.z.every((row) => Array.isArray(row))) return false;
  if (!Array.isArray(t.y) || !t.y.every((v) => typeof v === 'string') || t.y.length !== t.z.length) return false;
  if (!Array.isArray(t.x) || evenStep(t.x) === undefined) return false;
  if (t.zsmooth !== undefined && t.zsmooth !== false) return false;
  const xa = layout[axisKey(t.xaxis, 'x')];
  if (isObj(xa) && xa.type !== undefined && xa.type !== 'linear') return false;
  const ya = layout[axisKey(t.yaxis, 'y')];
  if (isObj(ya) && ya.type !== undefined && ya.type !== 'category') return false;
  return true;
}

function lineEligible(t: Obj, layout: Obj): boolean {
  if (t.type !== 'scatter' && t.type !== 'scattergl') return false;
  if (t.mode !== 'lines' || t.fill !== undefined || t.stackgroup !== undefined || t.error_y !== undefined || t.text !== undefined) return false;
  if (!Array.isArray(t.x) || !Array.isArray(t.y)) return false;
  for (const k of [axisKey(t.xaxis, 'x'), axisKey(t.yaxis, 'y')]) {
    const a = layout[k];
    const type = isObj(a) ? a.type : undefined;
    if (type !== undefined && type !== 'linear' && type !== 'log') return false;
  }
  const fx = firstNonNull(t.x);
  const fy = firstNonNull(t.y);
  return (fx === undefined || typeof fx === 'number') && (fy === undefined || typeof fy === 'number');
}

/** line charts of numbers, or one evenly spaced heatmap, big enough for the canvas to pay */
export function canvasEligible(data: Obj[], layout: Obj): boolean {
  if (data.length === 0) return false;
  if (data.length === 1 && data[0].type === 'heatmap') {
    const t = data[0];
    if (!heatEligible(t, layout)) return false;
    return (t.z as unknown[][]).reduce((n, row) => n + row.length, 0) >= CANVAS_MIN_POINTS;
  }
  let points = 0;
  for (const t of data) {
    if (!lineEligible(t, layout)) return false;
    points += (t.x as unknown[]).length;
  }
  return points >= CANVAS_MIN_POINTS;
}

/** the range an axis shows for these values (tight, like Plotly's autorange of lines-only traces) */
function autoRange(lo: number, hi: number, axis: Obj): [number, number] {
  const log = axis.type === 'log';
  if (axis.rangemode === 'tozero' && !log) {
    lo = Math.min(lo, 0);
    hi = Math.max(hi, 0);
  } else if (axis.rangemode === 'nonnegative' && !log) lo = Math.max(lo, 0);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (log) {
    lo = Math.log10(lo);
    hi = Math.log10(hi);
  }
  if (lo === hi) return [lo - 1, hi + 1];
  return [lo, hi];
}

/**
 * A live redraw keeps the range it drew with while that range still holds the data and the
 * data fill at least 90 % of it; when it must move, it moves with 5 % room on the growing side.
 * A time axis that gains a second per update then changes every few minutes instead of every
 * update, and an update that leaves every range alone is drawn without Plotly at all.
 * Ranges are [low, high] here, whatever the axis direction.
 */
export function liveRange(prev: readonly [number, number] | undefined, next: [number, number]): [number, number] {
  if (!prev) return next;
  const [lo, hi] = next;
  const [p0, p1] = prev;
  // half a percent of slack at the start: rounded bucket centres wobble a heatmap's left edge by
  // a fraction of a cell. None at the end, where the newest data are
  const slack = 0.005 * (p1 - p0);
  if (lo >= p0 - slack && hi <= p1 && hi - lo >= 0.9 * (p1 - p0)) return [p0, p1];
  const pad = 0.05 * (hi - lo);
  return [lo < p0 ? lo - pad : lo, hi > p1 ? hi + pad : hi];
}

type RangeOf = (axisKey: string) => [number, number] | undefined;

/**
 * Plotly's half of a canvas chart: the same traces without their points (so Plotly keeps
 * colours, legend entries, row labels, colour bar and subplots), SVG type (no WebGL context per
 * chart), no Plotly hover (the canvas has its own), each axis given the range of the data it
 * would have autoranged to (kept steady across live updates: liveRange).
 */
export function frameFigure(data: Obj[], layout: Obj, previousRange?: RangeOf): { traces: Obj[]; layout: Obj; series: CanvasSeries[] } {
  const out: Obj = { ...layout, hovermode: false };
  const series: CanvasSeries[] = [];
  const ext = new Map<string, [number, number]>();
  const widen = (key: string, lo: number, hi: number) => {
    const [a, b] = ext.get(key) ?? [Infinity, -Infinity];
    ext.set(key, [Math.min(a, lo), Math.max(b, hi)]);
  };
  // axes that `matches` another share its range: set it once, on the axis they follow
  const target = (key: string): string => {
    const a = out[key];
    const m = isObj(a) && typeof a.matches === 'string' ? a.matches : undefined;
    return m ? axisKey(m, key[0] as 'x' | 'y') : key;
  };
  const fixed = new Set<string>();
  const heatFrames: { frame: Obj; xKey: string }[] = [];
  const traces = data.map((t) => {
    const xk = axisKey(t.xaxis, 'x');
    const yk = axisKey(t.yaxis, 'y');
    const hovertemplate = typeof t.hovertemplate === 'string' ? t.hovertemplate : undefined;
    if (t.type === 'heatmap') {
      const x = t.x as number[];
      const z = t.z as unknown[][];
      const dx = evenStep(x) ?? 1;
      series.push({ kind: 'heat', x0: x[0], x, dx, columns: x.length, y: t.y as string[], z, xaxis: xk, yaxis: yk, hovertemplate });
      widen(target(xk), x[0] - dx / 2, x[x.length - 1] + dx / 2);
      // rows are categories 0..n-1, each one unit tall
      const ya = isObj(out[yk]) ? (out[yk] as Obj) : {};
      const rows = z.length;
      out[yk] = { ...ya, type: 'category', range: ya.autorange === 'reversed' ? [rows - 0.5, -0.5] : [-0.5, rows - 0.5], autorange: false };
      fixed.add(yk);
      let zmin = typeof t.zmin === 'number' ? t.zmin : Infinity;
      let zmax = typeof t.zmax === 'number' ? t.zmax : -Infinity;
      if (typeof t.zmin !== 'number' || typeof t.zmax !== 'number') {
        for (const row of z) for (const v of row) if (typeof v === 'number') {
          if (typeof t.zmin !== 'number' && v < zmin) zmin = v;
          if (typeof t.zmax !== 'number' && v > zmax) zmax = v;
        }
      }
      if (!Number.isFinite(zmin) || !Number.isFinite(zmax)) [zmin, zmax] = [0, 1];
      // one transparent column keeps the row labels and the colour bar (Plotly hides a heatmap
      // with no number in it); the cells are the canvas's. It sits at the x range's start (set
      // below), which stays put while a live heatmap grows
      const frame: Obj = { ...t, x: [x[0]], z: z.map(() => [zmin]), zmin, zmax, zauto: false, opacity: 0 };
      heatFrames.push({ frame, xKey: target(xk) });
      delete frame.hovertemplate;
      return frame;
    }
    const xs = t.x as unknown[];
    const ys = t.y as unknown[];
    const extent: LineSeries['extent'] = { x: [Infinity, -Infinity], y: [Infinity, -Infinity] };
    series.push({ kind: 'line', name: typeof t.name === 'string' ? t.name : '', x: xs, y: ys, xaxis: xk, yaxis: yk, hovertemplate, extent });
    for (const [key, values, e] of [[target(xk), xs, extent.x], [target(yk), ys, extent.y]] as const) {
      const a = out[key];
      const log = isObj(a) && a.type === 'log';
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (typeof v !== 'number' || !Number.isFinite(v) || (log && v <= 0)) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      e[0] = lo;
      e[1] = hi;
      widen(key, lo, hi);
    }
    // one gap point: a trace with no points is made invisible by Plotly (no colour, no legend entry)
    const frame: Obj = { ...t, type: 'scatter', x: [null], y: [null] };
    delete frame.hovertemplate;
    return frame;
  });
  for (const [key, [lo, hi]] of ext) {
    if (fixed.has(key)) continue;
    const a = isObj(out[key]) ? (out[key] as Obj) : {};
    if (Array.isArray(a.range) && a.autorange !== true && a.autorange !== 'reversed') continue;
    const reversed = a.autorange === 'reversed';
    const prev = previousRange?.(key);
    const [r0, r1] = liveRange(prev && (reversed ? [prev[1], prev[0]] : prev), autoRange(lo, hi, a));
    out[key] = { ...a, range: reversed ? [r1, r0] : [r0, r1], autorange: false };
  }
  for (const { frame, xKey } of heatFrames) {
    const a = out[xKey];
    if (isObj(a) && Array.isArray(a.range)) frame.x = [Math.min(Number(a.range[0]), Number(a.range[1]))];
  }
  return { traces, layout: out, series };
}

/** the ranges a chart was last drawn with (undefined before its first draw) */
export function drawnRanges(host: HTMLElement): RangeOf | undefined {
  const full = fullLayout(host);
  if (!full) return undefined;
  return (key) => {
    const r = axis(full, key)?.range;
    return Array.isArray(r) && typeof r[0] === 'number' && typeof r[1] === 'number' ? [r[0], r[1]] : undefined;
  };
}

/** what must be the same for an update to skip Plotly entirely: everything but the points */
export function frameSignature(traces: Obj[], layout: Obj): string {
  return JSON.stringify([traces, layout]);
}

interface CanvasState {
  canvas: HTMLCanvasElement;
  tip: HTMLDivElement;
  series: CanvasSeries[];
  colors: string[];
  /** per heatmap series: 256 RGBA entries from its colour scale */
  luts: (Uint8ClampedArray | undefined)[];
  zRange: [number, number][];
}
const states = new WeakMap<HTMLElement, CanvasState>();

function fullLayout(host: HTMLElement): Obj | undefined {
  const f = (host as unknown as { _fullLayout?: unknown })._fullLayout;
  return isObj(f) ? f : undefined;
}

function axis(full: Obj, key: string): FullAxis | undefined {
  const a = full[key];
  return isObj(a) && typeof a.c2p === 'function' && typeof a.l2p === 'function' && typeof a._offset === 'number' ? (a as unknown as FullAxis) : undefined;
}

/** the canvas and tooltip of a host, placed inside Plotly's container above the data layer */
function ensureCanvas(host: HTMLElement): CanvasState {
  let s = states.get(host);
  const container = host.querySelector('.svg-container');
  if (!s) {
    const canvas = document.createElement('canvas');
    canvas.className = 'moebench-canvas';
    const tip = document.createElement('div');
    tip.className = 'moebench-tip';
    s = { canvas, tip, series: [], colors: [], luts: [], zRange: [] };
    states.set(host, s);
    const st = s;
    // the canvas takes no pointer events (Plotly's drag layer keeps zoom and pan); hover is read here
    host.addEventListener('mousemove', (e) => hover(host, st, e));
    host.addEventListener('mouseleave', () => (st.tip.style.display = 'none'));
  }
  if (container && s.canvas.parentElement !== container) {
    // after the first main-svg (grid, shapes below, axes) and before the info layer (legend, annotations)
    const main = container.querySelector('svg.main-svg');
    container.insertBefore(s.canvas, main ? main.nextSibling : container.firstChild);
    container.appendChild(s.tip);
  }
  return s;
}

const luts = new Map<string, Uint8ClampedArray | undefined>();
/** 256 RGBA entries along a Plotly colour scale ([[0, colour], ..., [1, colour]]), made once per scale */
function colorLut(scale: unknown, reverse: boolean): Uint8ClampedArray | undefined {
  const key = `${reverse}:${JSON.stringify(scale)}`;
  if (!luts.has(key)) luts.set(key, makeLut(scale, reverse));
  return luts.get(key);
}

function makeLut(scale: unknown, reverse: boolean): Uint8ClampedArray | undefined {
  if (!Array.isArray(scale) || scale.length < 2) return undefined;
  const probe = document.createElement('canvas').getContext('2d');
  if (!probe) return undefined;
  const stops = scale.map((s: unknown) => {
    const [at, color] = Array.isArray(s) ? s : [0, '#000'];
    probe.fillStyle = '#000';
    probe.fillStyle = String(color);
    probe.fillRect(0, 0, 1, 1);
    const px = probe.getImageData(0, 0, 1, 1).data;
    return { at: reverse ? 1 - Number(at) : Number(at), rgb: [px[0], px[1], px[2]] };
  });
  stops.sort((a, b) => a.at - b.at);
  const lut = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const f = i / 255;
    let k = 0;
    while (k < stops.length - 2 && f > stops[k + 1].at) k++;
    const a = stops[k];
    const b = stops[k + 1];
    const t = b.at > a.at ? Math.min(1, Math.max(0, (f - a.at) / (b.at - a.at))) : 0;
    for (let c = 0; c < 3; c++) lut[i * 4 + c] = a.rgb[c] + (b.rgb[c] - a.rgb[c]) * t;
    lut[i * 4 + 3] = 255;
  }
  return lut;
}

/** Draw `series` over the Plotly frame already in `host`. */
export function drawSeries(host: HTMLElement, series: CanvasSeries[]): void {
  const full = fullLayout(host);
  if (!full) return;
  const s = ensureCanvas(host);
  const fullData = (host as unknown as { _fullData?: Obj[] })._fullData ?? [];
  s.series = series;
  s.colors = series.map((_, i) => {
    const line = fullData[i]?.line;
    return isObj(line) && typeof line.color === 'string' ? line.color : '#1f77b4';
  });
  s.luts = series.map((ser, i) => (ser.kind === 'heat' ? colorLut(fullData[i]?.colorscale, fullData[i]?.reversescale === true) : undefined));
  s.zRange = series.map((_, i) => [Number(fullData[i]?.zmin ?? 0), Number(fullData[i]?.zmax ?? 1)]);
  paint(host, s, full);
}

/** Redraw after Plotly moved the axes (zoom, pan, autoscale, resize). */
export function repaint(host: HTMLElement): void {
  const s = states.get(host);
  const full = fullLayout(host);
  if (s && full) paint(host, s, full);
}

function paint(host: HTMLElement, s: CanvasState, full: Obj): void {
  // the canvas covers the plot areas only (one pixel of margin for lines on an edge): every
  // update clears, rasterises and composites all of its pixels
  let left = Infinity;
  let top = Infinity;
  let right = -Infinity;
  let bottom = -Infinity;
  for (const ser of s.series) {
    const xa = axis(full, ser.xaxis);
    const ya = axis(full, ser.yaxis);
    if (!xa || !ya) continue;
    left = Math.min(left, xa._offset);
    right = Math.max(right, xa._offset + xa._length);
    top = Math.min(top, ya._offset);
    bottom = Math.max(bottom, ya._offset + ya._length);
  }
  if (!(right > left && bottom > top)) return;
  left = Math.floor(left) - 1;
  top = Math.floor(top) - 1;
  const widthPx = Math.ceil(right) + 1 - left;
  const heightPx = Math.ceil(bottom) + 1 - top;
  const dpr = window.devicePixelRatio || 1;
  const c = s.canvas;
  if (c.width !== Math.round(widthPx * dpr) || c.height !== Math.round(heightPx * dpr)) {
    c.width = Math.round(widthPx * dpr);
    c.height = Math.round(heightPx * dpr);
    c.style.width = `${widthPx}px`;
    c.style.height = `${heightPx}px`;
  }
  c.style.left = `${left}px`;
  c.style.top = `${top}px`;
  const g = c.getContext('2d');
  if (!g) return;
  // drawing stays in the figure's coordinates (axis offsets)
  g.setTransform(dpr, 0, 0, dpr, -left * dpr, -top * dpr);
  g.clearRect(left, top, widthPx, heightPx);
  // one clip per subplot and one path per colour in it: software rasterisation (no GPU in a
  // remote webview, or here) pays per stroke call and per clip, not per vertex
  const groups = new Map<string, { xa: FullAxis; ya: FullAxis; byColor: Map<string, LineSeries[]>; heat: number[] }>();
  // lines inside their plot area (autoranged: nearly always) need no clip: one path per colour
  // across every subplot. Software rasterisation pays per stroke and per clip: 96 GPUs in 12
  // panels were 96 clipped strokes (~40 ms here), now 10
  const unclipped = new Map<string, { ser: LineSeries; xa: FullAxis; ya: FullAxis }[]>();
  s.series.forEach((ser, i) => {
    const key = `${ser.xaxis}/${ser.yaxis}`;
    let group = groups.get(key);
    if (!group) {
      const xa = axis(full, ser.xaxis);
      const ya = axis(full, ser.yaxis);
      if (!xa || !ya) return;
      group = { xa, ya, byColor: new Map(), heat: [] };
      groups.set(key, group);
    }
    if (ser.kind === 'heat') {
      group.heat.push(i);
      return;
    }
    if (inside(ser.extent.x, group.xa) && inside(ser.extent.y, group.ya)) {
      const free = unclipped.get(s.colors[i]) ?? [];
      free.push({ ser, xa: group.xa, ya: group.ya });
      unclipped.set(s.colors[i], free);
      return;
    }
    const list = group.byColor.get(s.colors[i]) ?? [];
    list.push(ser);
    group.byColor.set(s.colors[i], list);
  });
  // one device pixel wide whatever the trace's width: Skia draws such lines as hairlines, a
  // wider stroke is outlined and filled as a polygon (96 × 3,600 points at width 1.5: seconds)
  g.lineWidth = 1 / dpr;
  for (const { xa, ya, byColor, heat } of groups.values()) {
    g.save();
    g.beginPath();
    g.rect(xa._offset, ya._offset, xa._length, ya._length);
    g.clip();
    for (const i of heat) paintHeat(g, s.series[i] as HeatSeries, s.luts[i], s.zRange[i], xa, ya);
    for (const [color, list] of byColor) {
      g.strokeStyle = color;
      g.beginPath();
      for (const ser of list) strokeDecimated(g, ser, xa, ya);
      g.stroke();
    }
    g.restore();
  }
  for (const [color, list] of unclipped) {
    g.strokeStyle = color;
    g.beginPath();
    for (const { ser, xa, ya } of list) strokeDecimated(g, ser, xa, ya);
    g.stroke();
  }
}

/** whether values spanning [lo, hi] lie within the axis's shown range (either direction, log or linear) */
function inside([lo, hi]: [number, number], a: FullAxis): boolean {
  if (!(lo <= hi)) return true;
  const log = a.type === 'log';
  const l = log ? Math.log10(lo) : lo;
  const h = log ? Math.log10(hi) : hi;
  const r0 = Math.min(a.range[0], a.range[1]);
  const r1 = Math.max(a.range[0], a.range[1]);
  return l >= r0 && h <= r1;
}

/** the heatmap's cells, one pixel each, before they are scaled onto the plot (reused: one live heatmap redraws every second) */
let offscreen: HTMLCanvasElement | undefined;

/** every cell one pixel of an image the size of z, scaled onto the cells' extent without smoothing */
function paintHeat(g: CanvasRenderingContext2D, h: HeatSeries, lut: Uint8ClampedArray | undefined, [zmin, zmax]: [number, number], xa: FullAxis, ya: FullAxis): void {
  if (!lut || h.columns === 0 || h.z.length === 0) return;
  const rows = h.z.length;
  const cols = h.columns;
  const img = new ImageData(cols, rows);
  const px = img.data;
  const scale = zmax > zmin ? 255 / (zmax - zmin) : 0;
  // image row 0 is the top: the category at the top of the axis
  const topIsLast = ya.l2p(rows - 1) < ya.l2p(0);
  for (let r = 0; r < rows; r++) {
    const row = h.z[r];
    const imgRow = topIsLast ? rows - 1 - r : r;
    let o = imgRow * cols * 4;
    for (let col = 0; col < cols; col++, o += 4) {
      const v = row[col];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      const k = Math.max(0, Math.min(255, Math.round((v - zmin) * scale))) * 4;
      px[o] = lut[k];
      px[o + 1] = lut[k + 1];
      px[o + 2] = lut[k + 2];
      px[o + 3] = 255;
    }
  }
  const off = (offscreen ??= document.createElement('canvas'));
  if (off.width !== cols || off.height !== rows) {
    off.width = cols;
    off.height = rows;
  }
  off.getContext('2d')?.putImageData(img, 0, 0);
  const x0 = xa._offset + xa.c2p(h.x0 - h.dx / 2);
  const x1 = xa._offset + xa.c2p(h.x0 + (cols - 0.5) * h.dx);
  const yTop = ya._offset + ya.l2p(topIsLast ? rows - 0.5 : -0.5);
  const yBottom = ya._offset + ya.l2p(topIsLast ? -0.5 : rows - 0.5);
  g.imageSmoothingEnabled = false;
  g.drawImage(off, x0, yTop, x1 - x0, yBottom - yTop);
}

/**
 * Data value -> page pixel in the figure, as Plotly's c2p plus the axis offset, without a chain
 * of Plotly calls per point (96 × 3,600 points per update): linear in the value, or in its log10.
 */
function pixelOf(a: FullAxis): (v: number) => number {
  const log = a.type === 'log';
  const [r0, r1] = a.range;
  const p0 = a._offset + a.l2p(r0);
  const m = r1 !== r0 ? (a._offset + a.l2p(r1) - p0) / (r1 - r0) : 0;
  return log ? (v) => p0 + (Math.log10(v) - r0) * m : (v) => p0 + (v - r0) * m;
}

/**
 * Min/max decimation to the pixel column: per column, the lowest and the highest value in the
 * order they came, so a series of 3,600 points over 900 px is drawn with ~1,800 vertices and no
 * spike is lost (a line through a column covers its min..max anyway).
 */
function strokeDecimated(g: CanvasRenderingContext2D, ser: LineSeries, xa: FullAxis, ya: FullAxis): void {
  const xs = ser.x;
  const ys = ser.y;
  const logX = xa.type === 'log';
  const logY = ya.type === 'log';
  const px = pixelOf(xa);
  const py = pixelOf(ya);
  let col = NaN;
  let penDown = false;
  let minX = 0;
  let minY = 0;
  let maxX = 0;
  let maxY = 0;
  const flush = () => {
    if (minX <= maxX) {
      g.lineTo(minX, minY);
      if (maxY !== minY) g.lineTo(maxX, maxY);
    } else {
      g.lineTo(maxX, maxY);
      if (maxY !== minY) g.lineTo(minX, minY);
    }
  };
  const n = Math.min(xs.length, ys.length);
  for (let i = 0; i < n; i++) {
    const xv = xs[i];
    const yv = ys[i];
    if (typeof xv !== 'number' || typeof yv !== 'number' || !Number.isFinite(xv) || !Number.isFinite(yv) || (logX && xv <= 0) || (logY && yv <= 0)) {
      // a gap (null in JSON) breaks the line, as Plotly draws it with connectgaps off
      if (penDown) flush();
      penDown = false;
      col = NaN;
      continue;
    }
    const x = px(xv);
    const y = py(yv);
    const c = Math.floor(x);
    if (penDown && c === col) {
      // canvas y grows downwards: the highest value has the smallest y
      if (y > minY) {
        minY = y;
        minX = x;
      }
      if (y < maxY) {
        maxY = y;
        maxX = x;
      }
      continue;
    }
    if (penDown) flush();
    else g.moveTo(x, y);
    penDown = true;
    col = c;
    minX = maxX = x;
    minY = maxY = y;
  }
  if (penDown) flush();
}

/** the cell or the nearest point of the nearest line under the pointer, as its hovertemplate says */
function hover(host: HTMLElement, s: CanvasState, e: MouseEvent): void {
  const full = fullLayout(host);
  const container = s.canvas.parentElement;
  if (!full || !container || s.series.length === 0) return;
  const box = container.getBoundingClientRect();
  const mx = e.clientX - box.left;
  const my = e.clientY - box.top;
  let best: { d: number; text: string; px: number; py: number } | undefined;
  for (const ser of s.series) {
    const xa = axis(full, ser.xaxis);
    const ya = axis(full, ser.yaxis);
    if (!xa || !ya) continue;
    if (mx < xa._offset || mx > xa._offset + xa._length || my < ya._offset || my > ya._offset + ya._length) continue;
    const xv = xa.p2c(mx - xa._offset);
    if (ser.kind === 'heat') {
      const col = Math.floor((xv - (ser.x0 - ser.dx / 2)) / ser.dx);
      const row = Math.round(ya.p2l(my - ya._offset));
      const z = ser.z[row]?.[col];
      if (col < 0 || col >= ser.columns || typeof z !== 'number') continue;
      best = { d: 0, text: hoverText({ x: ser.x[col], y: ser.y[row], z }, ser.hovertemplate), px: mx, py: my };
      continue;
    }
    const i = nearestIndex(ser.x, xv);
    if (i < 0) continue;
    const x = ser.x[i] as number;
    const y = ser.y[i];
    if (typeof y !== 'number') continue;
    const ppx = xa._offset + xa.c2p(x);
    const ppy = ya._offset + ya.c2p(y);
    const d = Math.abs(ppy - my) + Math.abs(ppx - mx) * 0.25;
    if (!best || d < best.d) best = { d, text: hoverText({ name: ser.name, x, y }, ser.hovertemplate), px: ppx, py: ppy };
  }
  if (!best || best.d > 40) {
    s.tip.style.display = 'none';
    return;
  }
  s.tip.textContent = best.text;
  s.tip.style.display = 'block';
  s.tip.style.left = `${Math.max(0, Math.min(best.px + 8, box.width - s.tip.offsetWidth - 4))}px`;
  s.tip.style.top = `${Math.max(0, best.py - 24)}px`;
}

/** a trace's hovertemplate with %{x}, %{y}, %{z} (and a `:.Nf` format) filled in, markup left out */
export function hoverText(p: { name?: string; x: number; y: number | string; z?: number }, template?: string): string {
  const fmt = (v: number | string | undefined, f?: string): string => {
    if (typeof v !== 'number') return v ?? '';
    const m = f ? /^\.(\d+)f$/.exec(f) : null;
    return m ? v.toFixed(Number(m[1])) : String(Math.round(v * 1000) / 1000);
  };
  if (!template) return `${p.name ? `${p.name}: ` : ''}${fmt(p.z ?? p.y)} at ${fmt(p.x)}`;
  const text = template
    .replace(/<extra>.*?<\/extra>/g, '')
    .replace(/<[^>]*>/g, ' ')
    .replace(/%\{([xyz])(?::([^}]*))?\}/g, (_, k: string, f?: string) => fmt(k === 'x' ? p.x : k === 'y' ? p.y : p.z, f))
    .trim();
  // line templates name the series and the value; the time is where the pointer is
  return p.z === undefined && !/%\{x/.test(template) ? `${text} at ${fmt(p.x)}` : text;
}

/** index of the value nearest `v` in ascending `xs` (nulls skipped); -1 when none */
function nearestIndex(xs: ArrayLike<unknown>, v: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const m = xs[mid];
    if (typeof m !== 'number' || m < v) lo = mid + 1;
    else hi = mid;
  }
  let best = -1;
  for (const i of [lo - 1, lo]) {
    const m = xs[i];
    if (i >= 0 && typeof m === 'number' && (best < 0 || Math.abs(m - v) < Math.abs((xs[best] as number) - v))) best = i;
  }
  return best;
}
