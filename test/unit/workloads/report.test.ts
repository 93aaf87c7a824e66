import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectedReuse } from '../../../src/core/load/workloads/plan';
import { sessionStats, turnStats } from '../../../src/core/load/workloads/report';
import { SessionSchedule, type SessionWorkload } from '../../../src/core/load/workloads/sessions';
import { decodeMessage, encodeMessage, type OwnerMessage } from '../../../src/core/load/shard-protocol';
import type { DerivedRequest } from '../../../src/core/metrics/definitions';

const rec = (session: number, turn: number, ok: boolean, prompt: number, cached: number, startMs: number, ms: number) => ({
  seq: session * 10 + turn, row: session, session, turn, scheduledMs: startMs, dispatchedMs: startMs, startMs, promptLen: prompt, maxTokens: 4, ok,
  lastLineMs: ms, chunkMs: [ms / 2], chunkChars: [3], chunkTokens: [-1], outputTokens: 4, promptTokens: prompt, cachedTokens: cached, text: ' abc',
});
const derived = (ttftMs: number, ok = true): DerivedRequest => ({ ok, ttftMs, latencyMs: ttftMs * 2, itlMs: [], outputLen: 4, promptLen: 1, tpotMs: null, startMs: 0, queueMs: 0 });

test('metrics by turn index: TTFT and hit rate of each turn, failed turns out of the TTFT', () => {
  const records = [rec(0, 0, true, 100, 0, 0, 50), rec(0, 1, true, 200, 150, 60, 20), rec(1, 0, true, 100, 0, 5, 40), rec(1, 1, false, 200, 0, 70, 5)];
  const t = turnStats(records, [derived(30), derived(10), derived(50), derived(0, false)]);
  assert.deepEqual(t.map((x) => [x.turn, x.requests, x.ttftMeanMs, x.cacheHitRate]), [[1, 2, 40, 0], [2, 2, 10, 0.75]]);
  const s = sessionStats(records, [2, 2]);
  assert.deepEqual([s.sessions, s.completed, s.turnsMean], [2, 1, 1.5]);
  // session 0: from 0 ms to 60 + 20 ms; session 1: from 5 ms to 70 + 5 ms (its failed last turn included)
  assert.equal(s.durationMeanSec !== null && Math.round(s.durationMeanSec * 1000), (80 + 70) / 2);
});

test('expected reuse of sessions: later turns find their history, first turns the shared system prompt after the first session', () => {
  const w: SessionWorkload = {
    kind: 'sessions',
    sessions: [
      { id: 'a', system: 'the cat sat', turns: [{ user: 'one two', outputLen: 5 }, { user: 'three', outputLen: 5 }] },
      { id: 'b', system: 'the cat sat', turns: [{ user: 'four', outputLen: 5 }] },
    ],
    start: { kind: 'concurrency', sessions: 1 },
    thinkTimeSec: { kind: 'constant', value: 0 },
    seed: 1,
  };
  // a: turn 1 = 3 + 2 = 5 tokens, turn 2 = 5 + 5 + 1 = 11 (10 cached); b: turn 1 = 3 + 1 = 4 (3 cached)
  assert.deepEqual(expectedReuse(w), { promptTokens: 5 + 11 + 4, cachedTokens: 10 + 3, hitRate: 13 / 20 });
});

test('a session workload crosses the wire to a client node intact and schedules the same there', () => {
  const w: SessionWorkload = { kind: 'sessions', sessions: [{ id: 'a', turns: [{ user: 'q', outputLen: 3 }, { user: 'r', outputLen: 3 }] }], start: { kind: 'rate', sessionsPerSec: 5 }, thinkTimeSec: { kind: 'lognormal', mean: 2, sigma: 0.5 }, seed: 4, salt: 'abcd' };
  const msg = decodeMessage<OwnerMessage>(encodeMessage({ type: 'config', config: { plan: { workload: w } as never, workers: 1, share: { first: 0, of: 1 } } }));
  assert.ok(msg.type === 'config');
  const there = new SessionSchedule(msg.config.plan.workload as SessionWorkload);
  const here = new SessionSchedule(w);
  const a = there.take();
  const b = here.take();
  assert.deepEqual(a?.row, b?.row);
  if (a && b) {
    there.finished(a, true, ' x', 100);
    here.finished(b, true, ' x', 100);
  }
  assert.equal(there.nextDueMs(), here.nextDueMs());
});
