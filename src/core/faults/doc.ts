import type { Badge, Block, PlotBlock } from '../output/doc';
import type { RequestRecord } from '../metrics/record';
import type { FaultOutcome, InjectedFault } from './analyze';
import { requestEndMs } from './analyze';

const sec = (ms: number): number => Math.round(ms) / 1000;

export function faultBadges(outcomes: readonly FaultOutcome[]): Badge[] {
  return outcomes.map((o) => {
    const level: Badge['level'] = o.detectMs === null ? (o.recovered ? 'info' : 'error') : o.recovered ? 'warn' : 'error';
    const short =
      o.detectMs === null
        ? o.recovered
          ? 'no visible effect'
          : 'not injected'
        : `${o.burst ? `${o.burst.failed} failed${o.burst.stalled ? `, ${o.burst.stalled} stalled` : ''}` : ''}, ${o.recoverMs === null ? 'no recovery' : `recovered in ${(o.recoverMs / 1000).toFixed(1)} s`}`;
    return { level, text: `${o.label.split(' (')[0]}: ${short}`, detail: o.text };
  });
}

/**
 * Requests over time (start time on x, latency on y; failures red at the moment they failed),
 * the fault moments as vertical lines and each error burst as a shaded band.
 */
export function faultTimelinePlot(records: readonly RequestRecord[], faults: readonly InjectedFault[], outcomes: readonly FaultOutcome[], id = 'fault-timeline'): PlotBlock {
  const ok = records.filter((r) => r.ok);
  const failed = records.filter((r) => !r.ok);
  const data: Record<string, unknown>[] = [
    { type: 'scattergl', mode: 'markers', name: 'completed (E2E latency)', x: ok.map((r) => sec(r.startMs)), y: ok.map((r) => Math.round(r.lastLineMs)), marker: { size: 4, color: '#2ca02c' } },
    { type: 'scattergl', mode: 'markers', name: 'failed (time to failure)', x: failed.map((r) => sec(r.startMs)), y: failed.map((r) => Math.round(requestEndMs(r) - r.startMs)), marker: { size: 6, color: '#d62728', symbol: 'x' }, text: failed.map((r) => (r.error ?? '').slice(0, 120)) },
  ];
  const shapes: Record<string, unknown>[] = [];
  const annotations: Record<string, unknown>[] = [];
  for (const f of faults) {
    shapes.push({ type: 'line', xref: 'x', yref: 'paper', x0: sec(f.atMs), x1: sec(f.atMs), y0: 0, y1: 1, line: { color: '#ff7f0e', width: 2, dash: 'dash' } });
    annotations.push({ xref: 'x', yref: 'paper', x: sec(f.atMs), y: 1, yanchor: 'bottom', showarrow: false, text: f.label.split(' (')[0] });
    if (f.endedAtMs !== null) shapes.push({ type: 'line', xref: 'x', yref: 'paper', x0: sec(f.endedAtMs), x1: sec(f.endedAtMs), y0: 0, y1: 1, line: { color: '#1f77b4', width: 1, dash: 'dot' } });
  }
  for (const o of outcomes) {
    if (o.burst) shapes.push({ type: 'rect', xref: 'x', yref: 'paper', x0: sec(o.burst.startMs), x1: sec(Math.max(o.burst.endMs, o.burst.startMs + 50)), y0: 0, y1: 1, fillcolor: '#d62728', opacity: 0.12, line: { width: 0 } });
    if (o.recoverMs !== null) shapes.push({ type: 'line', xref: 'x', yref: 'paper', x0: sec(o.atMs + o.recoverMs), x1: sec(o.atMs + o.recoverMs), y0: 0, y1: 1, line: { color: '#2ca02c', width: 2 } });
  }
  return {
    type: 'plot',
    id,
    title: 'Requests around the faults',
    data,
    layout: { xaxis: { title: { text: 'request start (s after the load began)' } }, yaxis: { title: { text: 'ms' }, type: 'log' }, shapes, annotations, legend: { orientation: 'h' } },
  };
}

export function faultBlocks(records: readonly RequestRecord[], faults: readonly InjectedFault[], outcomes: readonly FaultOutcome[]): Block[] {
  const rows = outcomes.map((o) => [
    o.label,
    sec(o.atMs),
    o.detectMs === null ? null : sec(o.detectMs),
    o.burst ? o.burst.failed : 0,
    o.burst ? o.burst.stalled : 0,
    o.burst ? sec(o.burst.endMs - o.burst.startMs) : null,
    o.recoverMs === null ? (o.detectMs === null ? null : 'no recovery') : sec(o.recoverMs),
  ]);
  return [
    { type: 'badges', items: faultBadges(outcomes) },
    { type: 'table', title: 'Faults', columns: ['Fault', 'At (s)', 'Time to detect (s)', 'Failed', 'Stalled', 'Burst window (s)', 'Time to recover (s)'], rows },
    faultTimelinePlot(records, faults, outcomes),
    { type: 'text', text: faults.flatMap((f) => [`**${f.label}**: ${f.detail.join('; ')}${f.error ? ` — failed: ${f.error}` : ''}`]).join('\n\n') },
  ];
}
