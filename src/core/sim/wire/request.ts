import { countChatPromptTokens, countPromptTokens, type ChatMessageLike } from '../tokenizer';
import { hashString, mix32 } from '../rng';
import { chatPromptPages, idsPromptPages, textPromptPages, type PromptPages } from '../prompt-pages';
import { generateValueError, openaiBadRequest, validationError, type WireError } from './errors';

export type Api = 'generate' | 'completions' | 'chat';

export interface Bootstrap {
  host: string | null;
  port: number | null;
  room: number | null;
}

/** One generation, normalised from any of the three APIs. */
export interface GenRequest {
  api: Api;
  /** index inside a batch request */
  index: number;
  rid: string;
  promptTokens: number;
  /** SGLang's max_new_tokens; null = up to the context length */
  maxNewTokens: number | null;
  ignoreEos: boolean;
  /** hash of the prompt: drives natural output length and output text with the seed */
  promptHash: number;
  /** the prompt's prefix pages for the radix-cache stand-in, computed when a scheduler asks */
  pages: () => PromptPages;
  bootstrap: Bootstrap | null;
}

/** computes once, on first call (zero-cost servers never pay for prompt pages) */
function lazy<T>(make: () => T): () => T {
  let v: T | undefined;
  return () => (v ??= make());
}

export interface ParsedCall {
  api: Api;
  stream: boolean;
  /** batch requests answer a list (non-stream) or carry `index` per event (stream) */
  batch: boolean;
  requests: GenRequest[];
  /** OpenAI: the request's model field, echoed back */
  model: string;
  includeUsage: boolean;
  continuousUsage: boolean;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optInt(v: unknown, name: string, err: (m: string) => WireError): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw err(`${name} must be an integer, got ${JSON.stringify(v)}`);
  return v;
}

function optBool(v: unknown, fallback: boolean): boolean {
  return typeof v === 'boolean' ? v : fallback;
}

function bootstrapOf(body: Record<string, unknown>, i: number): Bootstrap | null {
  const pick = (v: unknown): unknown => (Array.isArray(v) ? v[i] : v);
  const host = pick(body.bootstrap_host);
  const port = pick(body.bootstrap_port);
  const room = pick(body.bootstrap_room);
  if (host === undefined && port === undefined && room === undefined) return null;
  return {
    host: typeof host === 'string' ? host : null,
    port: typeof port === 'number' ? port : null,
    room: typeof room === 'number' ? room : null,
  };
}

function ridOf(body: Record<string, unknown>, i: number, fallback: () => string): string {
  const rid = Array.isArray(body.rid) ? body.rid[i] : body.rid;
  return typeof rid === 'string' && rid !== '' ? rid : fallback();
}

function hashIds(ids: readonly unknown[]): number {
  let h = 0x12345;
  for (const id of ids) h = mix32(h, typeof id === 'number' ? id : 0);
  return h;
}

function isIntList(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isInteger(x));
}

/** POST /generate body (GenerateReqInput) */
export function parseGenerate(body: unknown, newRid: () => string): ParsedCall {
  if (!isRecord(body)) throw validationError('Input should be a valid dictionary or object to extract fields from');
  const sp = isRecord(body.sampling_params) ? body.sampling_params : {};
  const spList = Array.isArray(body.sampling_params) ? body.sampling_params.filter(isRecord) : null;
  const prompts: { tokens: number; hash: number; pages: () => PromptPages }[] = [];
  let batch = false;
  if (typeof body.text === 'string') {
    const text = body.text;
    prompts.push({ tokens: countPromptTokens(text), hash: hashString(text), pages: lazy(() => textPromptPages(text)) });
  } else if (Array.isArray(body.text)) {
    batch = true;
    for (const t of body.text) {
      if (typeof t !== 'string') throw generateValueError('text must be a string or a list of strings');
      prompts.push({ tokens: countPromptTokens(t), hash: hashString(t), pages: lazy(() => textPromptPages(t)) });
    }
  } else if (isIntList(body.input_ids)) {
    const ids = body.input_ids;
    prompts.push({ tokens: ids.length, hash: hashIds(ids), pages: lazy(() => idsPromptPages(ids)) });
  } else if (Array.isArray(body.input_ids) && body.input_ids.every(isIntList)) {
    batch = true;
    for (const ids of body.input_ids as number[][]) prompts.push({ tokens: ids.length, hash: hashIds(ids), pages: lazy(() => idsPromptPages(ids)) });
  } else {
    throw generateValueError('Either text, input_ids or input_embeds should be provided.');
  }
  if (prompts.length === 0) throw generateValueError('The list of prompts is empty.');
  const requests = prompts.map((p, i): GenRequest => {
    const params = spList?.[i] ?? sp;
    const maxNew = optInt(params.max_new_tokens, 'max_new_tokens', generateValueError);
    if (maxNew !== null && maxNew < 0) throw generateValueError(`max_new_tokens must be at least 0, got ${maxNew}.`);
    return {
      api: 'generate',
      index: i,
      rid: ridOf(body, i, newRid),
      promptTokens: p.tokens,
      maxNewTokens: maxNew ?? 128,
      ignoreEos: optBool(params.ignore_eos, false),
      promptHash: p.hash,
      pages: p.pages,
      bootstrap: bootstrapOf(body, i),
    };
  });
  return { api: 'generate', stream: optBool(body.stream, false), batch, requests, model: '', includeUsage: false, continuousUsage: false };
}

