import type { ApiKind, DatasetRow } from '../metrics/record';
import { idsToWords } from './datasets/words';

export interface PayloadOptions {
  /** served model name (OpenAI APIs) */
  model?: string;
  /** bench_serving defaults: temperature 0.0, ignore_eos true */
  temperature: number;
  ignoreEos: boolean;
  topP?: number;
  /** merged last, as bench_serving's --extra-request-body */
  extraBody?: Record<string, unknown>;
}

/**
 * Request bodies as bench_serving sends them (serving.py request functions), plus
 * `stream_options.include_usage` on the OpenAI routes so output token counts come from the server
 * instead of falling back to the requested length.
 */
export function requestBody(api: ApiKind, row: DatasetRow, maxTokens: number, o: PayloadOptions): Record<string, unknown> {
  if (api === 'generate') {
    const sampling: Record<string, unknown> = { temperature: o.temperature, max_new_tokens: maxTokens, ignore_eos: o.ignoreEos };
    if (o.topP !== undefined && o.topP < 1) sampling['top_p'] = o.topP;
    return { [typeof row.prompt === 'string' ? 'text' : 'input_ids']: row.prompt, sampling_params: sampling, stream: true, ...o.extraBody };
  }
  const common: Record<string, unknown> = { stream: true, stream_options: { include_usage: true }, temperature: o.temperature, ignore_eos: o.ignoreEos };
  if (o.model !== undefined) common['model'] = o.model;
  if (o.topP !== undefined && o.topP < 1) common['top_p'] = o.topP;
  if (api === 'completions') {
    // a token-id prompt is valid for /v1/completions (OpenAI accepts an array of ints)
    return { ...common, prompt: row.prompt, best_of: 1, max_tokens: maxTokens, ...o.extraBody };
  }
  if (row.messages) return { ...common, messages: row.messages, max_completion_tokens: maxTokens, ...o.extraBody };
  const content = typeof row.prompt === 'string' ? row.prompt : idsToWords(row.prompt);
  return { ...common, messages: [{ role: 'user', content }], max_completion_tokens: maxTokens, ...o.extraBody };
}
