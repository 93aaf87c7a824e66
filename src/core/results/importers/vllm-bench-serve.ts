import * as path from 'node:path';
import type { ApiKind } from '../../load/types';
import { finishImport, isObject, isReported, numberAt, statsFrom, stringAt, type ImportDraft, type Json } from './build';
import { ImportFormatError } from './errors';
import { flatLatency } from './latency-keys';
import { parsePythonJson } from './loose-json';
import { loadLabel } from './sglang-bench-serving';
import type { ImportedRun } from './types';

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
 * `vllm bench serve --save-result` JSON: one object per file, or newline-separated objects with
 * --append-result. Keys per vllm/benchmarks/serve.py @009e6d4a.
 */
export function importVllmBenchServe(text: string, file: string): ImportedRun[] {
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
        failed: numberAt(o, 'failed'),
        durationSec: duration,
        totalInputTokens: totalInput,
        totalOutputTokens: numberAt(o, 'total_output_tokens'),
        requestThroughput: numberAt(o, 'request_throughput'),
        inputThroughput: isReported(totalInput) && isReported(duration) && duration > 0 ? totalInput / duration : undefined,
        outputThroughput: numberAt(o, 'output_throughput'),
        totalThroughput: numberAt(o, 'total_token_throughput'),
        maxOutputTokensPerSec: numberAt(o, 'max_output_tokens_per_s'),
        maxConcurrentRequests: numberAt(o, 'max_concurrent_requests'),
        requestGoodput: numberAt(o, 'request_goodput') ?? null,
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
    };
    draft.summary.percentiles = [...percentiles].sort((a, b) => a - b);
    return finishImport(draft);
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
