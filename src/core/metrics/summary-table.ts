import type { ApiKind } from './record';
import { percentileKey, type Stats } from './stats';
import type { RunSummary } from './summary';

/** bench_serving's backend names for our API kinds */
export const BACKEND_NAMES: Record<ApiKind, string> = { generate: 'sglang', completions: 'sglang-oai', chat: 'sglang-oai-chat' };

export interface SummaryRowInput {
  label: string;
  requestRate: number;
  maxConcurrency?: number;
  summary: RunSummary;
}

const round2 = (x: number | null | undefined): number | null => (x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 100) / 100);

/**
 * bench_serving's "Serving Benchmark Result" as a table, one row per run, in its order and with
 * its labels; latency blocks get mean, median and the configured percentiles.
 */
export function summaryTable(runs: readonly SummaryRowInput[]): { columns: string[]; rows: (string | number | null)[][] } {
  const first = runs[0]?.summary;
  const pcts = first?.percentiles ?? [99];
  const anyAccept = runs.some((r) => r.summary.acceptLength);
  const anyGoodput = runs.some((r) => r.summary.requestGoodput !== null);
  const columns = [
    'Step',
    'Backend',
    'Traffic request rate',
    'Max request concurrency',
    'Successful requests',
    'Failed requests',
    'Benchmark duration (s)',
    'Total input tokens',
    'Total generated tokens',
    'Request throughput (req/s)',
    'Input token throughput (tok/s)',
    'Output token throughput (tok/s)',
    'Peak output token throughput (tok/s)',
    'Peak concurrent requests',
    'Total token throughput (tok/s)',
    'Concurrency',
  ];
  if (anyAccept) columns.push('Accept length');
  if (anyGoodput) columns.push('Request goodput (req/s)');
  const blocks: [string, keyof Pick<RunSummary, 'e2eMs' | 'ttftMs' | 'tpotMs' | 'itlMs'>, boolean][] = [
    ['E2E Latency', 'e2eMs', false],
    ['TTFT', 'ttftMs', false],
    ['TPOT', 'tpotMs', false],
    ['ITL', 'itlMs', true],
  ];
  for (const [name, , withMax] of blocks) {
    columns.push(`Mean ${name} (ms)`, `Median ${name} (ms)`, ...pcts.map((p) => `${percentileKey(p).toUpperCase()} ${name} (ms)`));
    if (withMax) columns.push(`Max ${name} (ms)`);
  }
  // reasoning models: time to first answer token next to TTFT, thinking apart from the answer
  const anyReasoning = runs.some((r) => r.summary.reasoning);
  if (anyReasoning) columns.push('Mean TTFAT (ms)', 'Median TTFAT (ms)', ...pcts.map((p) => `${percentileKey(p).toUpperCase()} TTFAT (ms)`), 'Thinking tokens', 'Answer tokens', 'Thinking share (%)');
  const rows = runs.map((r) => {
    const s = r.summary;
    const row: (string | number | null)[] = [
      r.label,
      BACKEND_NAMES[s.api],
      Number.isFinite(r.requestRate) ? r.requestRate : 'inf',
      r.maxConcurrency ?? 'not set',
      s.completed,
      s.failed,
      round2(s.durationSec),
      s.totalInputTokens,
      s.totalOutputTokens,
      round2(s.requestThroughput),
      round2(s.inputThroughput),
      round2(s.outputThroughput),
      round2(s.maxOutputTokensPerSec),
      s.maxConcurrentRequests,
      round2(s.totalThroughput),
      round2(s.concurrency),
    ];
    if (anyAccept) row.push(round2(s.acceptLength));
    if (anyGoodput) row.push(round2(s.requestGoodput));
    for (const [, key, withMax] of blocks) {
      const st: Stats = s[key];
      row.push(round2(st.mean), round2(st.median), ...pcts.map((p) => round2(st.p[percentileKey(p)])));
      if (withMax) row.push(round2(st.max));
    }
    if (anyReasoning) {
      const x = s.reasoning;
      row.push(round2(x?.ttfatMs.mean), round2(x?.ttfatMs.median), ...pcts.map((p) => round2(x?.ttfatMs.p[percentileKey(p)])), x?.thinkingTokens ?? null, x?.answerTokens ?? null, round2(x ? x.thinkingShare * 100 : null));
    }
    return row;
  });
  return { columns, rows };
}

/** The same numbers under bench_serving's JSONL keys (mean_ttft_ms, p99_itl_ms...), plus vLLM's failed / request_goodput. */
export function sglangJson(s: RunSummary): Record<string, number | null> {
  const out: Record<string, number | null> = {
    duration: s.durationSec,
    completed: s.completed,
    failed: s.failed,
    total_input_tokens: s.totalInputTokens,
    total_output_tokens: s.totalOutputTokens,
    request_throughput: s.requestThroughput,
    input_throughput: s.inputThroughput,
    output_throughput: s.outputThroughput,
    total_throughput: s.totalThroughput,
  };
  const put = (name: string, st: Stats, withMax = false): void => {
    out[`mean_${name}_ms`] = st.mean;
    out[`median_${name}_ms`] = st.median;
    out[`std_${name}_ms`] = st.std;
    for (const p of s.percentiles) out[`${percentileKey(p)}_${name}_ms`] = st.p[percentileKey(p)] ?? null;
    if (withMax) out[`max_${name}_ms`] = st.max;
  };
  put('e2e_latency', s.e2eMs);
  put('ttft', s.ttftMs);
  put('tpot', s.tpotMs);
  put('itl', s.itlMs, true);
  out['concurrency'] = s.concurrency;
  out['accept_length'] = s.acceptLength;
  out['max_output_tokens_per_s'] = s.maxOutputTokensPerSec;
  out['max_concurrent_requests'] = s.maxConcurrentRequests;
  out['request_goodput'] = s.requestGoodput;
  if (s.reasoning) {
    put('ttfat', s.reasoning.ttfatMs);
    out['thinking_tokens'] = s.reasoning.thinkingTokens;
    out['answer_tokens'] = s.reasoning.answerTokens;
  }
  return out;
}

/** Markdown table; pipes in cells are escaped */
export function toMarkdown(t: { columns: string[]; rows: (string | number | null)[][] }): string {
  const cell = (v: string | number | null): string => (v === null ? '' : String(v).replace(/\|/g, '\\|'));
  const head = `| ${t.columns.map(cell).join(' | ')} |`;
  const sep = `|${t.columns.map(() => '---').join('|')}|`;
  return [head, sep, ...t.rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n') + '\n';
}

/** RFC 4180 CSV */
export function toCsv(t: { columns: string[]; rows: (string | number | null)[][] }): string {
  const cell = (v: string | number | null): string => {
    const s = v === null ? '' : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [t.columns, ...t.rows].map((r) => r.map(cell).join(',')).join('\n') + '\n';
}
