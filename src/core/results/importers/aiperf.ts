import * as path from 'node:path';
import { finishImport, isObject, numberAt, statsFrom, stringAt, valueAt, type ImportDraft, type Json, type StatsInput } from './build';
import { ImportFormatError } from './errors';
import { loadLabel } from './sglang-bench-serving';
import type { ImportedRun } from './types';

export function looksLikeAiperf(o: unknown): boolean {
  if (!isObject(o)) return false;
  if ('aiperf_version' in o) return true;
  const block = o['request_throughput'] ?? o['time_to_first_token'] ?? o['request_latency'];
  return isObject(block) && 'avg' in block && ('unit' in block || 'p50' in block || 'p99' in block);
}

/** AIPerf's `unit` is authoritative (its schema doc); convert time to ms, duration to s. */
function msScale(unit: string | undefined): number {
  switch ((unit ?? 'ms').toLowerCase()) {
    case 'ns':
      return 1e-6;
    case 'us':
    case 'µs':
      return 1e-3;
    case 's':
    case 'sec':
    case 'seconds':
      return 1000;
    default:
      return 1;
  }
}

const AIPERF_PERCENTILES = ['1', '5', '10', '25', '50', '75', '90', '95', '99'];

/** one metric block -> StatsInput in ms (for time metrics) */
function block(o: Json, tag: string, toMs: boolean): { stats: StatsInput; percentiles: number[] } | undefined {
  const b = o[tag];
  if (!isObject(b)) return undefined;
  const scale = toMs ? msScale(stringAt(b, 'unit')) : 1;
  const n = (k: string): number | undefined => {
    const v = numberAt(b, k);
    return v === undefined ? undefined : v * scale;
  };
  const p: Record<string, number | undefined> = {};
  const percentiles: number[] = [];
  for (const k of AIPERF_PERCENTILES) {
    const v = n(`p${k}`);
    if (v === undefined) continue;
    p[`p${k}`] = v;
    percentiles.push(Number(k));
  }
  return { stats: { count: numberAt(b, 'count'), mean: n('avg'), median: n('p50'), std: n('std'), min: n('min'), max: n('max'), p }, percentiles };
}

function scalar(o: Json, tag: string): number | undefined {
  return numberAt(o, tag, 'avg');
}

function firstString(...candidates: unknown[]): string | undefined {
  for (const c of candidates) {
    if (typeof c === 'string' && c) return c;
    if (Array.isArray(c) && typeof c[0] === 'string') return c[0];
  }
  return undefined;
}

const NOTES = [
  "AIPerf's inter_token_latency is per request (latency − TTFT) / (OSL − 1), i.e. SGLang's TPOT: it is shown as TPOT here. AIPerf's inter_chunk_latency (gaps between streamed chunks) is shown as ITL.",
  'AIPerf reports sample standard deviations (ddof=1); MoE Bench and bench_serving use population std.',
  'Output token throughput counts output + reasoning tokens (AIPerf total_osl / benchmark_duration).',
];

