import * as path from 'node:path';
import type { ApiKind } from '../../metrics/record';
import { finishImport, isObject, isReported, numberAt, statsFrom, stringAt, type ImportDraft, type ImportedRecords, type Json } from './build';
import { ImportFormatError } from './errors';
import { flatLatency } from './latency-keys';
import { parsePythonJson } from './loose-json';
import { loadLabel } from './sglang-bench-serving';
import { minOf, recordFromTiming } from './records';
import type { ImportContext, ImportedRun } from './types';

export function looksLikeVllmResult(o: unknown): boolean {
  return isObject(o) && 'mean_ttft_ms' in o && ('total_token_throughput' in o || 'mean_e2el_ms' in o || 'endpoint_type' in o || ('failed' in o && !('mean_e2e_latency_ms' in o)));
}

/** vLLM's endpoint_type / backend -> our API kind */
function apiOf(o: Json): ApiKind {
  const t = `${stringAt(o, 'endpoint_type') ?? ''} ${stringAt(o, 'backend') ?? ''}`;
  return /chat/.test(t) ? 'chat' : 'completions';
}

/** "20250101-120000" (vLLM's `date`) -> ISO, read as local time as vLLM wrote it */
function isoOfDate(date: string | undefined): string | undefined {
  const m = date ? /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})$/.exec(date) : null;
  if (!m) return undefined;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

const NOTES = [
  'vLLM bench serve numbers as written by --save-result: vLLM metric definitions (TTFT at the first chunk with choices even if empty, E2E to the last token-bearing chunk, one ITL entry per chunk, prompt tokens as the server counted them).',
  'Input throughput is not in vLLM\'s file; it is total_input_tokens / duration.',
];

/**
 * Per-request arrays: `input_lens`, `output_lens` (0 for a failed request), `ttfts` (s), `itls`
 * (a list of gaps per request, s), `generated_texts`, `errors` ("" when it succeeded), and since
 * `vllm bench serve` also `latencies` and `start_times` (perf_counter s). benchmark_serving.py
 * @0049e29c always saved them (its --save-detailed filter ran before the results were merged in);
 * serve.py @009e6d4a keeps them only with --save-detailed (`latencies`, `queue_times` always).
 */
function vllmRecords(o: Json): ImportedRecords | undefined {
  const ttfts = o['ttfts'];
  if (!Array.isArray(ttfts) || ttfts.length === 0) return undefined;
  const at = (key: string, i: number): unknown => {
    const v = o[key];
    return Array.isArray(v) ? v[i] : undefined;
  };
  const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
  const starts = Array.isArray(o['start_times']) ? o['start_times'].map(num).filter((x): x is number => x !== null) : [];
  const t0 = starts.length > 0 ? minOf(starts) : null;
  const texts = o['generated_texts'];
  const list = ttfts.map((ttft, i) => {
    const error = at('errors', i);
    const ok = error === '' || error === null || error === undefined;
    const itl = at('itls', i);
    const start = num(at('start_times', i));
    const latency = num(at('latencies', i));
    const text = at('generated_texts', i);
    return recordFromTiming({
      seq: i,
      ok,
      error: ok ? undefined : String(error),
      startMs: start !== null && t0 !== null ? (start - t0) * 1000 : 0,
      // a failed request keeps ttft 0.0 and no gaps: no chunk was received
      ttftMs: ok ? (num(ttft) ?? 0) * 1000 : null,
      gapsMs: Array.isArray(itl) ? itl.map(num).filter((x): x is number => x !== null).map((x) => x * 1000) : [],
      latencyMs: latency !== null ? latency * 1000 : null,
      promptLen: num(at('input_lens', i)) ?? 0,
      outputTokens: num(at('output_lens', i)),
      text: typeof text === 'string' ? text : undefined,
    });
  });
  return { list, textsKnown: Array.isArray(texts) && texts.length === ttfts.length, datasetName: stringAt(o, 'dataset_name') };
}

/** requests that failed: `failed` (vllm bench serve), else the non-empty `errors[]` entries (older benchmark_serving.py) */
function failedOf(o: Json): number | undefined {
  const failed = numberAt(o, 'failed');
  if (failed !== undefined) return failed;
  const errors = o['errors'];
  return Array.isArray(errors) ? errors.filter((e) => typeof e === 'string' && e !== '').length : undefined;
}

/**
 * `vllm bench serve --save-result` JSON (vllm/benchmarks/serve.py @009e6d4a) and the older
 * `benchmarks/benchmark_serving.py --save-result` (@0049e29c): one object per file, or
 * newline-separated objects with --append-result.
 */
