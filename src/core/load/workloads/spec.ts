/**
 * The bench cell's `workload:` fields for traces with prefix structure and multi-turn sessions
 * (spread into benchSpecSchema's workload object), the rules that tie them together (checked by
 * the cell and by `moebench bench` alike), and the conversion to a WorkloadSpec.
 */
import { z } from 'zod';
import { toDistribution, type DistributionInput } from './distribution';
import type { WorkloadSpec } from './plan';
import { TRACE_FORMATS } from './trace-formats';

const positive = z.number().positive();
export const distributionSchema = z
  .union([
    z.number().min(0),
    z.object({ constant: z.number().min(0) }).strict(),
    z.object({ uniform: z.tuple([z.number().min(0), z.number().min(0)]) }).strict(),
    z.object({ exponential: z.number().min(0) }).strict(),
    z.object({ lognormal: z.object({ mean: positive, sigma: z.number().min(0), max: positive.optional() }).strict() }).strict(),
  ])
  .describe('a number, or { uniform: [min, max] }, { exponential: mean }, { lognormal: { mean, sigma, max? } }');

export const workloadFields = {
  trace: z.string().optional().describe('a request trace replayed with its lengths (and, for Mooncake, its prefix sharing); replaces the dataset and the arrival rate'),
  format: z.enum(TRACE_FORMATS).optional().describe('mooncake (JSONL: timestamp ms, input_length, output_length, hash_ids), azure (CSV: TIMESTAMP, ContextTokens, GeneratedTokens), burstgpt (CSV: Timestamp, Request tokens, Response tokens)'),
  blockSize: z.number().int().positive().max(1 << 20).optional().describe("tokens per hash id (Mooncake's 512)"),
  timeScale: positive.optional().describe('trace replay speed: 2 = half speed, 0.5 = twice as fast'),
  maxRequests: z.number().int().positive().optional().describe('replay the first N requests of the trace'),
  promptStyle: z.enum(['exact', 'sglang']).optional().describe("mooncake: exact (blockSize tokens per hash id, input_length exactly; default) or sglang (bench_serving's own prompts: 128 \"hi\" per id, input_length ignored) for parity runs"),
  conversations: z
    .union([
      z.string().describe('a conversations file: [{"id", "messages": [{"role", "content"}]}] or ShareGPT [{"conversations": [{"from", "value"}]}]'),
      z
        .object({
          count: z.number().int().positive().max(1_000_000),
          turns: distributionSchema.describe('user turns per conversation'),
          inputTokens: distributionSchema.describe('tokens per user message'),
          outputTokens: distributionSchema.describe('tokens per reply'),
          sharedPrefixTokens: z.number().int().min(0).default(0).describe('a system prompt every conversation shares'),
          prefixTokens: distributionSchema.optional().describe("each conversation's own opening context before its first question (a document), vLLM's prefix_num_tokens"),
        })
        .strict()
        .describe('generated conversations'),
    ])
    .optional()
    .describe('multi-turn sessions: each turn is sent after the previous reply plus a think time, with the history appended'),
  agents: z
    .object({
      count: z.number().int().positive().max(1_000_000),
      calls: distributionSchema.describe('calls per agent'),
      systemPromptTokens: z.number().int().positive().describe('the long system prompt every agent shares'),
      toolOutputTokens: distributionSchema.describe('tokens each call appends to the context (a tool result)'),
      outputTokens: distributionSchema.describe('the short replies (tool calls)'),
    })
    .strict()
    .optional()
    .describe('agentic shape: N agents, each a chain of calls over one growing context'),
  sessions: z
    .union([z.object({ concurrency: z.number().int().positive() }).strict(), z.object({ rate: positive }).strict()])
    .optional()
    .describe('how sessions start: { concurrency: N } open at a time (default 1), or { rate: sessions/s }'),
  thinkTimeSec: distributionSchema.optional().describe('seconds between a reply and the next turn (default 0)'),
  maxTurns: z.number().int().positive().optional().describe('conversations file: at most this many user turns each'),
  maxConversations: z.number().int().positive().optional().describe('conversations file: at most this many conversations'),
};

export interface WorkloadFieldsIn {
  trace?: string;
  format?: (typeof TRACE_FORMATS)[number];
  blockSize?: number;
  timeScale?: number;
  maxRequests?: number;
  promptStyle?: 'exact' | 'sglang';
  conversations?: string | { count: number; turns: DistributionInput; inputTokens: DistributionInput; outputTokens: DistributionInput; sharedPrefixTokens: number; prefixTokens?: DistributionInput };
  agents?: { count: number; calls: DistributionInput; systemPromptTokens: number; toolOutputTokens: DistributionInput; outputTokens: DistributionInput };
  sessions?: { concurrency: number } | { rate: number };
  thinkTimeSec?: DistributionInput;
  maxTurns?: number;
  maxConversations?: number;
  dataset?: string;
  path?: string;
  outputLen?: number;
  seed: number;
  vocabSize?: number;
}

export interface WorkloadIssue {
  /** the field the message is about, under workload (or load) */
  path: (string | number)[];
  message: string;
}

/**
 * The rules between the fields. `loadTrace`: the cell's load.trace is set (JSONL timestamps only);
 * `rateSet`: a request rate other than "all at once" (or a list of rates) is asked for.
 */
