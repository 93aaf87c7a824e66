/**
 * Multi-turn sessions: where their turns come from. Each session is a chain of user turns; the
 * server's real reply to turn k is appended to the history before turn k+1 (as vLLM's
 * benchmarks/multi_turn/benchmark_serving_multi_turn.py @00d39539 and SGLang's multi-turn
 * bench_serving do), so turn k+1's prompt extends turn k's prompt and reply and the prefix cache
 * is exercised as in a chat.
 */
import { DatasetError, jsonFailure } from '../datasets/errors';
import { estimateTokens } from '../../util/tokens';
import { randomWords } from '../datasets/words';
import type { Rng } from '../rng';
import { sampleInt, type Distribution } from './distribution';

export interface TurnPlan {
  /** the user's (or the tool's) message of this turn */
  user: string;
  /** requested output tokens of the reply */
  outputLen: number;
}

export interface SessionPlan {
  /** id from the file, or "s<index>" */
  id: string;
  /** first message of every turn's history (role system); agentic: shared by every agent */
  system?: string;
  turns: TurnPlan[];
}

export interface ConversationFileOptions {
  /** at most this many conversations (default: all) */
  maxConversations?: number;
  /** at most this many user turns per conversation */
  maxTurns?: number;
  /** fixed reply length; default: the file's assistant message length (estimated), else 256 */
  outputLen?: number;
}

/**
 * A conversations file in either published shape: vLLM's OpenAI layout
 * `[{"id", "messages": [{"role": "user"|"assistant"|"system", "content"}]}]`
 * (convert_sharegpt_to_openai.py) or ShareGPT's `[{"id", "conversations": [{"from": "human"|"gpt"|"system", "value"}]}]`.
 * User turns are kept in order; each assistant message sizes the reply to the turn before it.
 */
export function conversationsFromJson(text: string, file: string, o: ConversationFileOptions): SessionPlan[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DatasetError(`Not valid JSON: ${jsonFailure(err)}`, file);
  }
  if (!Array.isArray(json)) throw new DatasetError('A conversations file holds a JSON array of conversations', file, 'Use [{"id": "c1", "messages": [{"role": "user", "content": "..."}, ...]}] or ShareGPT\'s [{"conversations": [{"from": "human", "value": "..."}]}].');
  const sessions: SessionPlan[] = [];
  for (let i = 0; i < json.length; i++) {
    if (o.maxConversations !== undefined && sessions.length >= o.maxConversations) break;
    const item: unknown = json[i];
    if (typeof item !== 'object' || item === null) throw new DatasetError(`Conversation ${i + 1} is not an object`, file);
    const rec = item as Record<string, unknown>;
    const list = Array.isArray(rec['messages']) ? rec['messages'] : Array.isArray(rec['conversations']) ? rec['conversations'] : undefined;
    if (!list) throw new DatasetError(`Conversation ${i + 1} has neither "messages" nor "conversations"`, file);
    let system: string | undefined;
    const turns: TurnPlan[] = [];
    for (const [k, m] of list.entries()) {
      if (typeof m !== 'object' || m === null) throw new DatasetError(`Conversation ${i + 1}, message ${k + 1} is not an object`, file);
      const mr = m as Record<string, unknown>;
      const role = normaliseRole(mr['role'] ?? mr['from']);
      const content = mr['content'] ?? mr['value'];
      if (typeof content !== 'string') throw new DatasetError(`Conversation ${i + 1}, message ${k + 1}: the content must be a string`, file);
      if (role === 'system') system = content;
      else if (role === 'user') turns.push({ user: content, outputLen: o.outputLen ?? 256 });
      else if (role === 'assistant' && turns.length && o.outputLen === undefined) turns[turns.length - 1].outputLen = Math.max(1, estimateTokens(content));
      else if (role === undefined) throw new DatasetError(`Conversation ${i + 1}, message ${k + 1}: unknown role ${JSON.stringify(mr['role'] ?? mr['from'])}`, file, 'Roles: user/human, assistant/gpt, system.');
    }
    if (turns.length === 0) continue;
    const id = typeof rec['id'] === 'string' || typeof rec['id'] === 'number' ? String(rec['id']) : `c${i + 1}`;
    sessions.push({ id, system, turns: o.maxTurns !== undefined ? turns.slice(0, o.maxTurns) : turns });
  }
  if (sessions.length === 0) throw new DatasetError('The conversations file has no conversation with a user turn', file);
  return sessions;
}

function normaliseRole(v: unknown): 'user' | 'assistant' | 'system' | undefined {
  if (v === 'user' || v === 'human') return 'user';
  if (v === 'assistant' || v === 'gpt' || v === 'chatgpt' || v === 'bard' || v === 'bing') return 'assistant';
  if (v === 'system') return 'system';
  return undefined;
}

export interface GeneratedConversations {
  conversations: number;
  /** user turns per conversation */
  turns: Distribution;
  /** tokens of each user message */
  inputTokens: Distribution;
  /** reply tokens */
  outputTokens: Distribution;
  /** a system prompt shared by every conversation (0 = none) */
  sharedPrefixTokens: number;
  /** a conversation's own opening context before its first question (vLLM's prefix_num_tokens), e.g. a document */
  prefixTokens?: Distribution;
}

/** vLLM's "generate_conversations" idea: synthetic chats with lengths from distributions */
export function generatedConversations(g: GeneratedConversations, rng: Rng): SessionPlan[] {
  const system = g.sharedPrefixTokens > 0 ? randomWords(g.sharedPrefixTokens, rng) : undefined;
  return Array.from({ length: g.conversations }, (_, s) => {
    const n = sampleInt(g.turns, rng);
    const own = g.prefixTokens ? sampleInt(g.prefixTokens, rng, 0) : 0;
    const turns = Array.from({ length: n }, () => ({ user: randomWords(sampleInt(g.inputTokens, rng), rng), outputLen: sampleInt(g.outputTokens, rng) }));
    if (own > 0) turns[0].user = `${randomWords(own, rng)}\n\n${turns[0].user}`;
    return { id: `s${s + 1}`, system, turns };
  });
}

export interface AgenticShape {
  agents: number;
  /** calls per agent */
  calls: Distribution;
  /** the long system prompt every agent shares (tools, instructions) */
  systemPromptTokens: number;
  /** tokens each call adds to the context (a tool's output) */
  toolOutputTokens: Distribution;
  /** the model's short replies (tool calls) */
  outputTokens: Distribution;
}

/**
 * Agentic-coding shape: N agents, each a chain of calls over one growing context: a long shared
 * system prompt, then per call a tool observation appended and a short reply (the next tool call).
 */
export function agenticSessions(a: AgenticShape, rng: Rng): SessionPlan[] {
  const system = randomWords(a.systemPromptTokens, rng);
  return Array.from({ length: a.agents }, (_, s) => {
    const n = sampleInt(a.calls, rng);
    return {
      id: `agent${s + 1}`,
      system,
      turns: Array.from({ length: n }, (_, k) => ({ user: `${k === 0 ? 'task' : 'tool output'}: ${randomWords(sampleInt(a.toolOutputTokens, rng), rng)}`, outputLen: sampleInt(a.outputTokens, rng) })),
    };
  });
}