/** `profile_export_aiperf.json` (schema 1.0–1.5, docs/reference/json-export-schema.md). */
export function importAiperf(text: string, file: string): ImportedRun[] {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (err) {
    throw new ImportFormatError(`Not JSON: ${(err as Error).message}`, { file }, 'Import profile_export_aiperf.json (the per-request profile_export.jsonl is not a summary).');
  }
  if (!looksLikeAiperf(o) || !isObject(o)) throw new ImportFormatError('This JSON has no AIPerf metric blocks (request_throughput / time_to_first_token with avg)', { file }, 'Import profile_export_aiperf.json from the AIPerf artifact directory.');
  const cfg = o['input_config'];
  const concurrency =
    numberAt(cfg, 'loadgen', 'concurrency') ?? numberAt(cfg, 'phases', 'profiling', 'concurrency') ?? numberAt(valueAt(o, 'run_info', 'variation_values'), 'phases.profiling.concurrency') ?? null;
  const rateValue = numberAt(cfg, 'loadgen', 'request_rate') ?? numberAt(cfg, 'phases', 'profiling', 'request_rate');
  const rate = rateValue ?? (concurrency !== null ? 'inf' : null);
  const items = valueAt(cfg, 'models', 'items');
  const model = firstString(valueAt(cfg, 'endpoint', 'model_names'), valueAt(cfg, 'model_names'), Array.isArray(items) ? stringAt(items[0], 'name') : undefined);
  const url = firstString(valueAt(cfg, 'endpoint', 'url'), valueAt(cfg, 'endpoint', 'urls'));
  const endpointType = firstString(valueAt(cfg, 'endpoint', 'type'), valueAt(cfg, 'endpoint', 'endpoint_type')) ?? '';
  const percentiles = new Set<number>();
  const stats = (tag: string) => {
    const b = block(o as Json, tag, true);
    for (const p of b?.percentiles ?? []) percentiles.add(p);
    return b ? statsFrom(b.stats) : undefined;
  };
  const errorSummary = o['error_summary'];
  const errorCount = scalar(o, 'error_request_count') ?? (Array.isArray(errorSummary) ? errorSummary.reduce<number>((a, e) => a + (numberAt(e, 'count') ?? 0), 0) : undefined);
  const durationBlock = o['benchmark_duration'];
  const durationSec = isObject(durationBlock) ? (numberAt(durationBlock, 'avg') ?? NaN) * (msScale(stringAt(durationBlock, 'unit') ?? 'sec') / 1000) : undefined;
  const energyPerToken = scalar(o, 'energy_per_output_token');
  const draft: ImportDraft = {
    source: 'aiperf',
    file,
    index: 0,
    of: 1,
    toolVersion: stringAt(o, 'aiperf_version'),
    name: `aiperf${model ? ` · ${model}` : ` · ${path.basename(path.dirname(file))}`}`,
    stepLabel: loadLabel(rate, concurrency),
    createdAt: stringAt(o, 'start_time'),
    finishedAt: stringAt(o, 'end_time'),
    cancelled: valueAt(o, 'was_cancelled') === true,
    api: /chat/.test(endpointType) ? 'chat' : 'completions',
    definition: 'vllm',
    requestRate: rate,
    maxConcurrency: concurrency,
    model,
    url,
    spec: { input_config: cfg ?? null, run_info: o['run_info'] ?? null },
    summary: {
      completed: scalar(o, 'request_count'),
      failed: errorCount,
      durationSec: durationSec !== undefined && Number.isFinite(durationSec) ? durationSec : undefined,
      totalInputTokens: scalar(o, 'total_isl'),
      totalOutputTokens: scalar(o, 'total_osl') ?? scalar(o, 'total_output_tokens'),
      requestThroughput: scalar(o, 'request_throughput'),
      outputThroughput: scalar(o, 'output_token_throughput'),
      totalThroughput: scalar(o, 'total_token_throughput'),
      requestGoodput: scalar(o, 'goodput') ?? null,
      goodCompleted: scalar(o, 'good_request_count') ?? null,
      ttftMs: stats('time_to_first_token'),
      tpotMs: stats('inter_token_latency'),
      itlMs: stats('inter_chunk_latency'),
      e2eMs: stats('request_latency'),
    },
    definitionNotes: NOTES,
    extras: {
      output_token_throughput_per_user_avg: scalar(o, 'output_token_throughput_per_user') ?? null,
      time_to_second_token_avg_ms: numberAt(o, 'time_to_second_token', 'avg') ?? null,
      energy_per_output_token_J: energyPerToken !== undefined && /j/i.test(stringAt(o, 'energy_per_output_token', 'unit') ?? 'J') ? energyPerToken : null,
      run_label: stringAt(o, 'run_info', 'run_label') ?? null,
    },
  };
  draft.summary.percentiles = [...percentiles].sort((a, b) => a - b);
  return [finishImport(draft)];
}
