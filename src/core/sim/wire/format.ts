import { OUTPUT_TOKEN_ID_BASE, OUTPUT_VOCAB, outputTokenIndex } from '../tokenizer';
import type { Outcome } from './outcome';
import type { Api, GenRequest } from './request';

/** Extension field on every SSE event and JSON body: server-side emission time, epoch ms. */
export const EMIT_FIELD = 'moebench_emit_ms';

/** epoch milliseconds with microsecond resolution, as text ready to splice into JSON */
export function emitStamp(): string {
  return (performance.timeOrigin + performance.now()).toFixed(3);
}

export interface StreamContext {
  /** echoed `model` (OpenAI APIs) */
  model: string;
  /** OpenAI `created` (seconds) */
  created: number;
  includeUsage: boolean;
  continuousUsage: boolean;
  /** adds prompt_tokens_details to usage (--enable-cache-report) */
  cacheReport: boolean;
  /** index field on /generate events of batch requests */
  batch: boolean;
  /**
   * --reasoning-parser: chat streams the thinking as `reasoning_content` deltas and the answer as
   * `content` (serving_chat.py @002897c2 _generate_stream_content yields
   * DeltaMessage(reasoning_content=...) chunks; the non-streaming message carries both fields)
   */
  reasoning: boolean;
}

export interface Progress {
  cachedTokens: number;
  /** server-side seconds from arrival to finish (meta_info.e2e_latency) */
  e2eLatencySec: number;
  /**
   * per-request meta_info extras (respond.ts metaExtras): `sched` rides on every /generate event
   * right after the retraction count, `finish` follows e2e_latency on the last one
   */
  meta?: { sched: Record<string, number | null>; finish: Record<string, number | null> };
}

/** `,"k":v,...` for splicing into a JSON object ('' for none) */
function fields(o: Record<string, unknown> | undefined): string {
  if (!o) return '';
  const j = JSON.stringify(o);
  return j.length > 2 ? ',' + j.slice(1, -1) : '';
}

/**
 * Builds SGLang's bytes for one generation: per-token SSE events (pre-built prefixes, one
 * concatenation per token, no JSON.stringify on the hot path), the closing events, and the
 * non-streaming body.
 */
export interface JobFormatter {
  /** events before any token (chat: the role chunk) */
  start(stamp: string): string;
  /** one event per token in [from, to); `final` marks `to` as the last token */
  tokens(from: number, to: number, final: boolean, progress: Progress, stamp: string): string;
  /** after the last token: chat finish chunk, usage chunk; no [DONE] */
  end(progress: Progress, stamp: string): string;
  /** the non-streaming response object */
  whole(progress: Progress): Record<string, unknown>;
}

function finishJson(outcome: Outcome): string {
  return outcome.finish.type === 'length' ? `{"type":"length","length":${outcome.finish.length}}` : `{"type":"stop","matched":${outcome.finish.matched}}`;
}

function usageJson(req: GenRequest, completion: number, ctx: StreamContext, cached: number, nullDetails: boolean, reasoning = 0): string {
  const details = ctx.cacheReport ? `,"prompt_tokens_details":{"cached_tokens":${cached}}` : nullDetails ? ',"prompt_tokens_details":null' : '';
  return `{"prompt_tokens":${req.promptTokens},"total_tokens":${req.promptTokens + completion},"completion_tokens":${completion}${details},"reasoning_tokens":${reasoning}}`;
}

function usageObject(req: GenRequest, completion: number, ctx: StreamContext, cached: number, reasoning = 0): Record<string, unknown> {
  return {
    prompt_tokens: req.promptTokens,
    total_tokens: req.promptTokens + completion,
    completion_tokens: completion,
    prompt_tokens_details: ctx.cacheReport ? { cached_tokens: cached } : null,
    reasoning_tokens: reasoning,
  };
}

function matchedStop(outcome: Outcome): number | null {
  return outcome.finish.type === 'stop' ? outcome.finish.matched : null;
}

