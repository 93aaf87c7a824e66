import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { finishImport, isObject, numberAt, statsFrom, stringAt, valueAt, type ImportDraft, type Json, type StatsInput } from './build';
import { ImportFormatError } from './errors';
import { loadLabel } from './sglang-bench-serving';
import type { ImportContext, ImportedRun } from './types';

export function looksLikeGuidellm(o: unknown): boolean {
  if (!isObject(o) || !Array.isArray(o['benchmarks'])) return false;
  const first: unknown = o['benchmarks'][0];
  return first === undefined || (isObject(first) && isObject(first['metrics']));
}

/** GuideLLM percentile keys -> ours: p001 is the 0.1th, p999 the 99.9th */
const PCT_KEYS: [string, string, number][] = [
  ['p001', 'p0.1', 0.1],
  ['p01', 'p1', 1],
  ['p05', 'p5', 5],
  ['p10', 'p10', 10],
  ['p25', 'p25', 25],
  ['p50', 'p50', 50],
  ['p75', 'p75', 75],
  ['p90', 'p90', 90],
  ['p95', 'p95', 95],
  ['p99', 'p99', 99],
  ['p999', 'p99.9', 99.9],
];

/** the successful-requests DistributionSummary of a StatusDistributionSummary */
function successful(metrics: unknown, name: string): Json | undefined {
  const s = valueAt(metrics, name, 'successful');
  return isObject(s) ? s : undefined;
}

function dist(d: Json | undefined): { stats: StatsInput; percentiles: number[] } | undefined {
  if (!d) return undefined;
  const p: Record<string, number | undefined> = {};
  const percentiles: number[] = [];
  for (const [theirs, ours, pct] of PCT_KEYS) {
    const v = numberAt(d, 'percentiles', theirs);
    if (v === undefined) continue;
    p[ours] = v;
    percentiles.push(pct);
  }
  return { stats: { count: numberAt(d, 'count'), mean: numberAt(d, 'mean'), median: numberAt(d, 'median'), std: numberAt(d, 'std_dev'), min: numberAt(d, 'min'), max: numberAt(d, 'max'), p }, percentiles };
}

/** strategy -> (rate, concurrency, label) */
function loadOf(strategy: unknown): { rate: number | 'inf' | null; concurrency: number | null; label: string } {
  const type = stringAt(strategy, 'type_') ?? 'unknown';
  const rate = numberAt(strategy, 'rate') ?? null;
  switch (type) {
    case 'synchronous':
      return { rate: 'inf', concurrency: 1, label: 'synchronous (concurrency 1)' };
    case 'concurrent': {
      const c = numberAt(strategy, 'streams') ?? null;
      return { rate: 'inf', concurrency: c, label: loadLabel('inf', c) };
    }
    case 'throughput': {
      const c = numberAt(strategy, 'max_concurrency') ?? null;
      return { rate: 'inf', concurrency: c, label: c === null ? 'throughput' : `throughput, concurrency ${c}` };
    }
    default: {
      // constant / poisson may be capped too (scheduler/strategies.py @v0.4.0: max_concurrency)
      const c = numberAt(strategy, 'max_concurrency') ?? null;
      const base = rate !== null ? `${type}, rate ${rate}` : type;
      return { rate, concurrency: c, label: c === null ? base : `${base}, concurrency ${c}` };
    }
  }
}

const NOTES = [
  "GuideLLM's inter_token_latency_ms is per request (last token − first token) / (output tokens − 1), i.e. SGLang's TPOT, with the distribution weighted by tokens: it is shown as TPOT here. GuideLLM keeps no per-chunk gaps, so ITL is empty.",
  "GuideLLM's own time_per_output_token_ms includes the first token (kept as an extra, not as TPOT).",
  'Throughputs are the means of GuideLLM\'s time-weighted rate distributions over the measured window (warmup/cooldown excluded); request latency is converted from seconds to ms.',
  'Incomplete (cancelled at the end) requests are counted by GuideLLM separately and are not failures here.',
];

/**
 * GuideLLM's report, as JSON or YAML (GenerativeBenchmarksReport.save_file writes either, by the
 * file's suffix: src/guidellm/benchmark/schemas/generative/report.py @v0.4.0). Two layouts:
 *  - 0.3: `{benchmarks: [{args: {strategy, profile}, run_stats: {requests_made}, worker:
 *    {backend_target, backend_model}, request_totals, start_time, end_time, duration, metrics}]}`
 *    (real file: tests/unit/entrypoints/assets/benchmarks_stripped.{json,yaml} @v0.3.0);
 *  - ≥0.4: `{args: {target, model, ...}, benchmarks: [{config: {strategy, backend, environment},
 *    scheduler_metrics: {requests_made, measure_start_time, measure_end_time}, metrics}]}`, one
 *    benchmark per strategy of the profile (a sweep or a list of rates/streams in one file).
 */
