import type { ApiKind, RequestRecord, ServerRequestTimes, SpecRequestStats } from '../metrics/record';
import { ssePayload } from './sse';

/**
 * Where the next occurrence of a marker sits in a decoded read, remembered across the lines of
 * that read: "is there a `"usage":{` in this line" costs one scan per read, not one per line
 * (a search that runs past the line would otherwise rescan the rest of the read every time).
 */
class NextMarker {
  private read = -1;
  private at = -1;
  private from = 0;

  constructor(private readonly marker: string) {}

  /**
   * is the marker inside [from, to) of `text`; `read` numbers the texts (the splitter's count,
   * or -1 = a text of its own): the lines of one text are asked in order
   */
  within(text: string, from: number, to: number, read: number): boolean {
    if (read < 0 || read !== this.read || from < this.from || (this.at >= 0 && this.at < from)) {
      this.read = read;
      this.from = from;
      this.at = text.indexOf(this.marker, from);
    }
    return this.at >= from && this.at < to;
  }

  /** where the last `within` found the marker */
  get position(): number {
    return this.at;
  }
}

/** What one streamed response yielded; the runner adds the schedule fields to make a RequestRecord. */
export type StreamResult = Pick<
  RequestRecord,
  'ok' | 'error' | 'httpStatus' | 'headersMs' | 'lastLineMs' | 'chunkMs' | 'chunkChars' | 'chunkTokens' | 'outputTokens' | 'promptTokens' | 'cachedTokens' | 'finishReason' | 'text' | 'reasoningChars' | 'reasoningTokens' | 'serverTimes' | 'spec' | 'rid'
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
  private lastGenerate: { text: string; from: number; to: number } | undefined;
  private readonly usageMark = new NextMarker('"usage":');
  private readonly usageBytes = new NextBytes('"usage":');
  private readonly errorBytes = new NextBytes('"error"');
  private lastGenerateBytes: { buf: Buffer; from: number; to: number } | undefined;
  private readonly errorMark = new NextMarker('"error"');
  // rarely set fields last: the hot path's fields keep their places in the object
  reasoningTokens: number | undefined;
  serverTimes: ServerRequestTimes | undefined;
  spec: SpecRequestStats | undefined;
  /** the server's request id (meta_info.id, or the OpenAI chunks' id), read once */
  rid: string | undefined;
  /**
   * reasoning_content characters as [chunk index, chars] pairs, only for chunks that had some:
   * the plain-content fast paths never touch it (made dense in result())
   */
  private reasoningAt: number[] | undefined;

  constructor(
    readonly api: ApiKind,
    readonly startAt: number,
  ) {}

  /**
   * One trimmed, non-empty SSE line as bytes, buf[from, to) (the raw client's path): a plain
   * /v1/completions or /generate token is read from the bytes; anything else is decoded and
   * takes the string path.
   */
  bytes(buf: Buffer, from: number, to: number, atMs: number): void {
    if (to - from > 6 && buf[from] === 100 && buf[from + 1] === 97 && buf[from + 2] === 116 && buf[from + 3] === 97 && buf[from + 4] === 58) {
      const p = buf[from + 5] === 32 ? from + 6 : from + 5;
      const t = atMs - this.startAt;
      if (this.rid === undefined && this.api === 'completions') this.idFromBytes(buf, p, to);
      if (this.api === 'completions' ? this.completionsBytes(buf, p, to, t) : this.api === 'generate' ? this.generateBytes(buf, p, to, t) : false) {
        this.lastLineMs = t;
        return;
      }
    }
    this.line(buf.toString('utf8', from, to), atMs);
  }

  private completionsBytes(buf: Buffer, p: number, to: number, t: number): boolean {
    let from = -1;
    if (this.textAt > 0 && bytesAt(buf, p + this.choicesAt, B_CHOICES) && bytesAt(buf, p + this.textAt - 8, B_TEXT)) {
      from = p + this.textAt;
    } else {
      const ci = buf.indexOf(B_CHOICES, p);
      const ti = ci >= 0 && ci < to ? buf.indexOf(B_TEXT, ci + 12) : -1;
      if (ti < 0 || ti >= to) return false;
      from = ti + 8;
      this.choicesAt = ci - p;
      this.textAt = from - p;
    }
    const end = quoteEnd(buf, from, to);
    if (end < 0 || !bytesAt(buf, end, B_PLAIN_TAIL)) return false;
    // a usage object on the line (continuous usage) carries the token count: take the full parse
    const u = this.usageBytes.find(buf, end + B_PLAIN_TAIL.length, to);
    if (u >= 0 && buf[u + 8] !== 110 /* n(ull) */) return false;
    const text = fieldText(buf, from, end);
    if (text.length) this.textParts.push(text);
    this.pushChunk(t, text.length, -1);
    return true;
  }

  private generateBytes(buf: Buffer, p: number, to: number, t: number): boolean {
    if (!bytesAt(buf, p, B_GEN_TEXT)) return false;
    const end = quoteEnd(buf, p + 9, to);
    if (end < 0) return false;
    const ct = buf.indexOf(B_COMPLETION_TOKENS, end);
    const fr = buf.indexOf(B_FINISH_NULL, end);
    if (ct < 0 || ct >= to || fr < 0 || fr >= to || this.errorBytes.find(buf, end, to) >= 0) return false;
    let i = ct + 20;
    while (buf[i] === 32) i++;
    let tokens = 0;
    const first = i;
    while (i < to && buf[i] >= 48 && buf[i] <= 57) tokens = tokens * 10 + (buf[i++] - 48);
    if (i === first) return false;
    // escaped byte length: exact for emptiness, close for size; the exact text is parsed once at the end
    const len = end - p - 9;
    this.pushChunk(t, Math.max(0, len - this.generateLen), tokens);
    this.generateLen = len;
    this.lastGenerateBytes = { buf, from: p, to };
    this.lastGenerate = undefined;
    this.outputTokens = tokens;
    return true;
  }

  /** one trimmed, non-empty SSE line that arrived at `atMs` (performance.now()) */
  line(line: string, atMs: number): void {
    this.range(line, 0, line.length, atMs, -1);
  }

  /**
   * The same for the line text[from, to) (trimmed, non-empty): the hot path reads the fields it
   * needs in place and makes a string only for the new text.
   */
  range(text: string, from: number, to: number, atMs: number, read = -1): void {
    let p: number;
    if (matchAt(text, from, 'data:')) p = text.charCodeAt(from + 5) === 32 ? from + 6 : from + 5;
    else {
      const payload = ssePayload(text.slice(from, to));
      if (payload === undefined) return;
      p = from;
    }
    const t = atMs - this.startAt;
    this.lastLineMs = t;
    if (to - p === 6 && text.startsWith('[DONE]', p)) return;
    if (this.rid === undefined && this.api !== 'generate') this.idFrom(text, p, to);
    if (this.api === 'generate') this.generateLine(text, p, to, t, read);
    else if (this.api === 'completions') this.completionsLine(text, p, to, t, read);
    else this.chatLine(text.slice(p, to), t);
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
      ...this.extras(),
    };
  }

  /** the optional fields, present only when the server sent them */
  private extras(): Pick<StreamResult, 'reasoningChars' | 'reasoningTokens' | 'serverTimes' | 'spec' | 'rid'> {
    const out: Pick<StreamResult, 'reasoningChars' | 'reasoningTokens' | 'serverTimes' | 'spec' | 'rid'> = {};
    const at = this.reasoningAt;
    if (at) {
      const dense = new Array<number>(this.chunkChars.length).fill(0);
      for (let k = 0; k < at.length; k += 2) dense[at[k]] = at[k + 1];
      out.reasoningChars = dense;
    }
    if (this.reasoningTokens !== undefined) out.reasoningTokens = this.reasoningTokens;
    if (this.serverTimes) out.serverTimes = this.serverTimes;
    if (this.spec) out.spec = this.spec;
    if (this.rid !== undefined) out.rid = this.rid;
    return out;
  }

  /** OpenAI chunks: `"id": "<rid>"` heads every chunk; read from the first that has it */
  private idFrom(src: string, p: number, to: number): void {
    const i = src.indexOf('"id":', p);
    if (i < 0 || i >= to) return;
    let q = i + 5;
    while (q < to && src.charCodeAt(q) === 32) q++;
    if (src.charCodeAt(q) !== 34 /* " */) return;
    const end = src.indexOf('"', q + 1);
    if (end > q + 1 && end < to) this.rid = src.slice(q + 1, end);
  }

  private idFromBytes(buf: Buffer, p: number, to: number): void {
    const i = buf.indexOf(B_ID, p);
    if (i < 0 || i >= to) return;
    let q = i + 5;
    while (q < to && buf[q] === 32) q++;
    if (buf[q] !== 34) return;
    const end = buf.indexOf(34, q + 1);
    if (end > q + 1 && end < to) this.rid = buf.toString('utf8', q + 1, end);
  }

  private pushChunk(t: number, chars: number, tokens: number): void {
    this.chunkMs.push(t);
    this.chunkChars.push(chars);
    this.chunkTokens.push(tokens);
  }

  // ---- /generate: {"text": <cumulative>, "output_ids": [...], "meta_info": {...}}

  private generateLine(src: string, from: number, to: number, t: number, read: number): void {
    // fast path: text first, no finish yet, a plain completion_tokens count
    if (matchAt(src, from, '{"text":"')) {
      const end = stringEnd(src, from + 9);
      const ct = end > 0 ? src.indexOf('"completion_tokens":', end) : -1;
      const fr = end > 0 ? src.indexOf('"finish_reason":null', end) : -1;
      if (end > 0 && ct > 0 && ct < to && fr > 0 && fr < to && !this.errorMark.within(src, end, to, read)) {
        const tokens = readInt(src, ct + 20);
        if (tokens >= 0) {
          // escaped length: exact for emptiness, close for size; the exact text is parsed once at the end
          const len = end - from - 9;
          this.pushChunk(t, Math.max(0, len - this.generateLen), tokens);
          this.generateLen = len;
          this.lastGenerate = { text: src, from, to };
          this.lastGenerateBytes = undefined;
          this.outputTokens = tokens;
          return;
        }
      }
    }
    const s = src.slice(from, to);
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
    this.lastGenerate = { text: s, from: 0, to: s.length };
    this.lastGenerateBytes = undefined;
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
    const id = meta['id'];
    if (typeof id === 'string' && id !== '') this.rid = id;
    const rt = num(meta['reasoning_tokens']);
    if (rt !== null && rt > 0) this.reasoningTokens = rt;
    // per-request time stats (servers with --enable-metrics): the scheduler's ride on every
    // chunk, the API server's come at finish; e2e_latency alone (always sent) does not start them
    if (meta['queue_time'] !== undefined || meta['request_received_ts'] !== undefined) this.serverTimes = serverTimesOf(meta, this.serverTimes);
    const vc = num(meta['spec_verify_ct']);
    if (vc !== null && vc > 0) this.spec = { verifyCt: vc, acceptLength: num(meta['spec_accept_length']), acceptRate: num(meta['spec_accept_rate']) };
  }

  private finalGenerateText(): string {
    const lb = this.lastGenerateBytes;
    if (lb && !this.lastGenerate) this.lastGenerate = { text: lb.buf.toString('utf8', lb.from, lb.to), from: 0, to: lb.to - lb.from };
    const last = this.lastGenerate;
    if (last === undefined) return '';
    const data = parseJson(last.from === 0 && last.to === last.text.length ? last.text : last.text.slice(last.from, last.to));
    if (!isObj(data)) return '';
    if (isObj(data['meta_info'])) this.readMeta(data['meta_info']);
    return typeof data['text'] === 'string' ? data['text'] : '';
  }

  // ---- /v1/completions: {"choices":[{"index":0,"text":"...","finish_reason":null}],"usage":null}

  private completionsLine(src: string, p: number, to: number, t: number, read: number): void {
    // fast path: SGLang's and vLLM's key order {"index":0,"text":"...","logprobs":null,"finish_reason":null,...}.
    // Every chunk of one response repeats the same head (id, created, model) up to the text, so
    // the offsets (from the payload's start) found in the first chunk are re-checked with two
    // short compares afterwards.
    let from = -1;
    if (this.textAt > 0 && matchAt(src, p + this.choicesAt, '"choices":[{') && matchAt(src, p + this.textAt - 8, '"text":"')) {
      from = p + this.textAt;
    } else {
      const ci = src.indexOf('"choices":[{', p);
      const ti = ci >= 0 && ci < to ? src.indexOf('"text":"', ci + 12) : -1;
      if (ti > 0 && ti < to) {
        from = ti + 8;
        this.choicesAt = ci - p;
        this.textAt = from - p;
      }
    }
    if (from > 0) {
      const end = stringEnd(src, from);
      if (end > 0 && end < to && matchAt(src, end, PLAIN_TEXT_TAIL) && !this.usageObjectIn(src, end + PLAIN_TEXT_TAIL.length, to, read)) {
        const text = stringBody(src, from, end);
        if (text.length) this.textParts.push(text);
        this.pushChunk(t, text.length, -1);
        return;
      }
    }
    const s = src.slice(p, to);
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
    // thinking kept apart per chunk (TTFT still counts it, as bench_serving does; TTFAT does not)
    if (reasoning.length) (this.reasoningAt ??= []).push(this.chunkMs.length, reasoning.length);
    this.pushChunk(t, text.length, this.continuousTokens(data['usage']));
  }

  /** does the line carry a usage object (not `"usage":null`)? SGLang's and vLLM's lines put the key right after the choices */
  private usageObjectIn(src: string, from: number, to: number, read: number): boolean {
    return this.usageMark.within(src, from, to, read) && src.charCodeAt(this.usageMark.position + 8) !== 110 /* n(ull) */;
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
    const rt = num(usage['reasoning_tokens']);
    if (rt !== null && rt > 0) this.reasoningTokens = rt;
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

const B_CHOICES = Buffer.from('"choices":[{');
const B_ID = Buffer.from('"id":');
const B_TEXT = Buffer.from('"text":"');
const B_GEN_TEXT = Buffer.from('{"text":"');
const B_COMPLETION_TOKENS = Buffer.from('"completion_tokens":');
const B_FINISH_NULL = Buffer.from('"finish_reason":null');

/** NextMarker for byte lines: keyed by the Buffer object (one read, or one carried-over line) */
class NextBytes {
  private readonly marker: Buffer;
  private buf: Buffer | undefined;
  private at = -1;
  private from = 0;

  constructor(marker: string) {
    this.marker = Buffer.from(marker);
  }

  /** position of the marker inside [from, to) of `buf`, or -1 */
  find(buf: Buffer, from: number, to: number): number {
    if (buf !== this.buf || from < this.from || (this.at >= 0 && this.at < from)) {
      this.buf = buf;
      this.from = from;
      this.at = buf.indexOf(this.marker, from);
    }
    return this.at >= from && this.at < to ? this.at : -1;
  }
}

function bytesAt(buf: Buffer, at: number, lit: Buffer): boolean {
  if (at < 0 || at + lit.length > buf.length) return false;
  for (let k = 0; k < lit.length; k++) if (buf[at + k] !== lit[k]) return false;
  return true;
}

/** the closing quote of a JSON string whose body starts at `from`, before `to`, or -1 */
function quoteEnd(buf: Buffer, from: number, to: number): number {
  let j = from;
  for (;;) {
    const q = buf.indexOf(34, j);
    if (q < 0 || q >= to) return -1;
    let slashes = 0;
    for (let k = q - 1; k >= from && buf[k] === 92; k--) slashes++;
    if ((slashes & 1) === 0) return q;
    j = q + 1;
  }
}

/** a JSON string body buf[from, end) as text */
function fieldText(buf: Buffer, from: number, end: number): string {
  // a loop over the field, not buf.indexOf: that would search to the end of the read every token
  for (let i = from; i < end; i++) if (buf[i] === 92) return JSON.parse(buf.toString('utf8', from - 1, end + 1)) as string;
  return buf.toString('utf8', from, end);
}

const B_PLAIN_TAIL = Buffer.from('","logprobs":null,"finish_reason":null');

/**
 * s.startsWith(lit, at) by character codes: on a long decoded read V8's startsWith with a
 * position costs ~3x this loop (scripts measure it: bench:loadgen's client throughput)
 */
function matchAt(s: string, at: number, lit: string): boolean {
  if (at < 0 || at + lit.length > s.length) return false;
  for (let k = 0; k < lit.length; k++) if (s.charCodeAt(at + k) !== lit.charCodeAt(k)) return false;
  return true;
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

/** the time-stat fields of one meta_info, merged over what earlier chunks said */
function serverTimesOf(meta: Record<string, unknown>, prev: ServerRequestTimes | undefined): ServerRequestTimes {
  const out: ServerRequestTimes = { ...prev };
  const set = (key: keyof ServerRequestTimes, ...names: string[]): void => {
    for (const n of names) {
      const v = num(meta[n]);
      if (v !== null) {
        out[key] = v;
        return;
      }
    }
  };
  set('queueTime', 'queue_time');
  set('prefillWaitingLatency', 'prefill_waiting_latency', 'prefill_launch_delay');
  set('prefillLaunchLatency', 'prefill_launch_latency');
  set('forwardEntryTime', 'forward_entry_time');
  set('prefillFinishedTime', 'prefill_finished_time', 'prefill_finished_ts');
  set('requestReceivedTs', 'request_received_ts');
  set('requestFinishedTs', 'request_finished_ts');
  set('inferenceTime', 'inference_time');
  set('e2eLatency', 'e2e_latency');
  return out;
}

function errorText(e: unknown): string {
  if (typeof e === 'string') return e;
  if (isObj(e) && typeof e['message'] === 'string') return e['message'];
  return JSON.stringify(e) ?? 'server error';
}