export function importVllmBenchServe(text: string, file: string, ctx: ImportContext = {}): ImportedRun[] {
  const objects = parseObjects(text, file);
  return objects.map(({ o, line }, index) => {
    if (!looksLikeVllmResult(o)) throw new ImportFormatError(`${line ? `Line ${line}` : 'The file'} does not look like a vllm bench serve result (no mean_ttft_ms / total_token_throughput)`, { file, line }, 'Check that this is the --save-result JSON, or name the format.');
    const rateRaw = o['request_rate'];
    const rate = typeof rateRaw === 'number' ? (Number.isFinite(rateRaw) ? rateRaw : 'inf') : rateRaw === 'inf' ? 'inf' : null;
    const maxConcurrency = numberAt(o, 'max_concurrency') ?? null;
    const percentiles = new Set<number>();
    const completed = numberAt(o, 'completed');
    const lat = (m: string) => {
      const got = flatLatency(o, m);
      for (const p of got?.percentiles ?? []) percentiles.add(p);
      return got ? statsFrom({ ...got.stats, count: completed }) : undefined;
    };
    const duration = numberAt(o, 'duration');
    const totalInput = numberAt(o, 'total_input_tokens');
    const label = stringAt(o, 'label');
    const draft: ImportDraft = {
      source: 'vllm-bench-serve',
      file,
      index,
      of: objects.length,
      name: label ?? path.basename(file).replace(/\.jsonl?$/i, ''),
      stepLabel: loadLabel(rate, maxConcurrency),
      createdAt: isoOfDate(stringAt(o, 'date')),
      api: apiOf(o),
      definition: 'vllm',
      requestRate: rate,
      maxConcurrency,
      model: stringAt(o, 'model_id'),
      spec: { backend: o['backend'], endpoint_type: o['endpoint_type'], num_prompts: o['num_prompts'], request_rate: rateRaw, burstiness: o['burstiness'], max_concurrency: o['max_concurrency'], tokenizer_id: o['tokenizer_id'] },
      summary: {
        completed,
        failed: failedOf(o),
        durationSec: duration,
        totalInputTokens: totalInput,
        totalOutputTokens: numberAt(o, 'total_output_tokens'),
        requestThroughput: numberAt(o, 'request_throughput'),
        inputThroughput: isReported(totalInput) && isReported(duration) && duration > 0 ? totalInput / duration : undefined,
        outputThroughput: numberAt(o, 'output_throughput'),
        totalThroughput: numberAt(o, 'total_token_throughput'),
        maxOutputTokensPerSec: numberAt(o, 'max_output_tokens_per_s'),
        maxConcurrentRequests: numberAt(o, 'max_concurrent_requests'),
        // benchmark_serving.py wrote the key with a stray colon: "request_goodput:" (@0049e29c)
        requestGoodput: numberAt(o, 'request_goodput') ?? numberAt(o, 'request_goodput:') ?? null,
        acceptLength: numberAt(o, 'spec_decode_acceptance_length') ?? null,
        ttftMs: lat('ttft'),
        tpotMs: lat('tpot'),
        itlMs: lat('itl'),
        e2eMs: lat('e2el'),
        clientQueueMs: lat('client_queue_time'),
        e2eIncludingQueueMs: lat('e2el_including_client_queue'),
      },
      definitionNotes: NOTES,
      extras: { burstiness: numberAt(o, 'burstiness') ?? null, num_prompts: numberAt(o, 'num_prompts') ?? null, rtfx: numberAt(o, 'rtfx') ?? null },
      tags: label ? { label } : undefined,
      records: vllmRecords(o),
    };
    draft.summary.percentiles = [...percentiles].sort((a, b) => a - b);
    return finishImport(draft, ctx);
  });
}

/** one object (pretty-printed or not), or one object per line */
function parseObjects(text: string, file: string): { o: Json; line?: number }[] {
  try {
    const whole = parsePythonJson(text);
    if (isObject(whole)) return [{ o: whole }];
    if (Array.isArray(whole)) return whole.filter(isObject).map((o) => ({ o }));
  } catch {
    // not one document: newline-separated objects (--append-result)
  }
  const out: { o: Json; line?: number }[] = [];
  text.split('\n').forEach((l, i) => {
    if (!l.trim()) return;
    let v: unknown;
    try {
      v = parsePythonJson(l);
    } catch (err) {
      throw new ImportFormatError(`Line ${i + 1} is not JSON: ${(err as Error).message}`, { file, line: i + 1 });
    }
    if (!isObject(v)) throw new ImportFormatError(`Line ${i + 1} is not a JSON object`, { file, line: i + 1 });
    out.push({ o: v, line: i + 1 });
  });
  if (out.length === 0) throw new ImportFormatError('The file is empty', { file });
  return out;
}