export function workloadIssues(w: WorkloadFieldsIn, loadTrace: boolean, rateSet = false): WorkloadIssue[] {
  const out: WorkloadIssue[] = [];
  // SGLang's mooncake mode ignores --request-rate silently; here it is said
  if (rateSet && w.trace !== undefined) out.push({ path: ['trace'], message: 'a trace sets its own arrival times: the request rate (load.requestRate, --request-rate) does not apply; scale the times with workload.timeScale (--mooncake-slowdown-factor)' });
  if (rateSet && (w.conversations !== undefined || w.agents !== undefined)) out.push({ path: ['sessions'], message: 'sessions start by workload.sessions ({ rate } or { concurrency }; --session-rate, --session-concurrency) and each turn waits for the reply before it: the request rate does not apply' });
  const sessionSources = [w.conversations !== undefined && 'conversations', w.agents !== undefined && 'agents'].filter(Boolean);
  if (w.trace !== undefined && w.format === undefined) out.push({ path: ['format'], message: 'a trace needs its format: mooncake, azure or burstgpt' });
  if (w.format !== undefined && w.trace === undefined) out.push({ path: ['format'], message: 'format describes workload.trace, which is not set' });
  if (w.trace !== undefined && loadTrace) out.push({ path: ['trace'], message: 'workload.trace and load.trace both replay a trace: keep one (load.trace replays JSONL timestamps over the dataset)' });
  if (w.trace !== undefined && sessionSources.length) out.push({ path: [sessionSources[0] as string], message: 'a trace and multi-turn sessions cannot be replayed in one run' });
  if (sessionSources.length > 1) out.push({ path: ['agents'], message: 'conversations and agents are two session workloads: keep one' });
  if (!sessionSources.length) {
    for (const k of ['sessions', 'thinkTimeSec', 'maxTurns', 'maxConversations'] as const) if (w[k] !== undefined) out.push({ path: [k], message: `${k} applies to conversations or agents, which are not set` });
  }
  if (w.trace === undefined) {
    for (const k of ['blockSize', 'timeScale', 'maxRequests'] as const) if (w[k] !== undefined) out.push({ path: [k], message: `${k} applies to workload.trace, which is not set` });
  }
  if (w.promptStyle !== undefined && w.format !== 'mooncake') out.push({ path: ['promptStyle'], message: 'promptStyle chooses how Mooncake hash ids become prompts; it needs format: mooncake' });
  if (w.promptStyle === 'sglang' && w.blockSize !== undefined) out.push({ path: ['blockSize'], message: "SGLang's prompts write ~129 tokens per hash id whatever the block size: blockSize applies to promptStyle: exact" });
  if (w.blockSize !== undefined && w.format !== undefined && w.format !== 'mooncake') out.push({ path: ['blockSize'], message: `blockSize applies to Mooncake hash ids; the ${w.format} layout has none` });
  if ((w.maxTurns !== undefined || w.maxConversations !== undefined) && typeof w.conversations !== 'string') out.push({ path: [w.maxTurns !== undefined ? 'maxTurns' : 'maxConversations'], message: 'maxTurns and maxConversations limit a conversations file' });
  if ((w.trace !== undefined || sessionSources.length) && w.path !== undefined) out.push({ path: ['path'], message: 'path is a dataset file; a trace or conversations workload does not use the dataset' });
  return out;
}

/** the WorkloadSpec the fields describe, undefined when they describe none (plain dataset) */
export function workloadSpecOf(w: WorkloadFieldsIn): WorkloadSpec | undefined {
  if (w.trace !== undefined && w.format !== undefined) {
    return { kind: 'trace', path: w.trace, format: w.format, blockSize: w.blockSize, timeScale: w.timeScale, maxRequests: w.maxRequests, seed: w.seed, vocabSize: w.vocabSize, ...(w.promptStyle ? { promptStyle: w.promptStyle } : {}) };
  }
  const start = w.sessions === undefined ? { kind: 'concurrency' as const, sessions: 1 } : 'rate' in w.sessions ? { kind: 'rate' as const, sessionsPerSec: w.sessions.rate } : { kind: 'concurrency' as const, sessions: w.sessions.concurrency };
  const common = { kind: 'conversations' as const, seed: w.seed, start, thinkTimeSec: toDistribution(w.thinkTimeSec ?? 0) };
  if (typeof w.conversations === 'string') return { ...common, source: 'file', path: w.conversations, maxConversations: w.maxConversations, maxTurns: w.maxTurns };
  if (w.conversations) {
    const c = w.conversations;
    return { ...common, source: 'generated', conversations: c.count, turns: toDistribution(c.turns), inputTokens: toDistribution(c.inputTokens), outputTokens: toDistribution(c.outputTokens), sharedPrefixTokens: c.sharedPrefixTokens, prefixTokens: c.prefixTokens === undefined ? undefined : toDistribution(c.prefixTokens) };
  }
  if (w.agents) {
    const a = w.agents;
    return { ...common, source: 'agentic', agents: a.count, calls: toDistribution(a.calls), systemPromptTokens: a.systemPromptTokens, toolOutputTokens: toDistribution(a.toolOutputTokens), outputTokens: toDistribution(a.outputTokens) };
  }
  return undefined;
}
