/**
 * Prometheus text exposition format 0.0.4 (and the OpenMetrics subset servers emit: `# EOF`,
 * exemplars after ` # `). Hand-written because it is the hot path of the server collector
 * (13 endpoints per second): one pass, no regexes per line, labels kept as the raw `{...}` text
 * and parsed only when a caller asks (histogram `le`, per-rank views).
 */
export type PromType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped' | 'info' | 'stateset' | 'gaugehistogram' | 'unknown';

export interface PromSample {
  name: string;
  /** the text between `{` and `}` as served ("" when none); a stable per-series key within one server */
  labelsRaw: string;
  value: number;
  timestampMs?: number;
}

export interface PromScrape {
  /** declared type per family name (`# TYPE`) */
  types: Map<string, PromType>;
  help: Map<string, string>;
  /** samples grouped by sample name (`x_bucket`, `x_sum`... are separate names), in served order */
  byName: Map<string, PromSample[]>;
  /** lines that could not be parsed (kept for diagnostics, never thrown) */
  badLines: number;
}

export interface PromParseOptions {
  /** keep only samples whose name passes (cheap pre-filter before value parsing) */
  keep?: (sampleName: string) => boolean;
}

const TYPES = new Set<string>(['counter', 'gauge', 'histogram', 'summary', 'untyped', 'info', 'stateset', 'gaugehistogram', 'unknown']);

export function parsePrometheusText(text: string, options: PromParseOptions = {}): PromScrape {
  const scrape: PromScrape = { types: new Map(), help: new Map(), byName: new Map(), badLines: 0 };
  const keep = options.keep;
  const n = text.length;
  let pos = 0;
  while (pos < n) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = n;
    let lineEnd = end;
    if (lineEnd > pos && text.charCodeAt(lineEnd - 1) === 13) lineEnd--;
    if (lineEnd > pos) {
      if (text.charCodeAt(pos) === 35 /* # */) parseComment(text, pos, lineEnd, scrape);
      else parseSampleLine(text, pos, lineEnd, scrape, keep);
    }
    pos = end + 1;
  }
  return scrape;
}

function parseComment(text: string, start: number, end: number, scrape: PromScrape): void {
  const line = text.slice(start, end);
  const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
  if (!m) return;
  const rest = m[3] ?? '';
  if (m[1] === 'TYPE') {
    const t = rest.trim().toLowerCase();
    scrape.types.set(m[2], TYPES.has(t) ? (t as PromType) : 'unknown');
  } else {
    scrape.help.set(m[2], unescapeHelp(rest));
  }
}

function unescapeHelp(s: string): string {
  return s.includes('\\') ? s.replace(/\\(\\|n)/g, (_m, c: string) => (c === 'n' ? '\n' : '\\')) : s;
}

function parseSampleLine(text: string, start: number, end: number, scrape: PromScrape, keep: ((name: string) => boolean) | undefined): void {
  let i = start;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 123 /* { */ || c === 32 || c === 9) break;
    i++;
  }
  const name = text.slice(start, i);
  if (name === '') {
    scrape.badLines++;
    return;
  }
  if (keep && !keep(name)) return;
  let labelsRaw = '';
  if (i < end && text.charCodeAt(i) === 123) {
    const close = findLabelsEnd(text, i + 1, end);
    if (close < 0) {
      scrape.badLines++;
      return;
    }
    labelsRaw = text.slice(i + 1, close);
    i = close + 1;
  }
  while (i < end && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
  let j = i;
  while (j < end && text.charCodeAt(j) !== 32 && text.charCodeAt(j) !== 9) j++;
  const value = parsePromNumber(text.slice(i, j));
  if (value === undefined) {
    scrape.badLines++;
    return;
  }
  const sample: PromSample = { name, labelsRaw, value };
  // Optional timestamp (ms since epoch); an OpenMetrics exemplar starts with " # " and is ignored.
  while (j < end && text.charCodeAt(j) === 32) j++;
  if (j < end && text.charCodeAt(j) !== 35) {
    let k = j;
    while (k < end && text.charCodeAt(k) !== 32) k++;
    const ts = Number(text.slice(j, k));
    if (Number.isFinite(ts)) sample.timestampMs = ts;
  }
  const list = scrape.byName.get(name);
  if (list) list.push(sample);
  else scrape.byName.set(name, [sample]);
}

/** Index of the closing `}`, honouring quoted values with `\"` escapes; -1 if none. */
function findLabelsEnd(text: string, from: number, end: number): number {
  let inQuote = false;
  for (let k = from; k < end; k++) {
    const c = text.charCodeAt(k);
    if (inQuote) {
      if (c === 92 /* \ */) k++;
      else if (c === 34) inQuote = false;
    } else if (c === 34) {
      inQuote = true;
    } else if (c === 125 /* } */) {
      return k;
    }
  }
  return -1;
}

export function parsePromNumber(s: string): number | undefined {
  switch (s) {
    case '+Inf':
    case 'Inf':
    case '+inf':
      return Infinity;
    case '-Inf':
    case '-inf':
      return -Infinity;
    case 'NaN':
    case 'nan':
      return NaN;
  }
  if (s === '') return undefined;
  const v = Number(s);
  return Number.isNaN(v) ? undefined : v;
}

const labelCache = new WeakMap<PromSample, Record<string, string>>();

/** Labels of a sample as an object (escapes `\\`, `\"`, `\n` decoded). Cached per sample. */
export function labelsOf(sample: PromSample): Record<string, string> {
  const cached = labelCache.get(sample);
  if (cached) return cached;
  const labels = parseLabels(sample.labelsRaw);
  labelCache.set(sample, labels);
  return labels;
}

export function parseLabels(raw: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  const n = raw.length;
  while (i < n) {
    while (i < n && (raw[i] === ' ' || raw[i] === ',')) i++;
    if (i >= n) break;
    const eq = raw.indexOf('=', i);
    if (eq < 0) break;
    const key = raw.slice(i, eq).trim();
    i = eq + 1;
    while (i < n && raw[i] === ' ') i++;
    if (raw[i] !== '"') break;
    i++;
    let value = '';
    while (i < n && raw[i] !== '"') {
      if (raw[i] === '\\' && i + 1 < n) {
        const e = raw[i + 1];
        value += e === 'n' ? '\n' : e;
        i += 2;
      } else {
        value += raw[i];
        i++;
      }
    }
    i++;
    labels[key] = value;
  }
  return labels;
}

/** Declared type of the family a sample name belongs to (`x_bucket` -> type of `x`). */
export function familyType(scrape: PromScrape, sampleName: string): PromType | undefined {
  const direct = scrape.types.get(sampleName);
  if (direct) return direct;
  for (const suffix of ['_bucket', '_count', '_sum', '_total', '_created', '_gcount', '_gsum', '_info']) {
    if (sampleName.endsWith(suffix)) {
      const t = scrape.types.get(sampleName.slice(0, -suffix.length));
      if (t) return t;
    }
  }
  return undefined;
}
