import type { Badge, Block, OutputDoc } from './doc';

/**
 * Outputs stored in a notebook are data someone else wrote: the renderer checks a doc's shape
 * before drawing it (a malformed doc gets one clear line, not a raw TypeError), and a plot keeps
 * only what our cells produce. Plotly would otherwise act on a stored figure the moment the
 * notebook opens, with no cell run: `layout.images` and image traces fetch any URL, and Plotly's
 * pseudo-HTML in text (`<a href>`, `<span style>`) makes links and paints styled text anywhere.
 * Pure (no DOM): the renderer bundle and the tests share it.
 */

/** the layout keys our cells write (bench-plots, report charts, telemetry and fault charts) */
const LAYOUT_KEYS = /^(?:title|[xy]axis\d*|barmode|legend|showlegend|height|margin|grid|annotations|shapes|hovermode|bargap|autosize|meta)$/;
/** trace types our cells write; `scattergl` is downgraded by the renderer where SVG is faster */
const TRACE_TYPES = new Set(['scatter', 'scattergl', 'bar', 'heatmap', 'histogram', 'table']);
/** keys that load something from a URL or open one, at any depth */
const DROPPED_KEYS = new Set(['images', 'source', 'href', 'link', 'url', 'src', 'layout', 'template', 'updatemenus', 'sliders', 'transforms']);
/** Plotly's pseudo-HTML: only these tags, without attributes, survive */
const PLAIN_TAG = /^<\/?(?:br|b|i|sub|sup|em|extra)\s*\/?>$/i;

export function plainPlotText(s: string): string {
  return s.replace(/<[^>]*>?/g, (tag) => (PLAIN_TAG.test(tag) ? tag : ''));
}

/**
 * A series of numbers (nulls for gaps) is kept as it is: nothing in it can load or style
 * anything, and copying 96 × 3,600 points value by value cost a live update ~10 ms.
 */
function numbersOnly(values: unknown[]): boolean {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' && v !== null) return false;
  }
  return true;
}

function clean(value: unknown, depth: number): unknown {
  if (depth > 12) return undefined;
  if (typeof value === 'string') return plainPlotText(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
  if (Array.isArray(value)) return numbersOnly(value) ? value : value.map((v) => clean(v, depth + 1));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (DROPPED_KEYS.has(k)) continue;
      const c = clean(v, depth + 1);
      if (c !== undefined) out[k] = c;
    }
    return out;
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A figure's layout with only the keys we produce, every string stripped of links and styles. */
export function safeLayout(layout: unknown): Record<string, unknown> {
  if (!isObject(layout)) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(layout)) {
    if (!LAYOUT_KEYS.test(k)) continue;
    const c = clean(v, 1);
    if (c !== undefined) out[k] = c;
  }
  return out;
}

/** Traces of the types we produce, cleaned the same way; anything else is left out. */
export function safeTraces(data: unknown): Record<string, unknown>[] {
  if (!Array.isArray(data)) return [];
  return data.filter((t): t is Record<string, unknown> => isObject(t) && TRACE_TYPES.has(String(t.type ?? 'scatter'))).map((t) => clean(t, 1) as Record<string, unknown>);
}

const str = (v: unknown): v is string => typeof v === 'string';
const optStr = (v: unknown): boolean => v === undefined || typeof v === 'string';
const cellValue = (v: unknown): boolean => v === null || typeof v === 'string' || typeof v === 'number';

function checkBlock(b: unknown, i: number): string | undefined {
  if (!isObject(b)) return `block ${i} is not an object`;
  const where = `block ${i} (${String(b.type)})`;
  switch (b.type) {
    case 'table':
      if (!optStr(b.title) || !Array.isArray(b.columns) || !b.columns.every(str) || !Array.isArray(b.rows) || !b.rows.every((r) => Array.isArray(r) && r.every(cellValue))) return `${where}: columns must be strings and rows lists of text, numbers or null`;
      if (b.units !== undefined && !(Array.isArray(b.units) && b.units.every((u) => u === null || str(u)))) return `${where}: units must be strings or null`;
      return undefined;
    case 'kv':
      if (!optStr(b.title) || !Array.isArray(b.items) || !b.items.every((x) => Array.isArray(x) && x.length === 2 && str(x[0]) && cellValue(x[1]))) return `${where}: items must be [name, value] pairs`;
      return undefined;
    case 'badges':
      if (!Array.isArray(b.items) || !b.items.every((x) => isObject(x) && ['ok', 'info', 'warn', 'error'].includes(String(x.level)) && str(x.text) && optStr((x as Partial<Badge>).detail))) return `${where}: each badge needs a level and a text`;
      return undefined;
    case 'plot':
      if (!str(b.id) || !optStr(b.title) || !Array.isArray(b.data) || (b.layout !== undefined && !isObject(b.layout)) || (b.heightPx !== undefined && !(typeof b.heightPx === 'number' && b.heightPx > 0 && b.heightPx < 10_000))) return `${where}: a plot needs an id, a list of traces and an object layout`;
      return undefined;
    case 'text':
      if (!str(b.text) || (b.format !== undefined && b.format !== 'plain' && b.format !== 'pre')) return `${where}: text must be a string`;
      return undefined;
    case 'progress':
      if (!str(b.label) || !(b.fraction === null || (typeof b.fraction === 'number' && Number.isFinite(b.fraction))) || !optStr(b.detail)) return `${where}: progress needs a label and a fraction (or null)`;
      return undefined;
    default:
      return `${where}: unknown block type`;
  }
}

/**
 * A doc safe to draw, or why not. Plot blocks come back with their layout and traces reduced to
 * what we produce (see safeLayout / safeTraces).
 */
export function validateOutputDoc(value: unknown): { doc: OutputDoc } | { error: string } {
  if (!isObject(value)) return { error: 'the output is not a MoE Bench document (not an object)' };
  if (!optStr(value.title) || (value.simulated !== undefined && typeof value.simulated !== 'boolean')) return { error: 'the output\'s title or simulated flag has the wrong type' };
  if (value.runIds !== undefined && !(Array.isArray(value.runIds) && value.runIds.every(str))) return { error: 'runIds must be a list of strings' };
  if (!Array.isArray(value.blocks)) return { error: 'the output has no list of blocks' };
  const blocks: Block[] = [];
  for (const [i, b] of value.blocks.entries()) {
    const problem = checkBlock(b, i);
    if (problem) return { error: problem };
    const block = b as unknown as Block;
    blocks.push(block.type === 'plot' ? { ...block, data: safeTraces(block.data), layout: safeLayout(block.layout) } : block);
  }
  return { doc: { ...(value as unknown as OutputDoc), blocks } };
}
