import * as path from 'node:path';
import { finishImport, isObject, numberAt, statsFrom, stringAt, valueAt, type ImportDraft, type Json, type StatsInput } from './build';
import { ImportFormatError } from './errors';
import { aiperfRecords, isAiperfRecordLine, parseAiperfRecordLines, recordsSummary } from './aiperf-records';
import { looksLikeAiperfCsv, parseAiperfCsv } from './aiperf-csv';
import { loadLabel } from './sglang-bench-serving';
import type { ImportContext, ImportedRun } from './types';

/**
 * NVIDIA AIPerf, three files of one artifact directory (ai-dynamo/aiperf):
 *  - `profile_export_aiperf.json`: 0.1.x wrote `{"records": {tag: MetricResult}, input_config,
 *    was_cancelled, error_summary, start_time, end_time}` (aiperf/exporters/json_exporter.py
 *    @c2776b11, v0.1.1; real file: examples/artifacts/run1 @7c31f579); from 43b78902 (#343,
 *    "Match GenAI-Perf format") the metric blocks sit at the top level, and later versions add
 *    aiperf_version, schema_version, run_info (src/aiperf/exporters/metrics_json_exporter.py @047d59dd).
 *  - `profile_export_aiperf.csv`: the same metrics in two CSV sections (aiperf-csv.ts).
 *  - `profile_export.jsonl`: one record per request (aiperf-records.ts).
 */
export function looksLikeAiperf(o: unknown): boolean {
  if (!isObject(o)) return false;
  if ('aiperf_version' in o) return true;
  if (isObject(o['records']) && isMetricBlock(Object.values(o['records'])[0])) return true;
  if (isAiperfRecordLine(o)) return true;
  const block = o['request_throughput'] ?? o['time_to_first_token'] ?? o['request_latency'];
  return isMetricBlock(block);
}

function isMetricBlock(b: unknown): boolean {
  return isObject(b) && 'avg' in b && ('unit' in b || 'p50' in b || 'p99' in b);
}

