import * as path from 'node:path';
import type { ApiKind } from '../../metrics/record';
import { finishImport, isObject, numberAt, statsFrom, stringAt, type ImportDraft, type ImportedRecords, type Json } from './build';
import { ImportFormatError } from './errors';
import { flatLatency } from './latency-keys';
import { parsePythonJson } from './loose-json';
import { recordFromTiming } from './records';
import type { ImportContext, ImportedRun } from './types';

/**
 * bench_serving --backend -> the API it drives (serving.py _BACKEND_API_PATHS). `oldLayout`: a
 * line without request_throughput and mean_ttft_ms, as bench_serving.py @50a61368 wrote it; that
 * version sent `--backend sglang` to /v1/completions (its ASYNC_REQUEST_FUNCS maps sglang to
 * async_request_openai_completions and run_benchmark builds `{base_url}/v1/completions`), which
 * the real script, run against the emulator, showed (test/fixtures/captures/README.md).
 */
export function apiOfBackend(backend: string | undefined, oldLayout = false): ApiKind {
  if (!backend) return 'completions';
  if (backend === 'sglang' && oldLayout) return 'completions';
  if (backend === 'sglang' || backend === 'sglang-native') return 'generate';
  if (backend.endsWith('-chat') || backend === 'openai-chat') return 'chat';
  return 'completions';
}

/** A line is bench_serving's when it has its key names (vLLM says e2el and total_token_throughput). */
export function looksLikeSglangLine(o: unknown): boolean {
  return isObject(o) && ('mean_e2e_latency_ms' in o || ('total_throughput' in o && 'mean_ttft_ms' in o)) && !('mean_e2el_ms' in o);
}

function rateOf(v: unknown): number | 'inf' | null {
  if (v === 'trace') return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : 'inf';
  if (typeof v === 'string' && v.toLowerCase() === 'inf') return 'inf';
  return null;
}

/** the same step labels as a moebench-bench sweep ("rate 4, concurrency 64"), so rows line up */
export function loadLabel(rate: number | 'inf' | null, maxConcurrency: number | null): string {
  const parts: string[] = [];
  if (rate !== null && rate !== 'inf') parts.push(`rate ${rate}`);
  if (maxConcurrency !== null) parts.push(`concurrency ${maxConcurrency}`);
  return parts.join(', ') || 'all at once';
}

const NOTES = [
  'SGLang bench_serving numbers as written in its JSONL (the same definitions MoE Bench uses by default).',
  'Failed requests are not reported by bench_serving; "failed" is known only when the file has per-request errors (--output-details).',
];

/**
 * --output-details: `input_lens`, `output_lens` (0 when failed), `ttfts` (s, 0.0 when no token
 * came), `itls` (gaps per request, s), `generated_texts`, `errors` ("" when it succeeded), and
 * `cached_tokens` with --cache-report; top-level keys in bench_serving.py and serving.py
 * @00f9ec47, under `details` in the refactored python/sglang/benchmark/metrics.py @6e48df33
 * (save_results). bench_serving keeps no start times, so the records all start at 0.
 */
function sglangRecords(o: Json): ImportedRecords | undefined {
  const d: Json = isObject(o['details']) ? o['details'] : o;
  const ttfts = d['ttfts'];
  if (!Array.isArray(ttfts) || ttfts.length === 0) return undefined;
  const at = (key: string, i: number): unknown => {
    const v = d[key];
    return Array.isArray(v) ? v[i] : undefined;
  };
  const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
  const texts = d['generated_texts'];
  const list = ttfts.map((ttft, i) => {
    const error = at('errors', i);
    const ok = error === '' || error === null || error === undefined;
    const itl = at('itls', i);
    const gaps = Array.isArray(itl) ? itl.map(num).filter((x): x is number => x !== null).map((x) => x * 1000) : [];
    const ttftMs = ok ? (num(ttft) ?? 0) * 1000 : null;
    const text = at('generated_texts', i);
    return recordFromTiming({
      seq: i,
      ok,
      error: ok ? undefined : String(error),
      startMs: 0,
      ttftMs,
      gapsMs: gaps,
      // bench_serving keeps no per-request latency: the last timed token ends the request
      latencyMs: null,
      promptLen: num(at('input_lens', i)) ?? 0,
      outputTokens: num(at('output_lens', i)),
      cachedTokens: num(at('cached_tokens', i)),
      text: typeof text === 'string' ? text : undefined,
    });
  });
  return { list, textsKnown: Array.isArray(texts) && texts.length === ttfts.length, datasetName: stringAt(o, 'dataset_name') };
}