class GenerateFormatter implements JobFormatter {
  private text = '';
  private ids = '';
  private built = 0;
  private readonly metaHead: string;
  constructor(
    private readonly req: GenRequest,
    private readonly outcome: Outcome,
    private readonly ctx: StreamContext,
  ) {
    this.metaHead = `"meta_info":{"id":${JSON.stringify(req.rid)},"finish_reason":`;
  }
  private grow(to: number): void {
    for (let i = this.built; i < to; i++) {
      const v = outputTokenIndex(this.outcome.textSeed, i);
      this.text += OUTPUT_VOCAB[v];
      this.ids += (i === 0 ? '' : ',') + (OUTPUT_TOKEN_ID_BASE + v);
    }
    this.built = Math.max(this.built, to);
  }
  private event(k: number, final: boolean, p: Progress, stamp: string): string {
    const index = this.ctx.batch ? `,"index":${this.req.index}` : '';
    const tail = final ? `,"e2e_latency":${p.e2eLatencySec}${fields(p.meta?.finish)}` : '';
    // callers grow to k first, so the running strings are exactly the first k tokens
    return `data: {"text":"${this.text}","output_ids":[${this.ids}],${this.metaHead}${final ? finishJson(this.outcome) : 'null'},"prompt_tokens":${this.req.promptTokens},"weight_version":"default","total_retractions":0${fields(p.meta?.sched)},"completion_tokens":${k},"cached_tokens":${p.cachedTokens}${tail}}${index},"${EMIT_FIELD}":${stamp}}\n\n`;
  }
  start(): string {
    return '';
  }
  tokens(from: number, to: number, final: boolean, p: Progress, stamp: string): string {
    let out = '';
    for (let k = from + 1; k <= to; k++) {
      this.grow(k);
      out += this.event(k, final && k === to, p, stamp);
    }
    return out;
  }
  end(p: Progress, stamp: string): string {
    // zero-token generations still answer one event with the finish reason
    return this.outcome.outputTokens === 0 ? this.event(0, true, p, stamp) : '';
  }
  whole(p: Progress): Record<string, unknown> {
    this.grow(this.outcome.outputTokens);
    const out: Record<string, unknown> = {
      text: this.text,
      output_ids: this.outcome.outputTokens === 0 ? [] : this.ids.split(',').map(Number),
      meta_info: {
        id: this.req.rid,
        finish_reason: { ...this.outcome.finish },
        prompt_tokens: this.req.promptTokens,
        weight_version: 'default',
        total_retractions: 0,
        ...p.meta?.sched,
        completion_tokens: this.outcome.outputTokens,
        cached_tokens: p.cachedTokens,
        e2e_latency: p.e2eLatencySec,
        ...p.meta?.finish,
      },
    };
    if (this.ctx.batch) out.index = this.req.index;
    return out;
  }
}

class CompletionsFormatter implements JobFormatter {
  private readonly prefix: string;
  private readonly head: string;
  constructor(
    private readonly req: GenRequest,
    private readonly outcome: Outcome,
    private readonly ctx: StreamContext,
  ) {
    this.head = `{"id":${JSON.stringify(req.rid)},"object":"text_completion","created":${ctx.created},"model":${JSON.stringify(ctx.model)},"choices":[`;
    this.prefix = `data: ${this.head}{"index":${req.index},"text":"`;
  }
  start(): string {
    return '';
  }
  tokens(from: number, to: number, final: boolean, p: Progress, stamp: string): string {
    const seed = this.outcome.textSeed;
    const plainTail = `","logprobs":null,"finish_reason":null,"matched_stop":null}],"usage":null,"${EMIT_FIELD}":${stamp}}\n\n`;
    let out = '';
    for (let i = from; i < to; i++) {
      const last = final && i === to - 1;
      const piece = OUTPUT_VOCAB[outputTokenIndex(seed, i)];
      if (!last && !this.ctx.continuousUsage) {
        out += this.prefix + piece + plainTail;
        continue;
      }
      const fr = last ? `"${this.outcome.finish.type}"` : 'null';
      const usage = this.ctx.continuousUsage ? usageJson(this.req, i + 1, this.ctx, p.cachedTokens, true) : 'null';
      out += `${this.prefix}${piece}","logprobs":null,"finish_reason":${fr},"matched_stop":${last ? String(matchedStop(this.outcome)) : 'null'}}],"usage":${usage},"${EMIT_FIELD}":${stamp}}\n\n`;
    }
    return out;
  }
  end(p: Progress, stamp: string): string {
    let out = '';
    if (this.outcome.outputTokens === 0) {
      out += `${this.prefix}","logprobs":null,"finish_reason":"${this.outcome.finish.type}","matched_stop":null}],"usage":null,"${EMIT_FIELD}":${stamp}}\n\n`;
    }
    // final usage chunk is dumped with exclude_none: no prompt_tokens_details unless cache report
    if (this.ctx.includeUsage) out += `data: ${this.head}],"usage":${usageJson(this.req, this.outcome.outputTokens, this.ctx, p.cachedTokens, false)},"${EMIT_FIELD}":${stamp}}\n\n`;
    return out;
  }
  whole(p: Progress): Record<string, unknown> {
    let text = '';
    for (let i = 0; i < this.outcome.outputTokens; i++) text += OUTPUT_VOCAB[outputTokenIndex(this.outcome.textSeed, i)];
    return {
      id: this.req.rid,
      object: 'text_completion',
      created: this.ctx.created,
      model: this.ctx.model,
      choices: [{ index: this.req.index, text, logprobs: null, finish_reason: this.outcome.finish.type, matched_stop: matchedStop(this.outcome) }],
      usage: usageObject(this.req, this.outcome.outputTokens, this.ctx, p.cachedTokens),
      metadata: { weight_version: 'default' },
    };
  }
}

