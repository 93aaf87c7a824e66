import type { ApiKind, RequestRecord } from './types';
import { ssePayload } from './sse';

/** What one streamed response yielded; the runner adds the schedule fields to make a RequestRecord. */
export type StreamResult = Pick<
  RequestRecord,
  'ok' | 'error' | 'httpStatus' | 'headersMs' | 'lastLineMs' | 'chunkMs' | 'chunkChars' | 'chunkTokens' | 'outputTokens' | 'promptTokens' | 'cachedTokens' | 'finishReason' | 'text'
> & {
  /** performance.now() just before the request was written (bench_serving's `st`) */
  startAt: number;
};

/**
 * Folds the SSE lines of one response into a StreamResult. Hot path: a chunk like
 * `{"choices":[{"index":0,"text":" the","finish_reason":null}]}` is read with indexOf scans;
 * anything unusual (escapes, usage, finish, errors, logprobs) falls back to JSON.parse, so the
 * scan only ever speeds up lines whose meaning is unambiguous.
 */
export class ResponseAccumulator {
  readonly chunkMs: number[] = [];
  readonly chunkChars: number[] = [];
  readonly chunkTokens: number[] = [];
  lastLineMs = 0;
  headersMs: number | undefined;
  outputTokens: number | null = null;
  promptTokens: number | null = null;
  cachedTokens: number | null = null;
  finishReason: string | undefined;
  error: string | undefined;
  private textParts: string[] = [];
  /** offsets of `"choices":[{` and of the text in this response's completion chunks */
  private choicesAt = -1;
  private textAt = -1;
  /** /generate: raw length of the cumulative text so far, and the last payload (parsed once at the end) */
  private generateLen = 0;
  private lastGeneratePayload: string | undefined;

  constructor(
    readonly api: ApiKind,
    readonly startAt: number,
  ) {}

  /** one trimmed, non-empty SSE line that arrived at `atMs` (performance.now()) */
  line(line: string, atMs: number): void {
    const payload = ssePayload(line);
    if (payload === undefined) return;
    const t = atMs - this.startAt;
    this.lastLineMs = t;
    if (payload === '[DONE]') return;
    if (this.api === 'generate') this.generateLine(payload, t);
    else if (this.api === 'completions') this.completionsLine(payload, t);
    else this.chatLine(payload, t);
  }

  get text(): string {
    if (this.api === 'generate') return this.finalGenerateText();
    if (this.textParts.length > 1) this.textParts = [this.textParts.join('')];
    return this.textParts[0] ?? '';
  }

  result(ok: boolean, extra: { error?: string; httpStatus?: number } = {}): StreamResult {
    const error = extra.error ?? this.error;
    return {
      startAt: this.startAt,
      ok: ok && error === undefined,
      error,
      httpStatus: extra.httpStatus,
      headersMs: this.headersMs,
      lastLineMs: this.lastLineMs,
      chunkMs: this.chunkMs,
      chunkChars: this.chunkChars,
      chunkTokens: this.chunkTokens,
      outputTokens: this.outputTokens,
      promptTokens: this.promptTokens,
      cachedTokens: this.cachedTokens,
      finishReason: this.finishReason,
      text: this.text,
    };
  }

  private pushChunk(t: number, chars: number, tokens: number): void {
    this.chunkMs.push(t);
    this.chunkChars.push(chars);
    this.chunkTokens.push(tokens);
  }

  // ---- /generate: {"text": <cumulative>, "output_ids": [...], "meta_info": {...}}

