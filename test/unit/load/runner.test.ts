import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import type { StreamResult } from '../../../src/core/load/accumulator';
import { arrivalOffsets } from '../../../src/core/load/arrivals';
import { createRng } from '../../../src/core/load/rng';
import { LoadRun, WarmupFailedError, type RequestSender } from '../../../src/core/load/runner';
import type { DatasetRow } from '../../../src/core/metrics/record';

const rows: DatasetRow[] = [
  { prompt: 'a', promptLen: 1, outputLen: 100 },
  { prompt: 'b', promptLen: 2, outputLen: 3 },
];

/** A fake server: answers after `delayMs`, counts concurrency, can fail or hang. */
class FakeClient implements RequestSender {
  inFlight = 0;
  peak = 0;
  calls: { maxTokens: number; prompt: string }[] = [];
  constructor(
    private readonly delayMs = 2,
    private readonly fail: (n: number) => boolean = () => false,
    private readonly hang = false,
  ) {}
  send(row: DatasetRow, maxTokens: number, signal?: AbortSignal): Promise<StreamResult> {
    const n = this.calls.length;
    this.calls.push({ maxTokens, prompt: String(row.prompt) });
    const startAt = performance.now();
    this.inFlight++;
    this.peak = Math.max(this.peak, this.inFlight);
    return new Promise((resolve) => {
      const base = { startAt, chunkMs: [1], chunkChars: [1], chunkTokens: [1], outputTokens: maxTokens, promptTokens: null, cachedTokens: null, text: 'x', lastLineMs: 1 };
      const done = (r: StreamResult): void => {
        this.inFlight--;
        resolve(r);
      };
      const timer = this.hang ? undefined : setTimeout(() => done({ ...base, ok: !this.fail(n), error: this.fail(n) ? 'HTTP 500' : undefined }), this.delayMs);
      signal?.addEventListener('abort', () => {
        if (timer) clearTimeout(timer);
        done({ ...base, ok: false, error: 'cancelled' });
      });
    });
  }
}

test('closed loop: never more than max concurrency in flight; waiting counts as queue time', async () => {
  const client = new FakeClient(3);
  const res = await new LoadRun({ rows, client, arrivals: arrivalOffsets({ kind: 'all-at-once' }, createRng(1)), maxConcurrency: 4, count: 40, warmupRequests: 0 }).run();
  assert.equal(client.peak, 4);
  assert.equal(res.records.length, 40);
  assert.deepEqual(res.records.map((r) => r.seq), Array.from({ length: 40 }, (_, i) => i));
  // all are due at t0; later ones waited for a slot
  assert.ok(res.records.every((r) => r.scheduledMs === 0));
  assert.ok(res.records[39].startMs - res.records[39].dispatchedMs > res.records[0].startMs - res.records[0].dispatchedMs);
  // rows repeat in order
  assert.deepEqual(client.calls.slice(0, 3).map((c) => c.prompt), ['a', 'b', 'a']);
  assert.equal(res.cancelled, false);
});

test('warmup: one copy of the first row with at most 32 tokens, excluded from the measured requests', async () => {
  const client = new FakeClient(1);
  const seen: number[] = [];
  const res = await new LoadRun({ rows, client, arrivals: arrivalOffsets({ kind: 'all-at-once' }, createRng(1)), count: 3, onRecord: (r) => seen.push(r.seq) }).run();
  assert.deepEqual(client.calls[0], { maxTokens: 32, prompt: 'a' });
  assert.equal(res.records[0].warmup, true);
  assert.equal(res.records.filter((r) => !r.warmup).length, 3);
  assert.equal(seen[0], -1);
  assert.equal(seen.length, 4);
});

test('a warmup in which every request fails stops the run with the server error', async () => {
  const run = new LoadRun({ rows, client: new FakeClient(1, () => true), arrivals: arrivalOffsets({ kind: 'all-at-once' }, createRng(1)), count: 3, warmupRequests: 2 });
  await assert.rejects(run.run(), (e: unknown) => e instanceof WarmupFailedError && /HTTP 500/.test(e.message));
});

test('stop by duration: only requests planned inside the window are sent', async () => {
  const res = await new LoadRun({ rows, client: new FakeClient(1), arrivals: arrivalOffsets({ kind: 'constant', ratePerSec: 200 }, createRng(1)), durationSec: 0.1, warmupRequests: 0 }).run();
  // planned at 0, 5, ..., 100 ms
  assert.equal(res.records.length, 21);
  // scheduledMs is (t0 + offset) - t0 in floating point: allow its rounding, not a late plan
  assert.ok(res.records.every((r) => r.scheduledMs <= 100 + 1e-6));
  assert.ok(res.records.every((r) => r.dispatchedMs >= r.scheduledMs - 1e-6));
});

test('cancellation keeps the requests that finished and the partial ones in flight', async () => {
  const ac = new AbortController();
  const client = new FakeClient(0, () => false, true);
  const run = new LoadRun({ rows, client, arrivals: arrivalOffsets({ kind: 'all-at-once' }, createRng(1)), maxConcurrency: 5, count: 100, warmupRequests: 0, signal: ac.signal });
  const p = run.run();
  setTimeout(() => ac.abort(), 20);
  const res = await p;
  assert.equal(res.cancelled, true);
  assert.equal(res.records.length, 5); // the five in flight; the 95 queued were never sent
  assert.ok(res.records.every((r) => !r.ok && r.error === 'cancelled' && r.chunkMs.length === 1));
});

test('failed requests are recorded with their error and counted', async () => {
  const run = new LoadRun({ rows, client: new FakeClient(1, (n) => n % 2 === 1), arrivals: arrivalOffsets({ kind: 'all-at-once' }, createRng(1)), count: 10, warmupRequests: 0 });
  const res = await run.run();
  assert.equal(res.records.filter((r) => !r.ok).length, 5);
  assert.equal(run.progress().failed, 5);
  assert.equal(run.progress().completed, 5);
  assert.equal(run.progress().phase, 'done');
});
