import * as path from 'node:path';
import type { ApiKind } from '../../load/types';
import { finishImport, isObject, numberAt, statsFrom, stringAt, type ImportDraft } from './build';
import { ImportFormatError } from './errors';
import { flatLatency } from './latency-keys';
import { parsePythonJson } from './loose-json';
import type { ImportedRun } from './types';

/** bench_serving --backend -> the API it drives (serving.py _BACKEND_API_PATHS) */
export function apiOfBackend(backend: string | undefined): ApiKind {
  if (!backend) return 'completions';
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
 * SGLang `bench_serving --output-file` JSONL: one JSON object per line per run, appended, keys
 * as documented in serving.py (@00f9ec47) and the older bench_serving.py.
 */
export function importSglangBenchServing(text: string, file: string): ImportedRun[] {
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
    const errors = Array.isArray(o['errors']) ? o['errors'] : undefined;
    const failed = errors ? errors.filter((e) => typeof e === 'string' && e !== '').length : undefined;
    const tag = stringAt(o, 'tag');
    const backend = stringAt(o, 'backend');
    const serverInfo = o['server_info'];
    const draft: ImportDraft = {
      source: 'sglang-bench-serving',
      file,
      index,
      of: objects.length,
      name: tag ?? path.basename(file).replace(/\.jsonl?$/i, ''),
      stepLabel: loadLabel(rate, maxConcurrency),
      api: apiOfBackend(backend),
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
        completed: numberAt(o, 'completed'),
        failed,
        durationSec: numberAt(o, 'duration'),
        totalInputTokens: numberAt(o, 'total_input_tokens'),
        totalOutputTokens: numberAt(o, 'total_output_tokens'),
        requestThroughput: numberAt(o, 'request_throughput'),
        inputThroughput: numberAt(o, 'input_throughput'),
        outputThroughput: numberAt(o, 'output_throughput'),
        totalThroughput: numberAt(o, 'total_throughput'),
        concurrency: numberAt(o, 'concurrency'),
        maxOutputTokensPerSec: numberAt(o, 'max_output_tokens_per_s'),
        maxConcurrentRequests: numberAt(o, 'max_concurrent_requests'),
        acceptLength: numberAt(o, 'accept_length') ?? null,
        ttftMs: lat('ttft'),
        tpotMs: lat('tpot'),
        itlMs: lat('itl'),
        e2eMs: lat('e2e_latency'),
      },
      definitionNotes: NOTES,
      extras: {
        total_output_tokens_retokenized: numberAt(o, 'total_output_tokens_retokenized') ?? null,
        dataset_name: stringAt(o, 'dataset_name') ?? null,
        cache_hit_rate_pct: numberAt(o, 'cache_report', 'cache_hit_rate_pct') ?? null,
      },
      tags: tag ? { tag } : undefined,
    };
    draft.summary.percentiles = [...percentiles].sort((a, b) => a - b);
    return finishImport(draft);
  });
}
