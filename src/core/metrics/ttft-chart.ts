import type { Block, PlotBlock, TableBlock } from '../output/doc';
import { REQUEST_LOG_SOURCE, type TtftDecomposition, type TtftSegmentId } from './ttft-decomposition';

const COLORS: Record<TtftSegmentId, string> = {
  router: '#8c564b',
  prefillQueue: '#ff7f0e',
  prefillCompute: '#1f77b4',
  kvTransfer: '#9467bd',
  decodeQueue: '#e377c2',
  firstDecodeStep: '#2ca02c',
  unexplained: '#7f7f7f',
};

const r2 = (v: number | null): number | null => (v === null || !Number.isFinite(v) ? null : Math.round(v * 100) / 100);

/**
 * One stacked bar per run (segments of the TTFT, the unexplained part hatched in grey, below
 * zero when stages over-attribute) beside a bar of the client's own TTFT. `relative` stacking
 * lets a negative remainder show instead of being clipped.
 */
export function ttftDecompositionPlot(runs: readonly { label: string; d: TtftDecomposition }[]): PlotBlock {
  const x = runs.map((r) => r.label);
  const ids = runs[0]?.d.segments.map((s) => s.id) ?? [];
  const data: Record<string, unknown>[] = ids.map((id) => {
    const first = runs[0].d.segments.find((s) => s.id === id);
    return {
      type: 'bar',
      name: first?.label === 'over-attributed (stages overlap)' ? 'unexplained' : (first?.label ?? id),
      offsetgroup: 'parts',
      x,
      y: runs.map((r) => r2(r.d.segments.find((s) => s.id === id)?.ms ?? null)),
      marker: { color: COLORS[id], ...(id === 'unexplained' ? { pattern: { shape: '/' } } : {}) },
      hovertext: runs.map((r) => r.d.segments.find((s) => s.id === id)?.source ?? ''),
    };
  });
  data.push({ type: 'bar', name: 'client TTFT', offsetgroup: 'client', x, y: runs.map((r) => r2(r.d.clientTtftMs)), marker: { color: '#17becf' } });
  return {
    type: 'plot',
    id: 'ttft-decomposition',
    title: 'Where TTFT went (mean per request)',
    data,
    layout: { barmode: 'relative', yaxis: { title: { text: 'ms' } }, legend: { orientation: 'h' } },
  };
}

export function ttftDecompositionTable(runs: readonly { label: string; d: TtftDecomposition }[]): TableBlock {
  const ids = runs[0]?.d.segments.map((s) => s.id) ?? [];
  const labels = runs[0]?.d.segments.map((s) => (s.id === 'unexplained' ? 'unexplained' : s.label)) ?? [];
  return {
    type: 'table',
    title: 'TTFT decomposition (ms, mean per request; server histograms over the run, per-request meta_info where the responses carry it)',
    columns: ['run', 'client TTFT', ...labels, 'KV bootstrap', 'KV alloc wait', 'KV MB / req', 'KV GB/s', 'KV metric type', 'responses with time stats', 'decode server: arrival -> KV in place', 'requests in the server log'],
    units: [null, 'ms', ...labels.map(() => 'ms'), 'ms', 'ms', 'MB', 'GB/s', null, null, 'ms', null],
    rows: runs.map((r) => {
      const kv = (name: string) => r2(r.d.kv.find((k) => k.name === name)?.value ?? null);
      return [
        r.label,
        r2(r.d.clientTtftMs),
        ...ids.map((id) => r2(r.d.segments.find((s) => s.id === id)?.ms ?? null)),
        kv('sglang:kv_transfer_bootstrap_ms'),
        kv('sglang:kv_transfer_alloc_ms'),
        kv('sglang:kv_transfer_total_mb'),
        kv('sglang:kv_transfer_speed_gb_s'),
        r.d.kv.find((k) => k.name === 'sglang:kv_transfer_latency_ms')?.type ?? 'absent',
        r.d.perRequest ? `${r.d.perRequest.requests}/${r.d.perRequest.of}` : null,
        r2(r.d.perRequest?.kvWaitMs ?? null),
        r.d.perRequestLog ? `${r.d.perRequestLog.joined}/${r.d.perRequestLog.of}` : null,
      ];
    }),
  };
}

/**
 * The servers' own per-request PD breakdown (one row per run and stage): mean, p50 and p99 over
 * the run's requests that were found in the logs, and how many had the stage. Undefined when no
 * run has one.
 */
export function ttftRequestLogTable(runs: readonly { label: string; d: TtftDecomposition }[]): TableBlock | undefined {
  const withLog = runs.filter((r) => r.d.perRequestLog);
  if (withLog.length === 0) return undefined;
  return {
    type: 'table',
    title: `PD time per request (${REQUEST_LOG_SOURCE}): each request's prefill and decode lines joined with the client's request by rid`,
    columns: ['run', 'side', 'stage', 'mean', 'p50', 'p99', 'requests', 'how the server measures it'],
    units: [null, null, null, 'ms', 'ms', 'ms', null, null],
    rows: withLog.flatMap((r) => {
      const log = r.d.perRequestLog;
      if (!log) return [];
      return log.stages.filter((st) => st.n > 0).map((st) => [r.label, st.side, st.label, r2(st.meanMs), r2(st.p50Ms), r2(st.p99Ms), `${st.n}/${log.of}`, st.source]);
    }),
  };
}

/** chart, table and the notes (what was missing, gauge-era servers), for a bench result doc */
export function ttftDecompositionBlocks(runs: readonly { label: string; d: TtftDecomposition }[]): Block[] {
  if (runs.length === 0) return [];
  const notes = [...new Set(runs.flatMap((r) => r.d.notes))];
  const blocks: Block[] = [ttftDecompositionPlot(runs), ttftDecompositionTable(runs)];
  const logTable = ttftRequestLogTable(runs);
  if (logTable) blocks.push(logTable);
  if (notes.length) blocks.push({ type: 'text', text: notes.join('\n') });
  return blocks;
}