/** AIPerf's `unit` is authoritative (its schema doc); convert time to ms. */
export function msScale(unit: string | undefined): number {
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

/**
 * Tags renamed between versions: 0.1.x said `ttft` / `ttst` (its MetricResult.tag), later
 * versions `time_to_first_token` / `time_to_second_token`; the CSV's "Total Input Sequence
 * Length" is `total_isl`.
 */
const TAG_ALIASES: Record<string, string[]> = {
  time_to_first_token: ['ttft'],
  time_to_second_token: ['ttst'],
  total_isl: ['total_input_sequence_length'],
  total_osl: ['total_output_sequence_length'],
  min_request_timestamp: ['minimum_request_timestamp'],
  max_response_timestamp: ['maximum_response_timestamp'],
};

/** the metric blocks of a summary, whichever layout, under the later tag names */
export type MetricBlocks = Record<string, Json>;

function metricBlocks(o: Json): MetricBlocks {
  const source = isObject(o['records']) ? o['records'] : o;
  const out: MetricBlocks = {};
  for (const [tag, b] of Object.entries(source)) if (isObject(b) && 'unit' in b) out[tag] = b;
  return withAliases(out);
}

function withAliases(out: MetricBlocks): MetricBlocks {
  for (const [tag, aliases] of Object.entries(TAG_ALIASES)) {
    if (out[tag]) continue;
    const alias = aliases.find((a) => out[a]);
    if (alias) out[tag] = out[alias];
  }
  return out;
}

/** one metric block -> StatsInput in ms (for time metrics) */
function block(blocks: MetricBlocks, tag: string, toMs: boolean): { stats: StatsInput; percentiles: number[] } | undefined {
  const b = blocks[tag];
  if (!b) return undefined;
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

function scalar(blocks: MetricBlocks, tag: string): number | undefined {
  return numberAt(blocks[tag], 'avg');
}

function firstString(...candidates: unknown[]): string | undefined {
  for (const c of candidates) {
    if (typeof c === 'string' && c) return c;
    if (Array.isArray(c)) {
      const first: unknown = c[0];
      if (typeof first === 'string' && first) return first;
      const name = stringAt(first, 'name');
      if (name) return name;
    }
  }
  return undefined;
}

export interface AiperfLoad {
  concurrency: number | null;
  rate: number | 'inf' | null;
  phaseType?: string;
}

/**
 * The load of the profiling phase, wherever the version keeps it:
 *  - 0.1–0.7 UserConfig: `input_config.loadgen.{concurrency, request_rate}`
 *    (aiperf/common/config/loadgen_config.py @c2776b11);
 *  - 0.8+ BenchmarkConfig: `input_config.phases`, a list of phase configs `{name, kind?, type,
 *    concurrency?, rate?, ...}`; the profiling one is `kind: "profiling"` or named "profiling";
 *    a `concurrency` phase left at its default has concurrency 1 and (dumped with exclude_unset)
 *    no key (src/aiperf/config/phases.py @0205ea14, ConcurrencyPhase / RatePhaseConfig);
 *  - a sweep variation: `run_info.variation_values["phases.profiling.concurrency"]`.
 */
export function aiperfLoad(cfg: unknown, runInfo: unknown): AiperfLoad {
  const variation = valueAt(runInfo, 'variation_values');
  const fromVariation = numberAt(variation, 'phases.profiling.concurrency');
  const rateFromVariation = numberAt(variation, 'phases.profiling.rate');
  const phases = valueAt(cfg, 'phases');
  let phase: unknown;
  if (Array.isArray(phases)) {
    const list = phases.filter(isObject);
    phase = list.find((p) => p['kind'] === 'profiling') ?? list.find((p) => p['name'] === 'profiling') ?? list.filter((p) => p['kind'] !== 'warmup' && p['name'] !== 'warmup').at(-1);
  } else if (isObject(phases)) {
    phase = phases['profiling'];
  }
  const phaseType = stringAt(phase, 'type');
  const phaseConcurrency = numberAt(phase, 'concurrency') ?? (phaseType === 'concurrency' ? 1 : undefined);
  const concurrency = fromVariation ?? phaseConcurrency ?? numberAt(cfg, 'loadgen', 'concurrency') ?? null;
  const rateValue = rateFromVariation ?? numberAt(phase, 'rate') ?? numberAt(cfg, 'loadgen', 'request_rate');
  const rate = rateValue ?? (concurrency !== null ? 'inf' : null);
  return { concurrency, rate, phaseType };
}

const NOTES = [
  "AIPerf's inter_token_latency is per request (latency − TTFT) / (OSL − 1), i.e. SGLang's TPOT: it is shown as TPOT here. AIPerf's inter_chunk_latency (gaps between streamed chunks) is shown as ITL.",
  'AIPerf reports sample standard deviations (ddof=1); MoE Bench and bench_serving use population std.',
  'Output token throughput counts output + reasoning tokens (AIPerf total_osl / benchmark_duration).',
];

/** The three AIPerf files; which one this is, is told by its content. */
export function importAiperf(text: string, file: string, ctx: ImportContext = {}): ImportedRun[] {
  const trimmed = text.trimStart();
  if (looksLikeAiperfCsv(text)) {
    const blocks = withAliases(parseAiperfCsv(text, file));
    // the CSV has no configuration: take it from the JSON beside it when there is one
    const json = parseSibling(ctx, 'profile_export_aiperf.json', file);
    return [summaryRun({ blocks, top: json ?? {}, file, ctx, kind: 'csv' })];
  }
  const firstLine = trimmed.split('\n', 1)[0] ?? '';
  let first: unknown;
  try {
    first = JSON.parse(firstLine);
  } catch {
    first = undefined;
  }
  if (isAiperfRecordLine(first)) return [recordsRun(text, file, ctx)];
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (err) {
    throw new ImportFormatError(`Not JSON or CSV: ${(err as Error).message}`, { file }, 'Import profile_export_aiperf.json, profile_export_aiperf.csv or profile_export.jsonl from the AIPerf artifact directory.');
  }
  if (!isObject(o) || !looksLikeAiperf(o)) {
    throw new ImportFormatError(
      'This JSON has no AIPerf metric blocks (a "records" map, or request_throughput / time_to_first_token with avg)',
      { file },
      'Import profile_export_aiperf.json, profile_export_aiperf.csv or profile_export.jsonl from the AIPerf artifact directory.',
    );
  }
  return [summaryRun({ blocks: metricBlocks(o), top: o, file, ctx, kind: 'json' })];
}

function parseSibling(ctx: ImportContext, name: string, file: string): Json | undefined {
  const text = ctx.sibling?.(name);
  if (text === undefined) return undefined;
  try {
    const o: unknown = JSON.parse(text);
    return isObject(o) ? o : undefined;
  } catch (err) {
    throw new ImportFormatError(`${name} next to this file is not JSON: ${(err as Error).message}`, { file: path.join(path.dirname(file), name) }, 'Re-copy the AIPerf artifact directory, or import the files from a folder of their own.');
  }
}

/** profile_export.jsonl given: its summary JSON when it is beside it, else the summary of the records themselves */
function recordsRun(text: string, file: string, ctx: ImportContext): ImportedRun {
  const lines = parseAiperfRecordLines(text, file);
  const json = parseSibling(ctx, 'profile_export_aiperf.json', file);
  if (json && looksLikeAiperf(json)) return summaryRun({ blocks: metricBlocks(json), top: json, file, ctx, kind: 'jsonl', lines });
  return summaryRun({ blocks: {}, top: {}, file, ctx, kind: 'jsonl', lines });
}

interface SummaryInput {
  blocks: MetricBlocks;
  /** the JSON's top level (input_config, run_info, dates), {} when there is none */
  top: Json;
  file: string;
  ctx: ImportContext;
  kind: 'json' | 'csv' | 'jsonl';
  /** per-request lines already parsed (profile_export.jsonl given) */
  lines?: Json[];
}

function summaryRun({ blocks, top, file, ctx, kind, lines }: SummaryInput): ImportedRun {
  const cfg = top['input_config'];
  const load = aiperfLoad(cfg, top['run_info']);
  const items = valueAt(cfg, 'models', 'items');
  const model = firstString(valueAt(cfg, 'endpoint', 'model_names'), valueAt(cfg, 'model_names'), valueAt(cfg, 'models'), Array.isArray(items) ? items : undefined);
  const url = firstString(valueAt(cfg, 'endpoint', 'url'), valueAt(cfg, 'endpoint', 'urls'));
  const endpointType = firstString(valueAt(cfg, 'endpoint', 'type'), valueAt(cfg, 'endpoint', 'endpoint_type')) ?? '';
  const api = /chat/.test(endpointType) ? 'chat' : 'completions';

  // per-request records: given, or profile_export.jsonl beside the summary
  let recordLines = lines;
  if (!recordLines && kind !== 'jsonl') {
    const sib = ctx.sibling?.('profile_export.jsonl');
    if (sib !== undefined) recordLines = parseAiperfRecordLines(sib, path.join(path.dirname(file), 'profile_export.jsonl'));
  }
  const records = recordLines ? aiperfRecords(recordLines) : undefined;
  // without any summary (a lone profile_export.jsonl), the numbers come from the records
  const fromRecords = Object.keys(blocks).length === 0 && records !== undefined;
  if (fromRecords && records) Object.assign(blocks, recordsSummary(records, recordLines ?? []));

  const percentiles = new Set<number>();
  const stats = (tag: string) => {
    const b = block(blocks, tag, true);
    for (const p of b?.percentiles ?? []) percentiles.add(p);
    return b ? statsFrom(b.stats) : undefined;
  };
  const errorSummary = top['error_summary'];
  const errorCount = scalar(blocks, 'error_request_count') ?? (Array.isArray(errorSummary) ? errorSummary.reduce<number>((a, e) => a + (numberAt(e, 'count') ?? 0), 0) : undefined);
  const durationBlock = blocks['benchmark_duration'];
  const durationRaw = numberAt(durationBlock, 'avg');
  const durationSec = durationRaw !== undefined ? (durationRaw * msScale(stringAt(durationBlock, 'unit') ?? 'sec')) / 1000 : undefined;
  const totalIsl = scalar(blocks, 'total_isl');
  const totalOsl = scalar(blocks, 'total_osl') ?? scalar(blocks, 'total_output_tokens');
  const per = (x: number | undefined): number | undefined => (x !== undefined && durationSec !== undefined && durationSec > 0 ? x / durationSec : undefined);
  const reportedTotal = scalar(blocks, 'total_token_throughput');
  const notes = [...NOTES];
  if (reportedTotal === undefined && totalIsl !== undefined && totalOsl !== undefined) notes.push('This AIPerf version reports no total token throughput: it is (total_isl + total_osl) / benchmark_duration here; input throughput likewise total_isl / benchmark_duration.');
  if (kind === 'csv') notes.push('Read from profile_export_aiperf.csv, which rounds every value to 2 decimals.');
  if (fromRecords) notes.push('profile_export.jsonl alone: the summary is computed by MoE Bench from the per-request records (AIPerf definitions per record, our aggregation), not read from AIPerf.');
  if (cfg === undefined) notes.push('No AIPerf configuration beside this file: the load (concurrency, rate) is unknown.');
  const energyPerToken = scalar(blocks, 'energy_per_output_token');
  // min_request_timestamp / max_response_timestamp are epoch ns: exact, unlike start_time (naive local time)
  const firstNs = scalar(blocks, 'min_request_timestamp');
  const lastNs = scalar(blocks, 'max_response_timestamp');
  const isoOfNs = (ns: number | undefined): string | undefined => (ns !== undefined && ns > 0 ? new Date(ns / 1e6).toISOString() : undefined);
  const isoOfNaive = (s: string | undefined): string | undefined => {
    if (!s) return undefined;
    const d = new Date(s);
    return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
  };
  const createdAt = isoOfNs(firstNs) ?? isoOfNaive(stringAt(top, 'start_time'));
  // start_time is datetime.fromtimestamp(): the writer's local time without a zone
  if (isoOfNs(firstNs) === undefined && createdAt !== undefined) notes.push("AIPerf wrote the start time without a time zone; it is read as this machine's local time.");
  const draft: ImportDraft = {
    source: 'aiperf',
    file,
    index: 0,
    of: 1,
    toolVersion: stringAt(top, 'aiperf_version'),
    name: `aiperf${model ? ` · ${model}` : ` · ${path.basename(path.dirname(file))}`}`,
    stepLabel: loadLabel(load.rate, load.concurrency),
    createdAt,
    finishedAt: isoOfNs(lastNs) ?? isoOfNaive(stringAt(top, 'end_time')),
    cancelled: valueAt(top, 'was_cancelled') === true,
    api,
    definition: 'vllm',
    requestRate: load.rate,
    maxConcurrency: load.concurrency,
    model,
    url,
    spec: { input_config: cfg ?? null, run_info: top['run_info'] ?? null, file: kind },
    summary: {
      completed: scalar(blocks, 'request_count'),
      failed: errorCount ?? (fromRecords ? 0 : undefined),
      durationSec: durationSec !== undefined && Number.isFinite(durationSec) ? durationSec : undefined,
      totalInputTokens: totalIsl,
      totalOutputTokens: totalOsl,
      requestThroughput: scalar(blocks, 'request_throughput'),
      inputThroughput: per(totalIsl),
      outputThroughput: scalar(blocks, 'output_token_throughput'),
      totalThroughput: reportedTotal ?? (totalIsl !== undefined && totalOsl !== undefined ? per(totalIsl + totalOsl) : undefined),
      requestGoodput: scalar(blocks, 'goodput') ?? null,
      goodCompleted: scalar(blocks, 'good_request_count') ?? null,
      ttftMs: stats('time_to_first_token'),
      tpotMs: stats('inter_token_latency'),
      itlMs: stats('inter_chunk_latency'),
      e2eMs: stats('request_latency'),
    },
    definitionNotes: notes,
    extras: {
      output_token_throughput_per_user_avg: scalar(blocks, 'output_token_throughput_per_user') ?? null,
      time_to_second_token_avg_ms: (() => {
        const b = block(blocks, 'time_to_second_token', true);
        return b?.stats.mean ?? null;
      })(),
      energy_per_output_token_J: energyPerToken !== undefined && /j/i.test(stringAt(blocks['energy_per_output_token'], 'unit') ?? 'J') ? energyPerToken : null,
      run_label: stringAt(top, 'run_info', 'run_label') ?? null,
      phase_type: load.phaseType ?? null,
    },
    records: records ? { list: records, textsKnown: false } : undefined,
  };
  draft.summary.percentiles = [...percentiles].sort((a, b) => a - b);
  return finishImport(draft, ctx);
}