/**
 * SGLang `bench_serving --output-file` JSONL: one JSON object per line per run, appended, keys
 * as documented in serving.py (@00f9ec47) and the older bench_serving.py. The refactored
 * serving.py (@6e48df33, python/sglang/benchmark/metrics.py save_results) writes the metrics
 * dataclass as is: `total_input` / `total_output` instead of `total_input_tokens` /
 * `total_output_tokens`, and the per-request arrays under `details`. Older single-file
 * versions wrote no `total_throughput` (derived here as input + output throughput).
 */
export function importSglangBenchServing(text: string, file: string, ctx: ImportContext = {}): ImportedRun[] {
  const lines = text.split('\n').map((l, i) => ({ l: l.trim(), line: i + 1 })).filter((x) => x.l !== '');
  if (lines.length === 0) throw new ImportFormatError('The file is empty', { file }, 'Point to the file bench_serving wrote with --output-file.');
  const objects = lines.map(({ l, line }) => {
    try {
      return { o: parsePythonJson(l), line };
    } catch (err) {
      throw new ImportFormatError(`Line ${line} is not JSON: ${(err as Error).message}`, { file, line }, 'bench_serving writes one JSON object per line; was the file cut short?');
    }
  });
  return objects.map(({ o, line }, index) => {
    if (!isObject(o) || !looksLikeSglangLine(o)) {
      throw new ImportFormatError(`Line ${line} does not look like a bench_serving result (no mean_e2e_latency_ms / total_throughput)`, { file, line }, 'Check that this is SGLang bench_serving output, or name the format.');
    }
    const rate = rateOf(o['request_rate']);
    const maxConcurrency = numberAt(o, 'max_concurrency') ?? null;
    const percentiles = new Set<number>();
    const lat = (m: string) => {
      const got = flatLatency(o, m);
      for (const p of got?.percentiles ?? []) percentiles.add(p);
      return got ? statsFrom({ ...got.stats, count: numberAt(o, 'completed') }) : undefined;
    };
    const detailErrors = isObject(o['details']) ? o['details']['errors'] : undefined;
    const errors = Array.isArray(o['errors']) ? o['errors'] : Array.isArray(detailErrors) ? detailErrors : undefined;
    const failed = errors ? errors.filter((e) => typeof e === 'string' && e !== '').length : undefined;
    const totalInput = numberAt(o, 'total_input_tokens') ?? numberAt(o, 'total_input');
    const totalOutput = numberAt(o, 'total_output_tokens') ?? numberAt(o, 'total_output');
    const outputThroughput = numberAt(o, 'output_throughput');
    const reportedTotal = numberAt(o, 'total_throughput');
    // bench_serving's own definition: total_throughput = (total_input + total_output) / duration
    const duration = numberAt(o, 'duration');
    const completed = numberAt(o, 'completed');
    // @50a61368 prints request and input throughput (completed / duration, total input / duration)
    // but leaves them out of its line: derived here by those definitions, as its summary shows them
    const perSecond = (n: number | undefined) => (n !== undefined && duration !== undefined && duration > 0 ? n / duration : undefined);
    const reportedRequestThroughput = numberAt(o, 'request_throughput');
    const reportedInputThroughput = numberAt(o, 'input_throughput');
    const requestThroughput = reportedRequestThroughput ?? perSecond(completed);
    const inputThroughput = reportedInputThroughput ?? perSecond(totalInput);
    const oldLayout = reportedRequestThroughput === undefined && !('mean_ttft_ms' in o);
    const totalThroughput =
      reportedTotal ??
      (inputThroughput !== undefined && outputThroughput !== undefined
        ? inputThroughput + outputThroughput
        : totalInput !== undefined && totalOutput !== undefined && duration !== undefined && duration > 0
          ? (totalInput + totalOutput) / duration
          : undefined);
    const tag = stringAt(o, 'tag');
    const backend = stringAt(o, 'backend');
    const notes = [
      ...NOTES,
      ...(reportedTotal === undefined && totalThroughput !== undefined ? ['This bench_serving version wrote no total_throughput: it is (total input + total output tokens) / duration here, its own definition.'] : []),
      ...(reportedRequestThroughput === undefined && requestThroughput !== undefined ? ['This bench_serving version wrote no request_throughput: it is completed / duration here, its own definition (the number it prints).'] : []),
      ...(reportedInputThroughput === undefined && inputThroughput !== undefined ? ['This bench_serving version wrote no input_throughput: it is total input tokens / duration here, its own definition (the number it prints).'] : []),
      ...(oldLayout && backend === 'sglang' ? ['This bench_serving version sent --backend sglang to /v1/completions (newer ones send it to /generate).'] : []),
    ];
    const serverInfo = o['server_info'];
    const draft: ImportDraft = {
      source: 'sglang-bench-serving',
      file,
      index,
      of: objects.length,
      name: tag ?? path.basename(file).replace(/\.jsonl?$/i, ''),
      stepLabel: loadLabel(rate, maxConcurrency),
      api: apiOfBackend(backend, oldLayout),
      definition: 'sglang',
      requestRate: rate,
      maxConcurrency,
      model: stringAt(serverInfo, 'served_model_name') ?? stringAt(serverInfo, 'model_path'),
      engineVersion: stringAt(serverInfo, 'version'),
      serverInfo: serverInfo ?? null,
      spec: {
        backend,
        dataset_name: o['dataset_name'],
        request_rate: o['request_rate'],
        max_concurrency: o['max_concurrency'],
        random_input_len: o['random_input_len'],
        random_output_len: o['random_output_len'],
        random_range_ratio: o['random_range_ratio'],
        sharegpt_output_len: o['sharegpt_output_len'],
      },
      summary: {
        completed,
        failed,
        durationSec: duration,
        totalInputTokens: totalInput,
        totalOutputTokens: totalOutput,
        requestThroughput,
        inputThroughput: inputThroughput,
        outputThroughput: outputThroughput,
        totalThroughput: totalThroughput,
        concurrency: numberAt(o, 'concurrency'),
        maxOutputTokensPerSec: numberAt(o, 'max_output_tokens_per_s'),
        maxConcurrentRequests: numberAt(o, 'max_concurrent_requests'),
        acceptLength: numberAt(o, 'accept_length') ?? null,
        ttftMs: lat('ttft'),
        tpotMs: lat('tpot'),
        itlMs: lat('itl'),
        e2eMs: lat('e2e_latency'),
      },
      definitionNotes: notes,
      extras: {
        total_output_tokens_retokenized: numberAt(o, 'total_output_tokens_retokenized') ?? numberAt(o, 'total_output_retokenized') ?? null,
        dataset_name: stringAt(o, 'dataset_name') ?? null,
        cache_hit_rate_pct: numberAt(o, 'cache_report', 'cache_hit_rate_pct') ?? null,
      },
      tags: tag ? { tag } : undefined,
      records: sglangRecords(o),
    };
    draft.summary.percentiles = [...percentiles].sort((a, b) => a - b);
    return finishImport(draft, ctx);
  });
}
