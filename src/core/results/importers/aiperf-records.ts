import type { RequestRecord } from '../../metrics/record';
import { summarize } from '../../metrics/stats';
import { isObject, numberAt, stringAt, valueAt, type Json } from './build';
import { ImportFormatError } from './errors';
import { maxOf, minOf, recordFromTiming } from './records';

/**
 * AIPerf `profile_export.jsonl`: one MetricRecordInfo per request, `{metadata, metrics, error}`;
 * every metric is `{value, unit}` and `inter_chunk_latency` a list (aiperf/common/models/
 * record_models.py, docs/tutorials/working-with-profile-exports.md; real file:
 * examples/artifacts/run1/profile_export.jsonl @7c31f579, AIPerf 0.1.1). The request's start is
 * `metadata.timestamp_ns` (0.1.x) or `metadata.request_start_ns` (later); warmup requests carry
 * `credit_phase: "warmup"` and are not part of the results.
 */
export function isAiperfRecordLine(o: unknown): boolean {
  return isObject(o) && isObject(o['metadata']) && isObject(o['metrics']);
}

export function parseAiperfRecordLines(text: string, file: string): Json[] {
  const out: Json[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch (err) {
      throw new ImportFormatError(`Line ${i + 1} is not JSON: ${(err as Error).message}`, { file, line: i + 1 }, 'AIPerf writes one JSON record per line; was the file cut short?');
    }
    if (!isAiperfRecordLine(o)) throw new ImportFormatError(`Line ${i + 1} is not an AIPerf request record (no "metadata" and "metrics")`, { file, line: i + 1 }, 'Import the profile_export.jsonl of an AIPerf artifact directory.');
    out.push(o as Json);
  });
  if (out.length === 0) throw new ImportFormatError('The file holds no request records', { file });
  return out;
}

const TIME_SCALE_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, sec: 1000 };

/** a metric of one record in ms (time) or as is */
function metricValue(metrics: unknown, tags: string[], toMs: boolean): number | undefined {
  for (const tag of tags) {
    const v = numberAt(metrics, tag, 'value');
    if (v === undefined) continue;
    return toMs ? v * (TIME_SCALE_MS[(stringAt(metrics, tag, 'unit') ?? 'ms').toLowerCase()] ?? 1) : v;
  }
  return undefined;
}

function metricList(metrics: unknown, tag: string): number[] {
  const v = valueAt(metrics, tag, 'value');
  if (!Array.isArray(v)) return [];
  const scale = TIME_SCALE_MS[(stringAt(metrics, tag, 'unit') ?? 'ms').toLowerCase()] ?? 1;
  return v.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).map((x) => x * scale);
}

function startNs(line: Json): number | undefined {
  return numberAt(line, 'metadata', 'timestamp_ns') ?? numberAt(line, 'metadata', 'request_start_ns') ?? numberAt(line, 'metrics', 'min_request_timestamp', 'value');
}

/** the measured (non-warmup) records as ours, in the file's order, start times relative to the first */
export function aiperfRecords(lines: readonly Json[]): RequestRecord[] {
  const measured = lines.filter((l) => stringAt(l, 'metadata', 'credit_phase') !== 'warmup' && stringAt(l, 'metadata', 'benchmark_phase') !== 'warmup');
  const starts = measured.map(startNs).filter((x): x is number => x !== undefined);
  const t0 = starts.length > 0 ? minOf(starts) : 0;
  return measured.map((l, seq) => {
    const m = l['metrics'];
    const err = l['error'];
    const ok = !isObject(err);
    const code = numberAt(err, 'code');
    const ns = startNs(l);
    return recordFromTiming({
      seq,
      ok,
      error: ok ? undefined : [code, stringAt(err, 'type'), stringAt(err, 'message')].filter((x) => x !== undefined && x !== '').join(' ') || 'error',
      httpStatus: code,
      // BigInt-sized ns stamps lose sub-µs precision as doubles; differences stay exact to ~0.1 µs
      startMs: ns !== undefined ? (ns - t0) / 1e6 : 0,
      ttftMs: metricValue(m, ['time_to_first_token', 'ttft'], true) ?? null,
      gapsMs: metricList(m, 'inter_chunk_latency'),
      latencyMs: metricValue(m, ['request_latency'], true) ?? null,
      promptLen: metricValue(m, ['input_sequence_length'], false) ?? 0,
      // output_sequence_length counts output + reasoning tokens, like AIPerf's total_osl
      outputTokens: metricValue(m, ['output_sequence_length', 'output_token_count'], false) ?? null,
      promptTokens: metricValue(m, ['input_sequence_length'], false) ?? null,
    });
  });
}

/** metric blocks in the summary's shape, computed from the records (when no summary file is there) */
export function recordsSummary(records: readonly RequestRecord[], lines: readonly Json[]): Record<string, Json> {
  const ok = records.filter((r) => r.ok);
  const pcts = [1, 5, 10, 25, 50, 75, 90, 95, 99];
  const blockOf = (values: number[], unit: string): Json => {
    const s = summarize(values, pcts);
    const out: Json = { unit, avg: s.mean, min: s.min, max: s.max, std: s.std, count: s.count };
    for (const p of pcts) out[`p${p}`] = s.p[`p${p}`];
    return out;
  };
  const starts = records.map((r) => r.startMs);
  const ends = records.map((r) => r.startMs + r.lastLineMs);
  const durationSec = records.length > 0 ? (maxOf(ends) - minOf(starts)) / 1000 : 0;
  const isl = ok.reduce((a, r) => a + r.promptLen, 0);
  const osl = ok.reduce((a, r) => a + (r.outputTokens ?? 0), 0);
  const ttfts = ok.filter((r) => r.chunkMs.length > 0).map((r) => r.chunkMs[0]);
  const tpots = ok.filter((r) => (r.outputTokens ?? 0) > 1 && r.chunkMs.length > 0).map((r) => (r.lastLineMs - r.chunkMs[0]) / ((r.outputTokens ?? 2) - 1));
  const gaps = ok.flatMap((r) => r.chunkMs.slice(1).map((t, k) => t - r.chunkMs[k]));
  const blocks: Record<string, Json> = {
    request_count: { unit: 'requests', avg: ok.length },
    error_request_count: { unit: 'requests', avg: records.length - ok.length },
    benchmark_duration: { unit: 'sec', avg: durationSec },
    total_isl: { unit: 'tokens', avg: isl },
    total_osl: { unit: 'tokens', avg: osl },
    request_throughput: { unit: 'requests/sec', avg: durationSec > 0 ? ok.length / durationSec : null },
    output_token_throughput: { unit: 'tokens/sec', avg: durationSec > 0 ? osl / durationSec : null },
    request_latency: blockOf(ok.map((r) => r.lastLineMs), 'ms'),
  };
  if (ttfts.length > 0) blocks['time_to_first_token'] = blockOf(ttfts, 'ms');
  if (tpots.length > 0) blocks['inter_token_latency'] = blockOf(tpots, 'ms');
  if (gaps.length > 0) blocks['inter_chunk_latency'] = blockOf(gaps, 'ms');
  const firstNs = lines.map(startNs).filter((x): x is number => x !== undefined);
  if (firstNs.length > 0) blocks['min_request_timestamp'] = { unit: 'ns', avg: minOf(firstNs) };
  return blocks;
}
