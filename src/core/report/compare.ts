import type { ComparedRun, MetricDef, MetricValue, ReportModel, ReportRow } from './types';

const SEP = ' · ';

export function rowKey(series: string, point: string): string {
  return point ? `${series}${SEP}${point}` : series;
}

/** sweep order inside a series: by concurrency, then rate (inf last), then first seen */
function loadOrder(a: ReportRow, b: ReportRow): number {
  const la = a.runs[0].load;
  const lb = b.runs[0].load;
  const c = (la.maxConcurrency ?? Infinity) - (lb.maxConcurrency ?? Infinity);
  if (Number.isFinite(c) && c !== 0) return c;
  const rate = (x: number | 'inf' | null): number => (x === 'inf' ? Infinity : (x ?? Infinity));
  const r = rate(la.requestRate) - rate(lb.requestRate);
  return Number.isFinite(r) ? r : 0;
}

/** Group runs into rows: same series and same sweep point are repeats of one measurement. */
export function groupRows(runs: readonly ComparedRun[]): ReportRow[] {
  const bySeries = new Map<string, Map<string, ReportRow>>();
  for (const run of runs) {
    let rows = bySeries.get(run.series);
    if (!rows) bySeries.set(run.series, (rows = new Map()));
    const key = rowKey(run.series, run.point);
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { key, series: run.series, point: run.point, label: key, runs: [] }));
    row.runs.push(run);
  }
  const out: ReportRow[] = [];
  for (const rows of bySeries.values()) out.push(...[...rows.values()].sort(loadOrder));
  return out;
}

export function aggregate(values: readonly (number | null)[]): MetricValue {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (xs.length === 0) return { mean: null, min: null, max: null, std: null, n: 0 };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  // repeats are a sample of the run-to-run spread: n − 1
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1)) : null;
  return { mean, min: Math.min(...xs), max: Math.max(...xs), std, n: xs.length };
}

function sameLoad(a: ReportRow, b: ReportRow): boolean {
  const la = a.runs[0].load;
  const lb = b.runs[0].load;
  if (la.maxConcurrency === null && la.requestRate === null) return false;
  return la.maxConcurrency === lb.maxConcurrency && la.requestRate === lb.requestRate;
}

/** which series a `baseline:` value names: a series, a row label, or a run id */
export function resolveBaseline(rows: readonly ReportRow[], baseline: string | undefined): string | undefined {
  if (rows.length === 0) return undefined;
  if (baseline === undefined) return rows[0].series;
  const row = rows.find((r) => r.series === baseline || r.key === baseline || r.runs.some((x) => x.id === baseline));
  return row?.series;
}

export interface CompareOptions {
  title: string;
  metrics: MetricDef[];
  baseline?: string;
  skipped?: { what: string; reason: string }[];
}

/**
 * Side-by-side comparison: per row the mean (and spread) of every metric over its repeats, and
 * the relative change against the baseline series at the same load (or, between two single
 * runs, against the baseline's only run).
 */
export function compareRuns(runs: readonly ComparedRun[], o: CompareOptions): ReportModel {
  const rows = groupRows(runs);
  const values = new Map<string, Map<string, MetricValue>>();
  for (const row of rows) values.set(row.key, new Map(o.metrics.map((m) => [m.id, aggregate(row.runs.map((r) => m.value(r)))])));
  const baseSeries = resolveBaseline(rows, o.baseline);
  const baseRows = rows.filter((r) => r.series === baseSeries);
  const deltas = new Map<string, Map<string, number | null>>();
  const baselineOf = new Map<string, string>();
  for (const row of rows) {
    if (row.series === baseSeries) continue;
    // same load first (labels differ between tools), then the same label; a lone baseline run
    // stands for a lone run of another series, but never for every point of someone's sweep
    const lone = baseRows.length === 1 && rows.filter((r) => r.series === row.series).length === 1 ? baseRows[0] : undefined;
    const base = baseRows.find((b) => sameLoad(b, row)) ?? baseRows.find((b) => b.point !== '' && b.point === row.point) ?? lone;
    if (!base) continue;
    baselineOf.set(row.key, base.key);
    const d = new Map<string, number | null>();
    for (const m of o.metrics) {
      const x = values.get(row.key)?.get(m.id)?.mean ?? null;
      const b = values.get(base.key)?.get(m.id)?.mean ?? null;
      d.set(m.id, x !== null && b !== null && b !== 0 ? (x - b) / Math.abs(b) : null);
    }
    deltas.set(row.key, d);
  }
  return {
    title: o.title,
    rows,
    metrics: o.metrics,
    values,
    deltas,
    baseline: baseSeries === undefined ? null : { series: baseSeries, rowKeys: new Set(baseRows.map((r) => r.key)) },
    baselineOf,
    skipped: o.skipped ?? [],
  };
}
