/**
 * Workloads beyond a list of independent prompts: a trace replayed with its prefix structure
 * (Mooncake hash_ids) or its lengths (Azure, BurstGPT), multi-turn conversations (a file or
 * generated) and the agentic shape. A spec (what the bench cell or the CLI says) becomes a
 * plan: plain data that travels to the load threads, which build each prompt when it is sent.
 */
import * as path from 'node:path';
import { readFile } from 'node:fs/promises';
import { DatasetError } from '../datasets/errors';
import { estimateTokens } from '../../util/tokens';
import { createRng } from '../rng';
import type { DatasetRow } from '../../metrics/record';
import type { RowSource } from '../runner';
import { BlockPromptBuilder, checkBlockConsistency, traceReuse, type ReuseEstimate } from './block-prompts';
import { agenticSessions, conversationsFromJson, generatedConversations, type SessionPlan } from './conversations';
import { describeDistribution, meanOf, type Distribution } from './distribution';
import type { SessionWorkload } from './sessions';
import { readTraceFile, type TraceFormat, type TraceRequest } from './trace-formats';
import { sglangMooncakeReuse, sglangMooncakeRow } from './sglang-mooncake';

export const MOONCAKE_BLOCK_SIZE = 512;

/** exact: blockSize token ids per hash id, input_length exactly (default); sglang: bench_serving's own text (sglang-mooncake.ts) */
export type PromptStyle = 'exact' | 'sglang';

/** What a bench cell's `workload:` (or the CLI's flags) asks for, files unread. */
export type WorkloadSpec =
  | { kind: 'trace'; path: string; format: TraceFormat; blockSize?: number; timeScale?: number; vocabSize?: number; seed: number; maxRequests?: number; promptStyle?: PromptStyle }
  | ({ kind: 'conversations'; seed: number; start: SessionWorkload['start']; thinkTimeSec: Distribution } & (
      | { source: 'file'; path: string; maxConversations?: number; maxTurns?: number; outputLen?: number }
      | { source: 'generated'; conversations: number; turns: Distribution; inputTokens: Distribution; outputTokens: Distribution; sharedPrefixTokens: number; prefixTokens?: Distribution }
      | { source: 'agentic'; agents: number; calls: Distribution; systemPromptTokens: number; toolOutputTokens: Distribution; outputTokens: Distribution }
    ));

/** A trace with its prompts still to build (token ids from hash ids, see block-prompts.ts). */
export interface TracePlan {
  kind: 'trace';
  format: TraceFormat;
  requests: TraceRequest[];
  blockSize: number;
  vocabSize: number;
  /** the seed mixed with the run's salt: a new salt, new blocks, the same sharing */
  seed: number;
  timeScale?: number;
  promptStyle?: PromptStyle;
  /** sglang style: the run's cache-bust salt in front of every prompt (its text has no seed) */
  salt?: string;
}

export type WorkloadPlan = TracePlan | SessionWorkload;

/** Plain description of the plan, for meta.json and the result table. */
export interface WorkloadSummary {
  kind: 'trace' | 'conversations';
  label: string;
  requests: number;
  sessions?: number;
  /** reuse an unbounded prefix cache would give (trace: exact from hash_ids; conversations: estimated) */
  expected: ReuseEstimate;
}

function saltNumber(salt: string | undefined): number {
  return salt ? parseInt(salt.slice(0, 8), 16) >>> 0 : 0;
}

