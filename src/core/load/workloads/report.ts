/**
 * What a workload run shows beyond the usual summary: the prefix-cache hit rate the workload
 * implies next to the one measured (responses' cached_tokens), and for multi-turn runs the
 * metrics by turn index and per session.
 */
import type { DerivedRequest } from '../../metrics/definitions';
import { percentile } from '../../metrics/stats';
import type { RequestRecord } from '../../metrics/record';
import type { WorkloadSummary } from './plan';

export interface TurnStats {
  /** 1-based turn index */
  turn: number;
  requests: number;
  ttftMeanMs: number | null;
  ttftP50Ms: number | null;
  ttftP99Ms: number | null;
  /** Σ cached / Σ prompt tokens of this turn index's responses (null when none reported) */
  cacheHitRate: number | null;
  promptTokensMean: number | null;
}

export interface SessionStats {
  sessions: number;
  /** sessions whose every turn was sent and answered */
  completed: number;
  turnsMean: number;
  /** first turn's start to last turn's end */
  durationMeanSec: number | null;
  durationP50Sec: number | null;
}

export interface WorkloadReport {
  summary: WorkloadSummary;
  /** measured from the responses: Σ cached_tokens / Σ prompt tokens (null when no response reported cached tokens) */
  measuredHitRate: number | null;
  measuredCachedTokens: number;
  measuredPromptTokens: number;
  byTurn?: TurnStats[];
  sessions?: SessionStats;
}

/** hit rate of a set of records: Σ cached / Σ prompt over the ones that report cached tokens */
export function hitRateOf(records: readonly RequestRecord[]): { rate: number | null; cached: number; prompt: number } {
  let cached = 0;
  let prompt = 0;
  for (const r of records) {
    if (!r.ok || r.cachedTokens === null) continue;
    cached += r.cachedTokens;
    prompt += r.promptTokens ?? r.promptLen;
  }
  return { rate: prompt > 0 ? cached / prompt : null, cached, prompt };
}

export function turnStats(records: readonly RequestRecord[], derived: readonly DerivedRequest[]): TurnStats[] {
  const by = new Map<number, { ttft: number[]; recs: RequestRecord[] }>();
  records.forEach((r, i) => {
    if (r.turn === undefined) return;
    let b = by.get(r.turn);
    if (!b) by.set(r.turn, (b = { ttft: [], recs: [] }));
    b.recs.push(r);
    const d = derived[i];
    if (d?.ok && r.ok) b.ttft.push(d.ttftMs);
  });
  return [...by.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([turn, b]) => {
      const hit = hitRateOf(b.recs);
      const prompts = b.recs.filter((r) => r.ok).map((r) => r.promptTokens ?? r.promptLen);
      return {
        turn: turn + 1,
        requests: b.recs.length,
        ttftMeanMs: b.ttft.length ? b.ttft.reduce((a, x) => a + x, 0) / b.ttft.length : null,
        ttftP50Ms: b.ttft.length ? percentile(b.ttft, 50) : null,
        ttftP99Ms: b.ttft.length ? percentile(b.ttft, 99) : null,
        cacheHitRate: hit.rate,
        promptTokensMean: prompts.length ? prompts.reduce((a, x) => a + x, 0) / prompts.length : null,
      };
    });
}

/** `plannedTurns[s]` = the turns session s has in the workload */
export function sessionStats(records: readonly RequestRecord[], plannedTurns: readonly number[]): SessionStats {
  const by = new Map<number, { start: number; end: number; ok: number }>();
  for (const r of records) {
    if (r.session === undefined) continue;
    const end = r.startMs + r.lastLineMs;
    const b = by.get(r.session);
    if (!b) by.set(r.session, { start: r.startMs, end, ok: r.ok ? 1 : 0 });
    else {
      b.start = Math.min(b.start, r.startMs);
      b.end = Math.max(b.end, end);
      if (r.ok) b.ok++;
    }
  }
  const durations = [...by.values()].map((b) => (b.end - b.start) / 1000);
  let completed = 0;
  let turns = 0;
  for (const [s, b] of by) {
    turns += b.ok;
    if (b.ok >= (plannedTurns[s] ?? Infinity)) completed++;
  }
  return {
    sessions: by.size,
    completed,
    turnsMean: by.size ? turns / by.size : 0,
    durationMeanSec: durations.length ? durations.reduce((a, x) => a + x, 0) / durations.length : null,
    durationP50Sec: durations.length ? percentile(durations, 50) : null,
  };
}