function streamOptions(body: Record<string, unknown>): { includeUsage: boolean; continuousUsage: boolean } {
  const so = isRecord(body.stream_options) ? body.stream_options : {};
  const includeUsage = optBool(so.include_usage, false);
  return { includeUsage, continuousUsage: includeUsage && optBool(so.continuous_usage_stats, false) };
}

/** POST /v1/completions body (CompletionRequest) */
export function parseCompletions(body: unknown, newRid: () => string): ParsedCall {
  if (!isRecord(body)) throw validationError('Input should be a valid dictionary or object to extract fields from');
  if (!('prompt' in body)) throw validationError("1 validation error for CompletionRequest\nprompt\n  Field required [type=missing, input_value={...}, input_type=dict]");
  const prompt = body.prompt;
  const prompts: { tokens: number; hash: number; pages: () => PromptPages }[] = [];
  let batch = false;
  if (typeof prompt === 'string') prompts.push({ tokens: countPromptTokens(prompt), hash: hashString(prompt), pages: lazy(() => textPromptPages(prompt)) });
  else if (isIntList(prompt) && prompt.length > 0) prompts.push({ tokens: prompt.length, hash: hashIds(prompt), pages: lazy(() => idsPromptPages(prompt)) });
  else if (Array.isArray(prompt) && prompt.every((p) => typeof p === 'string')) {
    batch = true;
    for (const p of prompt as string[]) prompts.push({ tokens: countPromptTokens(p), hash: hashString(p), pages: lazy(() => textPromptPages(p)) });
  } else if (Array.isArray(prompt) && prompt.every(isIntList)) {
    batch = true;
    for (const p of prompt as number[][]) prompts.push({ tokens: p.length, hash: hashIds(p), pages: lazy(() => idsPromptPages(p)) });
  } else {
    throw validationError('prompt: Input should be a valid string or a valid list');
  }
  if (prompts.length === 0 || (typeof prompt === 'string' && prompt === '') || prompts.every((p) => p.tokens === 0)) throw openaiBadRequest('Prompt cannot be empty');
  const maxTokens = optInt(body.max_tokens, 'max_tokens', validationError) ?? 16;
  if (maxTokens <= 0) throw validationError('Value error, max_tokens must be positive');
  const n = optInt(body.n, 'n', validationError) ?? 1;
  const requests: GenRequest[] = [];
  for (const [pi, p] of prompts.entries()) {
    for (let k = 0; k < Math.max(1, n); k++) {
      const i = pi * Math.max(1, n) + k;
      requests.push({
        api: 'completions',
        index: i,
        rid: ridOf(body, i, () => `cmpl-${newRid()}`),
        promptTokens: p.tokens,
        maxNewTokens: maxTokens,
        ignoreEos: optBool(body.ignore_eos, false),
        promptHash: mix32(p.hash, k),
        pages: p.pages,
        bootstrap: bootstrapOf(body, i),
      });
    }
  }
  const model = typeof body.model === 'string' ? body.model : 'default';
  return { api: 'completions', stream: optBool(body.stream, false), batch: batch || n > 1, requests, model, ...streamOptions(body) };
}

/** POST /v1/chat/completions body (ChatCompletionRequest) */
export function parseChat(body: unknown, newRid: () => string): ParsedCall {
  if (!isRecord(body)) throw validationError('Input should be a valid dictionary or object to extract fields from');
  if (!Array.isArray(body.messages)) throw validationError("1 validation error for ChatCompletionRequest\nmessages\n  Field required [type=missing, input_value={...}, input_type=dict]");
  const messages: ChatMessageLike[] = [];
  for (const m of body.messages) {
    if (!isRecord(m) || typeof m.role !== 'string') throw validationError("messages: 'role' must be a string");
    messages.push({ role: m.role, content: m.content });
  }
  if (messages.length === 0) throw openaiBadRequest('Messages cannot be empty');
  const maxTokens = optInt(body.max_completion_tokens, 'max_completion_tokens', validationError) ?? optInt(body.max_tokens, 'max_tokens', validationError);
  if (maxTokens !== null && maxTokens <= 0) throw openaiBadRequest('max_completion_tokens must be positive');
  const inputIds = isIntList(body.input_ids) ? body.input_ids : null;
  const promptTokens = inputIds ? inputIds.length : countChatPromptTokens(messages);
  const hash = inputIds ? hashIds(inputIds) : hashString(JSON.stringify(messages));
  const pages = lazy(() => (inputIds ? idsPromptPages(inputIds) : chatPromptPages(messages)));
  const n = Math.max(1, optInt(body.n, 'n', validationError) ?? 1);
  const requests: GenRequest[] = [];
  for (let k = 0; k < n; k++) {
    requests.push({
      api: 'chat',
      index: k,
      rid: ridOf(body, k, () => `chatcmpl-${newRid()}`),
      promptTokens,
      maxNewTokens: maxTokens,
      ignoreEos: optBool(body.ignore_eos, false),
      promptHash: mix32(hash, k),
      pages,
      bootstrap: bootstrapOf(body, k),
    });
  }
  const model = typeof body.model === 'string' ? body.model : 'default';
  return { api: 'chat', stream: optBool(body.stream, false), batch: n > 1, requests, model, ...streamOptions(body) };
}