  private generateLine(s: string, t: number): void {
    // fast path: text first, no finish yet, a plain completion_tokens count
    if (s.startsWith('{"text":"')) {
      const end = stringEnd(s, 9);
      const ct = end > 0 ? s.indexOf('"completion_tokens":', end) : -1;
      const fr = end > 0 ? s.indexOf('"finish_reason":null', end) : -1;
      if (end > 0 && ct > 0 && fr > 0 && s.indexOf('"error"', end) < 0) {
        const tokens = readInt(s, ct + 20);
        if (tokens >= 0) {
          // escaped length: exact for emptiness, close for size; the exact text is parsed once at the end
          const len = end - 9;
          this.pushChunk(t, Math.max(0, len - this.generateLen), tokens);
          this.generateLen = len;
          this.lastGeneratePayload = s;
          this.outputTokens = tokens;
          return;
        }
      }
    }
    const data = parseJson(s);
    if (!isObj(data)) return this.fail(`unparseable chunk: ${s.slice(0, 200)}`);
    if (data['error'] !== undefined) return this.fail(errorText(data['error']));
    const text = data['text'];
    if (typeof text !== 'string') return;
    const len = JSON.stringify(text).length - 2;
    const meta = isObj(data['meta_info']) ? data['meta_info'] : {};
    const tokens = num(meta['completion_tokens']);
    this.pushChunk(t, Math.max(0, len - this.generateLen), tokens ?? -1);
    this.generateLen = len;
    this.lastGeneratePayload = s;
    if (tokens !== null) this.outputTokens = tokens;
    this.readMeta(meta);
  }

  private readMeta(meta: Record<string, unknown>): void {
    const p = num(meta['prompt_tokens']);
    if (p !== null) this.promptTokens = p;
    const c = num(meta['cached_tokens']);
    if (c !== null) this.cachedTokens = c;
    const fr = meta['finish_reason'];
    if (fr !== null && fr !== undefined) this.finishReason = isObj(fr) && typeof fr['type'] === 'string' ? fr['type'] : String(fr);
  }

  private finalGenerateText(): string {
    const s = this.lastGeneratePayload;
    if (s === undefined) return '';
    const data = parseJson(s);
    if (!isObj(data)) return '';
    if (isObj(data['meta_info'])) this.readMeta(data['meta_info']);
    return typeof data['text'] === 'string' ? data['text'] : '';
  }

  // ---- /v1/completions: {"choices":[{"index":0,"text":"...","finish_reason":null}],"usage":null}

  private completionsLine(s: string, t: number): void {
    // fast path: SGLang's and vLLM's key order {"index":0,"text":"...","logprobs":null,"finish_reason":null,...}.
    // Every chunk of one response repeats the same head (id, created, model) up to the text, so
    // the offsets found in the first chunk are re-checked with two short compares afterwards.
    let from = -1;
    if (this.textAt > 0 && s.startsWith('"choices":[{', this.choicesAt) && s.startsWith('"text":"', this.textAt - 8)) {
      from = this.textAt;
    } else {
      const ci = s.indexOf('"choices":[{');
      const ti = ci >= 0 ? s.indexOf('"text":"', ci + 12) : -1;
      if (ti > 0) {
        from = ti + 8;
        this.choicesAt = ci;
        this.textAt = from;
      }
    }
    if (from > 0) {
      const end = stringEnd(s, from);
      if (end > 0 && s.startsWith(PLAIN_TEXT_TAIL, end) && s.indexOf('"usage":{', end + PLAIN_TEXT_TAIL.length) < 0) {
        const text = stringBody(s, from, end);
        if (text.length) this.textParts.push(text);
        this.pushChunk(t, text.length, -1);
        return;
      }
    }
    const data = parseJson(s);
    if (!isObj(data)) return this.fail(`unparseable chunk: ${s.slice(0, 200)}`);
    if (data['error'] !== undefined || data['object'] === 'error') return this.fail(errorText(data['error'] ?? data['message']));
    const choices = data['choices'];
    this.readUsage(data['usage']);
    if (!Array.isArray(choices) || choices.length === 0) return;
    const c0: unknown = choices[0];
    const text = isObj(c0) && typeof c0['text'] === 'string' ? c0['text'] : '';
    if (isObj(c0) && c0['finish_reason'] !== null && c0['finish_reason'] !== undefined) this.finishReason = String(c0['finish_reason']);
    if (text.length) this.textParts.push(text);
    this.pushChunk(t, text.length, this.continuousTokens(data['usage']));
  }

  // ---- /v1/chat/completions: {"choices":[{"index":0,"delta":{"content":"..."},"finish_reason":null}]}

