import type { RequestRecord } from './record';
import { percentile } from './stats';

/**
 * Reasoning models (DeepSeek-R1 class) think before they answer. Served without a reasoning
 * parser, the thinking arrives inline as `<think> ... </think>` in the text; TTFT then measures
 * the first thinking token, while a user waits for the first answer token. This splits each
 * request's text at the end of its thinking and times the first chunk that carries answer text.
 *
 * With SGLang's `--reasoning-parser`, thinking arrives as `reasoning_content` deltas; the load
 * generator counts it as content for TTFT (as SGLang's own client does) and keeps the reasoning
 * characters of each chunk apart in `reasoningChars` (same length as `chunkChars`), which is then
 * used instead of the tags. The run's totals come from the columns (columns.ts tallies every
 * request); `reasoningSplit` over a record list serves sampled records and tests.
 */
export interface ReasoningSplit {
  /** requests whose output had thinking */
  reasoningRequests: number;
  requests: number;
  /** share of output characters that were thinking (tokens follow characters closely for one model) */
  reasoningShare: number;
  /** output tokens attributed to thinking / answer, by that share per request */
  reasoningTokens: number;
  answerTokens: number;
  /** time to first answer token (ms after the request was sent) over requests with an answer */
  ttfatMs: { mean: number | null; p50: number | null; p99: number | null };
  /** requests that thought but never reached an answer (cut by max tokens) */
  noAnswer: number;
}

const THINK_END = '</think>';

/** index in `text` where the answer starts, or undefined when the output has no thinking */
function answerStart(text: string): number | undefined {
  const end = text.indexOf(THINK_END);
  if (end >= 0) return end + THINK_END.length;
  // opened but never closed: all thinking (the answer never came); no trimStart copy of a long text
  let i = 0;
  while (i < text.length && text.charCodeAt(i) <= 32) i++;
  if (text.startsWith('<think>', i)) return text.length;
  return undefined;
}

/** per-request split: thinking characters, and when the first answer character arrived */
export function splitRecord(r: RequestRecord): { reasoningChars: number; answerChars: number; firstAnswerMs: number | null } | undefined {
  if (r.reasoningChars && r.reasoningChars.length === r.chunkChars.length) {
    const reasoning = r.reasoningChars.reduce((a, b) => a + b, 0);
    if (reasoning === 0) return undefined;
    const total = r.chunkChars.reduce((a, b) => a + b, 0);
    const i = r.chunkChars.findIndex((c, k) => c - (r.reasoningChars?.[k] ?? 0) > 0);
    return { reasoningChars: reasoning, answerChars: total - reasoning, firstAnswerMs: i >= 0 ? r.chunkMs[i] : null };
  }
  const start = answerStart(r.text);
  if (start === undefined) return undefined;
  // the first chunk whose cumulative text passes the end of thinking and adds visible answer text
  let seen = 0;
  let firstAnswerMs: number | null = null;
  for (let k = 0; k < r.chunkChars.length; k++) {
    const before = seen;
    seen += r.chunkChars[k];
    if (seen <= start) continue;
    const added = r.text.slice(Math.max(before, start), seen);
    if (added.trim() !== '') {
      firstAnswerMs = r.chunkMs[k];
      break;
    }
  }
  return { reasoningChars: start, answerChars: r.text.length - start, firstAnswerMs };
}

export function reasoningSplit(records: readonly RequestRecord[]): ReasoningSplit | undefined {
  let reasoningRequests = 0;
  let reasoningChars = 0;
  let totalChars = 0;
  let reasoningTokens = 0;
  let answerTokens = 0;
  let noAnswer = 0;
  const ttfat: number[] = [];
  const ok = records.filter((r) => r.ok);
  for (const r of ok) {
    const s = splitRecord(r);
    const tokens = r.outputTokens ?? 0;
    if (!s) {
      answerTokens += tokens;
      totalChars += r.text.length;
      continue;
    }
    reasoningRequests++;
    const chars = s.reasoningChars + s.answerChars;
    reasoningChars += s.reasoningChars;
    totalChars += chars;
    const thinking = r.reasoningTokens !== undefined ? Math.min(tokens, r.reasoningTokens) : chars > 0 ? Math.round((tokens * s.reasoningChars) / chars) : 0;
    reasoningTokens += thinking;
    answerTokens += tokens - thinking;
    if (s.firstAnswerMs === null) noAnswer++;
    else ttfat.push(s.firstAnswerMs);
  }
  if (reasoningRequests === 0) return undefined;
  return {
    reasoningRequests,
    requests: ok.length,
    reasoningShare: totalChars > 0 ? reasoningChars / totalChars : 0,
    reasoningTokens,
    answerTokens,
    ttfatMs: ttfat.length ? { mean: ttfat.reduce((a, b) => a + b, 0) / ttfat.length, p50: percentile(ttfat, 50), p99: percentile(ttfat, 99) } : { mean: null, p50: null, p99: null },
    noAnswer,
  };
}
