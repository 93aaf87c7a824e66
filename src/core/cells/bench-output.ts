import type { Badge, BadgeLevel, Block, OutputDoc } from '../output/doc';
import type { LoadProgress } from '../load/runner';
import { summaryTable } from '../metrics/summary-table';
import type { ValidityCheck } from '../metrics/validity';
import { cdfPlot, latencyPlot, throughputOverTimePlot, throughputPlot, timelinePlot, type StepResult } from './bench-plots';

const RANK: Record<BadgeLevel, number> = { ok: 0, info: 1, warn: 2, error: 3 };

/**
 * One badge per validity check. Over a sweep: the worst level of any step, and the detail names
 * the steps it came from, so a single saturated step is not hidden by the others.
 */
export function validityBadges(results: readonly StepResult[]): Badge[] {
  const byId = new Map<string, { step: string; check: ValidityCheck }[]>();
  for (const r of results) for (const c of r.outcome.validity) byId.set(c.id, [...(byId.get(c.id) ?? []), { step: r.step.label, check: c }]);
  const badges: Badge[] = [];
  for (const entries of byId.values()) {
    const worst = entries.reduce((a, b) => (RANK[b.check.level] > RANK[a.check.level] ? b : a));
    if (results.length === 1) {
      badges.push({ level: worst.check.level, text: worst.check.text, detail: worst.check.detail });
      continue;
    }
    const bad = entries.filter((e) => e.check.level === worst.check.level);
    const text = worst.check.level === 'ok' || bad.length === entries.length ? worst.check.text : `${worst.check.text} (${bad.length} of ${entries.length} steps)`;
    badges.push({ level: worst.check.level, text, detail: entries.map((e) => `${e.step}: ${e.check.detail}`).join('\n') });
  }
  // problems first: the eye lands on what needs attention
  return badges.sort((a, b) => RANK[b.level] - RANK[a.level]);
}

/** what a reader looks for first in bench_serving's 38 columns (the rest stay one click away); TTFAT (time to first answer token) only exists for reasoning models */
const KEY_COLUMNS = ['Step', 'Request throughput (req/s)', 'Output token throughput (tok/s)', 'Mean TTFT (ms)', 'P99 TTFT (ms)', 'Mean TTFAT (ms)', 'P99 TTFAT (ms)', 'Mean TPOT (ms)', 'P99 TPOT (ms)', 'Median ITL (ms)', 'Failed requests', 'Request goodput (req/s)'];

/** the named columns first (those present, in that order), then the others in their order */
export function keyColumnsFirst(columns: readonly string[], rows: readonly (string | number | null)[][], keys: readonly string[]): { columns: string[]; rows: (string | number | null)[][]; key: number } {
  const first = keys.map((k) => columns.indexOf(k)).filter((i) => i >= 0);
  const order = [...first, ...columns.map((_, i) => i).filter((i) => !first.includes(i))];
  return { columns: order.map((i) => columns[i]), rows: rows.map((r) => order.map((i) => r[i] ?? null)), key: first.length };
}

export function resultDoc(name: string, results: readonly StepResult[], cancelled: boolean): OutputDoc {
  const blocks: Block[] = [];
  blocks.push({ type: 'badges', items: validityBadges(results) });
  if (cancelled) blocks.push({ type: 'text', text: '**Cancelled**: the numbers below cover only the requests that finished before the stop.' });
  const table = summaryTable(results.map((r) => ({ label: r.step.label, requestRate: r.step.requestRate, maxConcurrency: r.step.maxConcurrency, summary: r.outcome.summary })));
  const ordered = keyColumnsFirst(table.columns, table.rows, KEY_COLUMNS);
  blocks.push({ type: 'table', title: 'Serving benchmark result', columns: ordered.columns, rows: ordered.rows, keyColumns: ordered.key });
  const first = results[0]?.outcome;
  if (first) {
    blocks.push({
      type: 'kv',
      title: 'Run',
      items: [
        ['Target', first.records.length ? (first.summary.api === 'generate' ? '/generate' : first.summary.api === 'chat' ? '/v1/chat/completions' : '/v1/completions') : null],
        ['Model', first.model ?? null],
        ['Engine version', first.engineVersion ?? null],
        ['Metric definitions', first.summary.definition === 'sglang' ? 'SGLang bench_serving' : 'vLLM bench serve'],
        ['Runs', results.map((r) => r.outcome.runId).join(', ')],
      ],
    });
  }
  if (results.length > 1) blocks.push(throughputPlot(results));
  blocks.push(latencyPlot(results));
  blocks.push(cdfPlot(results));
  const last = results[results.length - 1];
  if (last) {
    blocks.push(throughputOverTimePlot(last));
    blocks.push(timelinePlot(last));
  }
  return { title: results.length > 1 ? `${name} — ${results.length} steps` : name, simulated: results.some((r) => r.outcome.simulated), runIds: results.map((r) => r.outcome.runId), blocks };
}

export interface ProgressState {
  name: string;
  stepIndex: number;
  steps: number;
  stepLabel: string;
  /** requests the step will send, when known */
  total?: number;
  durationSec?: number;
  progress: LoadProgress;
  /** rates over the last polling window */
  reqPerSec: number;
  tokPerSec: number;
  simulated: boolean;
  /**
   * Seconds since the last token or finished request while streams are open, and the idle
   * timeout that will fail them: a hung server shows as stalled live, not as a frozen bar.
   */
  stall?: { sec: number; timeoutSec: number };
}

export const STALL_SHOWN_AFTER_SEC = 5;

export function progressDoc(s: ProgressState): OutputDoc {
  const p = s.progress;
  const done = p.completed + p.failed;
  const fraction = p.phase === 'warmup' ? null : s.total ? Math.min(1, done / s.total) : s.durationSec ? Math.min(1, p.elapsedMs / 1000 / s.durationSec) : null;
  const parts = [
    p.phase === 'warmup' ? 'warming up' : `${done}${s.total ? `/${s.total}` : ''} done`,
    `${s.reqPerSec.toFixed(1)} req/s`,
    `${Math.round(s.tokPerSec).toLocaleString('en-US')} tok/s`,
    `${p.inFlight} in flight`,
  ];
  if (p.queued > 0) parts.push(`${p.queued} waiting for a slot`);
  if (p.failed > 0) parts.push(`${p.failed} failed`);
  // a few seconds of silence with streams open is a stall worth showing (they fail at the idle timeout)
  if (s.stall && p.inFlight > 0 && s.stall.sec >= STALL_SHOWN_AFTER_SEC) parts.push(`STALLED: no data for ${Math.floor(s.stall.sec)} s from ${p.inFlight} stream${p.inFlight === 1 ? '' : 's'} (they fail at ${Math.round(s.stall.timeoutSec)} s)`);
  parts.push(`${(p.elapsedMs / 1000).toFixed(1)} s`);
  return {
    title: s.steps > 1 ? `${s.name} — step ${s.stepIndex + 1}/${s.steps}: ${s.stepLabel}` : s.name,
    simulated: s.simulated,
    blocks: [{ type: 'progress', label: s.steps > 1 ? `step ${s.stepIndex + 1}/${s.steps}` : 'benchmark', fraction, detail: parts.join(' · ') }],
  };
}
