import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import type { StreamResult } from '../../../src/core/load/accumulator';
import { arrivalOffsets } from '../../../src/core/load/arrivals';
import { createRng } from '../../../src/core/load/rng';
import { isClientError, LoadRun, type RequestSender } from '../../../src/core/load/runner';
import type { DatasetRow, RequestRecord } from '../../../src/core/metrics/record';
import { computeMetrics } from '../../../src/core/metrics/summary';
import { validityChecks } from '../../../src/core/metrics/validity';
import { concurrencyShare } from '../../../src/core/load/pool';

const rows: DatasetRow[] = [{ prompt: 'a', promptLen: 4, outputLen: 8 }];

/** answers after `delayMs` with one chunk; `error(n)` makes request n fail with that text */
class Fake implements RequestSender {
  calls = 0;
  inFlight = 0;
  peak = 0;
  constructor(
    private readonly delayMs: number,
    private readonly error: (n: number) => string | undefined = () => undefined,
  ) {}
  send(_row: DatasetRow, maxTokens: number): Promise<StreamResult> {
    const n = this.calls++;
    const startAt = performance.now();
    this.inFlight++;
    this.peak = Math.max(this.peak, this.inFlight);
    return new Promise((resolve) =>
      setTimeout(() => {
        this.inFlight--;
        const error = this.error(n);
        resolve({ startAt, ok: error === undefined, error, chunkMs: [1], chunkChars: [1], chunkTokens: [1], outputTokens: maxTokens, promptTokens: null, cachedTokens: null, text: 'x y', lastLineMs: 1 });
      }, this.delayMs),
    );
  }
}

function judge(records: RequestRecord[], client = { eventLoopDelayP99Ms: 0, eventLoopDelayMaxMs: 0, cpuPct: 1 }) {
  const m = computeMetrics(records, { api: 'completions', definition: 'sglang', durationSec: 1, percentiles: [99] });
  const measured = records.filter((r) => !r.warmup);
  return { summary: m.summary, checks: new Map(validityChecks({ summary: m.summary, records: measured, derived: m.derived, requestRate: Infinity, datasetName: 'random', cacheBust: true, ignoreEos: true, client }).map((c) => [c.id, c])) };
}

test('--duration with rate inf stops at the deadline and queues nothing ahead (closed loop)', async () => {
  const client = new Fake(5);
  const run = new LoadRun({ rows, client, arrivals: arrivalOffsets({ kind: 'all-at-once' }, createRng(1)), maxConcurrency: 4, durationSec: 0.15, warmupRequests: 0 });
  let maxQueued = 0;
  const poll = setInterval(() => (maxQueued = Math.max(maxQueued, run.progress().queued)), 1);
  const res = await run.run();
  clearInterval(poll);
  assert.ok(res.records.length > 4, `it ran (${res.records.length} requests)`);
  // nothing leaves the dispatcher after the deadline; what was in flight then finishes
  assert.ok(res.records.every((r) => r.dispatchedMs < 150), `last dispatch at ${Math.max(...res.records.map((r) => r.dispatchedMs)).toFixed(1)} ms`);
  assert.ok(client.peak <= 4);
  // the old runner materialised every due arrival: with rate inf that was an unbounded queue
  assert.ok(maxQueued <= 1, `pending arrivals held: ${maxQueued}`);
});

test('--duration with rate inf and no concurrency cap runs at the socket cap, reported, not failed', async () => {
  const client = new Fake(3);
  const run = new LoadRun({ rows, client, arrivals: arrivalOffsets({ kind: 'all-at-once' }, createRng(1)), maxSockets: 8, durationSec: 0.1, warmupRequests: 0 });
  const res = await run.run();
  assert.ok(client.peak <= 8);
  assert.ok(res.records.every((r) => r.ok));
  assert.ok((res.client.socketCapWaits ?? 0) > 0);
  const check = judge(res.records, res.client).checks.get('client-saturated');
  assert.equal(check?.level, 'warn');
  assert.match(check?.detail ?? '', /socket cap/);
});

