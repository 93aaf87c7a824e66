import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionSchedule, type SessionWorkload } from '../../../src/core/load/workloads/sessions';
import { LoadRun, type RequestSender } from '../../../src/core/load/runner';
import type { StreamResult } from '../../../src/core/load/accumulator';
import type { DatasetRow } from '../../../src/core/metrics/record';

const workload = (over: Partial<SessionWorkload> = {}): SessionWorkload => ({
  kind: 'sessions',
  sessions: [
    { id: 'a', system: 'be brief', turns: [{ user: 'one', outputLen: 4 }, { user: 'two', outputLen: 4 }, { user: 'three', outputLen: 4 }] },
    { id: 'b', turns: [{ user: 'hi', outputLen: 4 }, { user: 'again', outputLen: 4 }] },
  ],
  start: { kind: 'concurrency', sessions: 1 },
  thinkTimeSec: { kind: 'constant', value: 2 },
  seed: 1,
  ...over,
});

test('a turn is released only after the previous one finished, at its finish plus the think time, with the reply in its history', () => {
  const s = new SessionSchedule(workload());
  const t0 = s.take();
  assert.ok(t0);
  assert.equal(s.take(), undefined, 'one session open, turn 2 waits for turn 1');
  assert.deepEqual([t0.session, t0.turn, t0.dueMs], [0, 0, 0]);
  s.finished(t0, true, ' ok then', 1500);
  assert.equal(s.nextDueMs(), 3500, 'finish at 1.5 s + 2 s think time');
  const t1 = s.take();
  assert.ok(t1);
  assert.equal(t1.turn, 1);
  assert.deepEqual(t1.row.messages, [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: 'one' },
    { role: 'assistant', content: ' ok then' },
    { role: 'user', content: 'two' },
  ]);
  assert.ok(typeof t1.row.prompt === 'string' && typeof t0.row.prompt === 'string' && t1.row.prompt.startsWith(`${t0.row.prompt}\n\n ok then`), 'the text prompt extends the previous prompt and reply');
  s.finished(t1, true, ' fine', 4000);
  const t2 = s.take();
  assert.ok(t2);
  s.finished(t2, true, ' end', 7000);
  // session a ended: session b opens at once (concurrency 1)
  assert.equal(s.nextDueMs(), 7000);
  const b0 = s.take();
  assert.deepEqual([b0?.session, b0?.turn], [1, 0]);
});

test('a failed turn ends its session; the schedule is exhausted when every session has ended', () => {
  const s = new SessionSchedule(workload({ start: { kind: 'concurrency', sessions: 2 } }));
  const a = s.take();
  const b = s.take();
  assert.ok(a && b);
  s.finished(a, false, '', 10);
  s.finished(b, true, ' x', 10);
  const b1 = s.take();
  assert.deepEqual([b1?.session, b1?.turn], [1, 1]);
  assert.equal(s.exhausted(), false);
  if (b1) s.finished(b1, true, ' y', 20);
  assert.equal(s.exhausted(), true);
  assert.equal(s.endedEarly, 1);
});

test('threads split sessions by index and never share one', () => {
  const w = workload({ start: { kind: 'rate', sessionsPerSec: 100 } });
  const t0 = new SessionSchedule(w, { index: 0, count: 2 });
  const t1 = new SessionSchedule(w, { index: 1, count: 2 });
  assert.equal(t0.take()?.session, 0);
  assert.equal(t1.take()?.session, 1);
  assert.equal(t0.take(), undefined);
});

/** answers every request after a few event-loop turns with a fixed reply */
class EchoClient implements RequestSender {
  readonly seen: DatasetRow[] = [];
  async send(row: DatasetRow): Promise<StreamResult> {
    this.seen.push(row);
    const startAt = performance.now();
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    return { startAt, ok: true, lastLineMs: performance.now() - startAt, chunkMs: [1], chunkChars: [6], chunkTokens: [-1], outputTokens: 1, promptTokens: null, cachedTokens: null, text: ' reply' };
  }
}

test('the load runner sends every turn in order, each after its predecessor finished plus the think time', async () => {
  const client = new EchoClient();
  const sessions = new SessionSchedule(workload({ start: { kind: 'concurrency', sessions: 2 }, thinkTimeSec: { kind: 'constant', value: 0.02 } }));
  const res = await new LoadRun({ rows: [], sessions, client, arrivals: [][Symbol.iterator](), warmupRequests: 0 }).run();
  const recs = res.records;
  assert.equal(recs.length, 5);
  for (const session of [0, 1]) {
    const mine = recs.filter((r) => r.session === session).sort((a, b) => (a.turn ?? 0) - (b.turn ?? 0));
    assert.deepEqual(mine.map((r) => r.turn), session === 0 ? [0, 1, 2] : [0, 1]);
    for (let k = 1; k < mine.length; k++) {
      const prevEnd = mine[k - 1].startMs + mine[k - 1].lastLineMs;
      assert.ok(mine[k].scheduledMs >= prevEnd + 20 - 0.01, `turn ${k} planned ${mine[k].scheduledMs} ms, previous ended ${prevEnd} ms`);
      assert.ok(mine[k].startMs >= mine[k].scheduledMs);
    }
  }
  // each turn's history holds the replies before it
  const last = client.seen.find((r) => r.messages?.length === 6);
  assert.deepEqual(last?.messages?.map((m) => m.role), ['system', 'user', 'assistant', 'user', 'assistant', 'user']);
});