class ChatFormatter implements JobFormatter {
  private readonly head: string;
  private readonly contentPrefix: string;
  constructor(
    private readonly req: GenRequest,
    private readonly outcome: Outcome,
    private readonly ctx: StreamContext,
  ) {
    this.head = `{"id":${JSON.stringify(req.rid)},"object":"chat.completion.chunk","created":${ctx.created},"model":${JSON.stringify(ctx.model)},"choices":[`;
    this.contentPrefix = `data: ${this.head}{"index":${req.index},"delta":{"content":"`;
    this.reasoningPrefix = `data: ${this.head}{"index":${req.index},"delta":{"reasoning_content":"`;
  }
  private readonly reasoningPrefix: string;
  /** output tokens that are thinking (reasoning_content) */
  private get thinking(): number {
    return this.ctx.reasoning ? this.outcome.reasoningTokens : 0;
  }
  start(stamp: string): string {
    return `data: ${this.head}{"index":${this.req.index},"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null,"matched_stop":null}],"${EMIT_FIELD}":${stamp}}\n\n`;
  }
  tokens(from: number, to: number, _final: boolean, p: Progress, stamp: string): string {
    const seed = this.outcome.textSeed;
    const thinking = this.thinking;
    let out = '';
    if (this.ctx.continuousUsage) {
      for (let i = from; i < to; i++) {
        const prefix = i < thinking ? this.reasoningPrefix : this.contentPrefix;
        out += `${prefix}${OUTPUT_VOCAB[outputTokenIndex(seed, i)]}"},"logprobs":null,"finish_reason":null,"matched_stop":null}],"usage":${usageJson(this.req, i + 1, this.ctx, p.cachedTokens, true, Math.min(i + 1, thinking))},"${EMIT_FIELD}":${stamp}}\n\n`;
      }
      return out;
    }
    const tail = `"},"logprobs":null,"finish_reason":null,"matched_stop":null}],"${EMIT_FIELD}":${stamp}}\n\n`;
    for (let i = from; i < to; i++) out += (i < thinking ? this.reasoningPrefix : this.contentPrefix) + OUTPUT_VOCAB[outputTokenIndex(seed, i)] + tail;
    return out;
  }
  end(p: Progress, stamp: string): string {
    let out = `data: ${this.head}{"index":${this.req.index},"delta":{},"logprobs":null,"finish_reason":"${this.outcome.finish.type}","matched_stop":${String(matchedStop(this.outcome))}}],"${EMIT_FIELD}":${stamp}}\n\n`;
    if (this.ctx.includeUsage) out += `data: ${this.head}],"usage":${usageJson(this.req, this.outcome.outputTokens, this.ctx, p.cachedTokens, true, this.thinking)},"${EMIT_FIELD}":${stamp}}\n\n`;
    return out;
  }
  whole(p: Progress): Record<string, unknown> {
    let thought = '';
    let text = '';
    const thinking = this.thinking;
    for (let i = 0; i < this.outcome.outputTokens; i++) {
      const piece = OUTPUT_VOCAB[outputTokenIndex(this.outcome.textSeed, i)];
      if (i < thinking) thought += piece;
      else text += piece;
    }
    return {
      id: this.req.rid,
      object: 'chat.completion',
      created: this.ctx.created,
      model: this.ctx.model,
      choices: [{ index: this.req.index, message: { role: 'assistant', content: text, reasoning_content: thinking > 0 ? thought : null, tool_calls: null }, logprobs: null, finish_reason: this.outcome.finish.type, matched_stop: matchedStop(this.outcome) }],
      usage: usageObject(this.req, this.outcome.outputTokens, this.ctx, p.cachedTokens, thinking),
      metadata: { weight_version: 'default' },
    };
  }
}

export function createFormatter(api: Api, req: GenRequest, outcome: Outcome, ctx: StreamContext): JobFormatter {
  if (api === 'generate') return new GenerateFormatter(req, outcome, ctx);
  if (api === 'completions') return new CompletionsFormatter(req, outcome, ctx);
  return new ChatFormatter(req, outcome, ctx);
}

export const DONE_EVENT = 'data: [DONE]\n\n';