  private chatLine(s: string, t: number): void {
    // fast path: a delta with plain content (or none), no finish, no usage, no logprobs, no reasoning text
    const di = s.indexOf('"delta":{');
    if (di > 0 && s.indexOf('"choices":[{') >= 0) {
      const k = s.indexOf('"content":', di + 9);
      const v = k > 0 ? s.charCodeAt(k + 10) : 0;
      const end = v === 34 /* " */ ? stringEnd(s, k + 11) : v === 110 /* null */ ? k + 14 : -1;
      const fr = end > 0 ? s.indexOf('"finish_reason":null', end) : -1;
      if (fr > 0 && s.indexOf('"usage":{', fr) < 0) {
        const between = s.slice(di, fr);
        if (between.indexOf('"reasoning_content":"') < 0 && between.indexOf('"reasoning":"') < 0 && between.indexOf('"logprobs":{') < 0) {
          const text = v === 34 ? stringBody(s, k + 11, end) : '';
          if (text.length) this.textParts.push(text);
          this.pushChunk(t, text.length, -1);
          return;
        }
      }
    }
    const data = parseJson(s);
    if (!isObj(data)) return this.fail(`unparseable chunk: ${s.slice(0, 200)}`);
    if (data['error'] !== undefined || data['object'] === 'error') return this.fail(errorText(data['error'] ?? data['message']));
    this.readUsage(data['usage']);
    const choices = data['choices'];
    if (!Array.isArray(choices) || choices.length === 0) return;
    const c0: unknown = choices[0];
    if (!isObj(c0)) return;
    const delta = isObj(c0['delta']) ? c0['delta'] : {};
    // SGLang's newest client counts reasoning text as content
    const reasoning = typeof delta['reasoning_content'] === 'string' ? delta['reasoning_content'] : typeof delta['reasoning'] === 'string' ? delta['reasoning'] : '';
    const content = typeof delta['content'] === 'string' ? delta['content'] : '';
    const text = reasoning + content;
    if (c0['finish_reason'] !== null && c0['finish_reason'] !== undefined) this.finishReason = String(c0['finish_reason']);
    if (text.length) this.textParts.push(text);
    this.pushChunk(t, text.length, this.continuousTokens(data['usage']));
  }

  private continuousTokens(usage: unknown): number {
    return isObj(usage) ? (num(usage['completion_tokens']) ?? -1) : -1;
  }

  private readUsage(usage: unknown): void {
    if (!isObj(usage)) return;
    const out = num(usage['completion_tokens']);
    if (out !== null) this.outputTokens = out;
    const p = num(usage['prompt_tokens']);
    if (p !== null) this.promptTokens = p;
    const details = usage['prompt_tokens_details'];
    if (isObj(details)) {
      const c = num(details['cached_tokens']);
      if (c !== null) this.cachedTokens = c;
    }
  }

  private fail(message: string): void {
    if (this.error === undefined) this.error = message;
  }
}

/** what follows a plain streamed completion text in SGLang's and vLLM's chunks */
const PLAIN_TEXT_TAIL = '","logprobs":null,"finish_reason":null';

/** index of the closing quote of a JSON string whose body starts at `from` (escaped quotes skipped), or -1 */
function stringEnd(s: string, from: number): number {
  let j = from;
  for (;;) {
    const q = s.indexOf('"', j);
    if (q < 0) return -1;
    let slashes = 0;
    for (let k = q - 1; k >= from && s.charCodeAt(k) === 92; k--) slashes++;
    if ((slashes & 1) === 0) return q;
    j = q + 1;
  }
}

/** the string body s[from, end) as text: a slice when it has no escapes, else JSON-decoded */
function stringBody(s: string, from: number, end: number): string {
  const raw = s.slice(from, end);
  return raw.indexOf('\\') < 0 ? raw : (JSON.parse(`"${raw}"`) as string);
}

function readInt(s: string, at: number): number {
  let i = at;
  while (s.charCodeAt(i) === 32) i++;
  let v = 0;
  let digits = 0;
  for (;;) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
    digits++;
    i++;
  }
  return digits ? v : -1;
}

function parseJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function num(x: unknown): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

function errorText(e: unknown): string {
  if (typeof e === 'string') return e;
  if (isObj(e) && typeof e['message'] === 'string') return e['message'];
  return JSON.stringify(e) ?? 'server error';
}