/** Reads the files and builds the plan; `salt` is the run's cache-bust salt (undefined = none). */
export async function buildWorkloadPlan(spec: WorkloadSpec, baseDir: string, salt?: string): Promise<WorkloadPlan> {
  if (spec.kind === 'trace') {
    const file = path.resolve(baseDir, spec.path);
    let requests = await readTraceFile(file, spec.format);
    if (spec.maxRequests !== undefined) requests = requests.slice(0, spec.maxRequests);
    const blockSize = spec.blockSize ?? MOONCAKE_BLOCK_SIZE;
    if (spec.format === 'mooncake') checkBlockConsistency(requests, blockSize, file);
    return { kind: 'trace', format: spec.format, requests, blockSize, vocabSize: spec.vocabSize ?? 32000, seed: (spec.seed ^ saltNumber(salt)) >>> 0, timeScale: spec.timeScale, promptStyle: spec.promptStyle, salt };
  }
  const rng = createRng(spec.seed);
  let sessions: SessionPlan[];
  if (spec.source === 'file') {
    const file = path.resolve(baseDir, spec.path);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new DatasetError(`Cannot read conversations file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, file, 'Check the path; relative paths start at the notebook folder.');
    }
    sessions = conversationsFromJson(text, file, { maxConversations: spec.maxConversations, maxTurns: spec.maxTurns, outputLen: spec.outputLen });
  } else if (spec.source === 'generated') {
    sessions = generatedConversations(spec, rng);
  } else {
    sessions = agenticSessions(spec, rng);
  }
  return { kind: 'sessions', sessions, start: spec.start, thinkTimeSec: spec.thinkTimeSec, seed: spec.seed, salt };
}

/** one marker shared by every prompt of the run: nothing of an earlier run matches, the sharing inside the run stays */
function salted(row: DatasetRow, salt: string | undefined): DatasetRow {
  if (!salt || typeof row.prompt !== 'string') return row;
  const marker = `[${salt}] `;
  return { ...row, prompt: marker + row.prompt, promptLen: row.promptLen + estimateTokens(marker), messages: row.messages?.map((m, k) => (k === 0 ? { ...m, content: marker + m.content } : m)) };
}

/** Rows of a trace plan, each prompt built when asked (exactly input_length token ids). */
export class TraceRows implements RowSource {
  private readonly builder: BlockPromptBuilder;
  constructor(private readonly plan: TracePlan) {
    this.builder = new BlockPromptBuilder({ blockSize: plan.blockSize, vocabSize: plan.vocabSize, seed: plan.seed });
  }
  get length(): number {
    return this.plan.requests.length;
  }
  at(i: number): DatasetRow {
    const r = this.plan.requests[i];
    if (this.plan.promptStyle === 'sglang') return salted(sglangMooncakeRow(r), this.plan.salt);
    return { prompt: this.builder.prompt(r.hashIds ?? [], r.inputLen, i), promptLen: r.inputLen, outputLen: r.outputLen };
  }
  /** the warmup's prompt: row 0's length, blocks of no request (it leaves nothing a request will find cached) */
  warmupRow(): DatasetRow {
    const r = this.plan.requests[0];
    return { prompt: this.builder.prompt([], r.inputLen, -2), promptLen: r.inputLen, outputLen: r.outputLen };
  }
}

/**
 * What an unbounded prefix cache would serve. Traces: exact from the hash ids (block-prompts.ts).
 * Conversations: turn k > 0 finds turn k-1's prompt and reply; a session's first turn finds the
 * shared system prompt when an earlier session had it. Token counts are the client's estimate.
 */
export function expectedReuse(plan: WorkloadPlan): ReuseEstimate {
  if (plan.kind === 'trace') {
    if (plan.format === 'mooncake') return plan.promptStyle === 'sglang' ? sglangMooncakeReuse(plan.requests) : traceReuse(plan.requests, plan.blockSize);
    return { promptTokens: plan.requests.reduce((a, r) => a + r.inputLen, 0), cachedTokens: 0, hitRate: 0 };
  }
  let prompt = 0;
  let cached = 0;
  const systems = new Set<string>();
  for (const s of plan.sessions) {
    const sys = s.system !== undefined ? estimateTokens(s.system) : 0;
    let history = sys;
    const shared = s.system !== undefined && systems.has(s.system);
    if (s.system !== undefined) systems.add(s.system);
    for (let k = 0; k < s.turns.length; k++) {
      const t = s.turns[k];
      const before = history;
      history += estimateTokens(t.user);
      prompt += history;
      if (k > 0) cached += before;
      else if (shared) cached += sys;
      history += t.outputLen;
    }
  }
  return { promptTokens: prompt, cachedTokens: cached, hitRate: prompt > 0 ? cached / prompt : 0 };
}

export function summarizeWorkload(plan: WorkloadPlan): WorkloadSummary {
  if (plan.kind === 'trace') {
    return { kind: 'trace', label: `${plan.format} trace, ${plan.requests.length} requests${plan.format === 'mooncake' ? (plan.promptStyle === 'sglang' ? ', SGLang bench_serving prompts (128 "hi" per hash id)' : `, blocks of ${plan.blockSize} tokens`) : ''}${plan.timeScale !== undefined && plan.timeScale !== 1 ? `, time × ${plan.timeScale}` : ''}`, requests: plan.requests.length, expected: expectedReuse(plan) };
  }
  const turns = plan.sessions.reduce((a, s) => a + s.turns.length, 0);
  const start = plan.start.kind === 'rate' ? `${plan.start.sessionsPerSec} sessions/s` : `${plan.start.sessions} sessions at a time`;
  return { kind: 'conversations', label: `${plan.sessions.length} sessions, ${turns} turns, ${start}, think time ${describeDistribution(plan.thinkTimeSec, ' s')}`, requests: turns, sessions: plan.sessions.length, expected: expectedReuse(plan) };
}

/** requests the plan sends when every session runs to its end */
export function plannedRequests(plan: WorkloadPlan): number {
  return plan.kind === 'trace' ? plan.requests.length : plan.sessions.reduce((a, s) => a + s.turns.length, 0);
}

/** load threads a plan wants when the cell does not say (one per ~1,000 open sessions) */
export function sessionThreadsHint(plan: WorkloadPlan): number | undefined {
  if (plan.kind !== 'sessions') return undefined;
  const open = plan.start.kind === 'concurrency' ? plan.start.sessions : Math.ceil(plan.start.sessionsPerSec * (meanOf(plan.thinkTimeSec) + 1) * 4);
  return Math.max(1, Math.ceil(open / 1000));
}