export function importGuidellm(text: string, file: string, ctx: ImportContext = {}): ImportedRun[] {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (jsonErr) {
    try {
      o = parseYaml(text);
    } catch (yamlErr) {
      const line = (yamlErr as { linePos?: { line: number }[] }).linePos?.[0]?.line;
      throw new ImportFormatError(`Neither JSON (${(jsonErr as Error).message}) nor YAML (${(yamlErr as Error).message.split('\n')[0]})`, { file, line }, 'Import the benchmarks.json or benchmarks.yaml GuideLLM wrote with --output-path.');
    }
  }
  if (!isObject(o) || !looksLikeGuidellm(o)) throw new ImportFormatError('This file has no GuideLLM "benchmarks" list with metrics', { file }, 'Import the benchmarks.json or .yaml GuideLLM wrote with --output-path.');
  const benchmarks = (o['benchmarks'] as unknown[]).filter(isObject);
  if (benchmarks.length === 0) throw new ImportFormatError('The report holds no benchmarks', { file });
  const args = o['args'];
  return benchmarks.map((b, index) => {
    const m = b['metrics'];
    const config = b['config'] ?? b['args'];
    const load = loadOf(valueAt(config, 'strategy') ?? valueAt(b, 'args', 'strategy'));
    const model = stringAt(args, 'model') ?? stringAt(config, 'backend', 'model') ?? stringAt(b, 'worker', 'backend_model');
    const totals = valueAt(m, 'request_totals') ?? valueAt(b, 'request_totals') ?? valueAt(b, 'scheduler_metrics', 'requests_made') ?? valueAt(b, 'run_stats', 'requests_made');
    const start = numberAt(b, 'start_time') ?? numberAt(b, 'scheduler_metrics', 'measure_start_time') ?? numberAt(b, 'run_stats', 'start_time');
    const end = numberAt(b, 'end_time') ?? numberAt(b, 'scheduler_metrics', 'measure_end_time') ?? numberAt(b, 'run_stats', 'end_time');
    const duration = numberAt(b, 'duration') ?? (start !== undefined && end !== undefined ? end - start : undefined);
    const percentiles = new Set<number>();
    const stats = (name: string, scale = 1) => {
      const d = dist(successful(m, name));
      for (const p of d?.percentiles ?? []) percentiles.add(p);
      return d ? statsFrom(d.stats, scale) : undefined;
    };
    const mean = (name: string): number | undefined => numberAt(successful(m, name), 'mean');
    const draft: ImportDraft = {
      source: 'guidellm',
      file,
      index,
      of: benchmarks.length,
      toolVersion: stringAt(o, 'metadata', 'guidellm_version') ?? stringAt(b, 'config', 'environment', 'guidellm_version'),
      name: `guidellm${model ? ` · ${model}` : ` · ${path.basename(file).replace(/\.(json|ya?ml)$/i, '')}`}`,
      stepLabel: load.label,
      createdAt: start !== undefined ? new Date(start * 1000).toISOString() : undefined,
      finishedAt: end !== undefined ? new Date(end * 1000).toISOString() : undefined,
      // ≥0.4 names the request shape in args.data_request_formatter (schemas/generative/entrypoints.py @v0.4.0)
      api: /chat/.test(JSON.stringify(valueAt(args, 'request_type') ?? valueAt(args, 'request_format') ?? valueAt(args, 'data_request_formatter') ?? '')) ? 'chat' : 'completions',
      definition: 'vllm',
      requestRate: load.rate,
      maxConcurrency: load.concurrency,
      model,
      // 0.3 kept the target on the worker (worker.backend_target), ≥0.4 in args / config.backend
      url: stringAt(args, 'target') ?? stringAt(config, 'backend', 'target') ?? stringAt(b, 'worker', 'backend_target'),
      spec: { strategy: valueAt(config, 'strategy') ?? null, profile: valueAt(args, 'profile') ?? null, data: valueAt(args, 'data') ?? null },
      summary: {
        completed: numberAt(totals, 'successful'),
        failed: numberAt(totals, 'errored'),
        durationSec: duration,
        totalInputTokens: numberAt(successful(m, 'prompt_token_count'), 'total_sum'),
        totalOutputTokens: numberAt(successful(m, 'output_token_count'), 'total_sum'),
        requestThroughput: mean('requests_per_second'),
        inputThroughput: mean('prompt_tokens_per_second'),
        outputThroughput: mean('output_tokens_per_second'),
        totalThroughput: mean('tokens_per_second'),
        concurrency: mean('request_concurrency'),
        maxConcurrentRequests: numberAt(successful(m, 'request_concurrency'), 'max'),
        ttftMs: stats('time_to_first_token_ms'),
        tpotMs: stats('inter_token_latency_ms'),
        e2eMs: stats('request_latency', 1000),
      },
      definitionNotes: NOTES,
      extras: {
        incomplete: numberAt(totals, 'incomplete') ?? null,
        time_per_output_token_ms_mean: mean('time_per_output_token_ms') ?? null,
        strategy: stringAt(config, 'strategy', 'type_') ?? null,
      },
    };
    draft.summary.percentiles = [...percentiles].sort((a, b) => a - b);
    return finishImport(draft, ctx);
  });
}