test('an EMFILE from the client is a client error: not a server error, and the run is invalid', async () => {
  const client = new Fake(1, (n) => (n % 4 === 0 ? 'EMFILE: connect EMFILE 127.0.0.1:30000 - Local (undefined:undefined)' : n % 4 === 1 ? 'HTTP 500 Internal Server Error' : undefined));
  const res = await new LoadRun({ rows, client, arrivals: arrivalOffsets({ kind: 'all-at-once' }, createRng(1)), maxConcurrency: 2, count: 8, warmupRequests: 0 }).run();
  const emfile = res.records.filter((r) => r.error?.startsWith('EMFILE'));
  assert.equal(emfile.length, 2);
  assert.ok(emfile.every((r) => r.clientError === true));
  assert.ok(res.records.filter((r) => r.error?.startsWith('HTTP 500')).every((r) => r.clientError === undefined));
  const { summary, checks } = judge(res.records);
  assert.equal(summary.failed, 4);
  assert.equal(summary.clientErrors, 2);
  const sat = checks.get('client-saturated');
  assert.equal(sat?.level, 'error');
  assert.match(sat?.text ?? '', /client failed requests/);
  assert.match(sat?.detail ?? '', /2 request\(s\) failed in the client itself/);
});

test('client error classification: local resource errors and thrown client bugs, not server or network answers', () => {
  for (const e of ['EMFILE: connect EMFILE', 'ENFILE: x', 'EADDRNOTAVAIL: connect EADDRNOTAVAIL 127.0.0.1:1', 'client error: boom']) assert.equal(isClientError(e), true, e);
  for (const e of ['ECONNRESET: socket hang up', 'ECONNREFUSED: connect', 'HTTP 503 Service Unavailable', 'stalled: no data from the server for 600 s', undefined]) assert.equal(isClientError(e), false, String(e));
});

test('a start-up burst is spread over loop turns: the loop is never held for all of it', async () => {
  // 2,000 requests due at once; each send notes which event-loop turn it ran in
  let turn = 0;
  let spinning = true;
  const spin = (): void => {
    turn++;
    if (spinning) setImmediate(spin);
  };
  setImmediate(spin);
  const turns: number[] = [];
  const client = new Fake(1);
  const send = client.send.bind(client);
  client.send = (row, maxTokens) => {
    turns.push(turn);
    return send(row, maxTokens);
  };
  const res = await new LoadRun({ rows, client, arrivals: arrivalOffsets({ kind: 'all-at-once' }, createRng(1)), count: 2000, maxConcurrency: 2000, warmupRequests: 0 }).run();
  spinning = false;
  assert.equal(res.records.length, 2000);
  const perTurn = new Map<number, number>();
  for (const t of turns) perTurn.set(t, (perTurn.get(t) ?? 0) + 1);
  const most = Math.max(...perTurn.values());
  assert.ok(most <= 32, `at most one burst of starts per loop turn (saw ${most})`);
  // dispatch order is kept across the turns
  const dispatched = res.records.map((r) => r.dispatchedMs);
  for (let i = 1; i < dispatched.length; i++) assert.ok(dispatched[i] >= dispatched[i - 1]);
});

test('slices of one schedule: shards together send exactly the single client schedule', async () => {
  const n = 3;
  const all: RequestRecord[] = [];
  for (let i = 0; i < n; i++) {
    const res = await new LoadRun({ rows: [{ prompt: 'a', promptLen: 1, outputLen: 1 }, { prompt: 'b', promptLen: 2, outputLen: 1 }], client: new Fake(0), arrivals: arrivalOffsets({ kind: 'poisson', ratePerSec: 20000 }, createRng(9)), slice: { index: i, count: n }, count: 50, warmupRequests: 0 }).run();
    all.push(...res.records);
  }
  const single = await new LoadRun({ rows: [{ prompt: 'a', promptLen: 1, outputLen: 1 }, { prompt: 'b', promptLen: 2, outputLen: 1 }], client: new Fake(0), arrivals: arrivalOffsets({ kind: 'poisson', ratePerSec: 20000 }, createRng(9)), count: 50, warmupRequests: 0 }).run();
  all.sort((a, b) => a.seq - b.seq);
  assert.deepEqual(all.map((r) => [r.seq, r.row, r.promptLen]), single.records.map((r) => [r.seq, r.row, r.promptLen]));
  // the planned times are the same schedule (to float rounding of t0 + offset - t0)
  for (let i = 0; i < all.length; i++) assert.ok(Math.abs(all[i].scheduledMs - single.records[i].scheduledMs) < 1e-6);
  assert.deepEqual([0, 1, 2, 3].map((i) => concurrencyShare(10, i, 4)), [3, 3, 2, 2]);
});
