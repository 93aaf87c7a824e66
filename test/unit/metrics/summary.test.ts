import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeMetrics, sweepLineMaxConcurrency } from '../../../src/core/metrics/summary';
import type { DerivedRequest } from '../../../src/core/metrics/definitions';
import { rec } from './trace-helpers';

const near = (a: number | null | undefined, b: number, eps = 1e-9): void => assert.ok(a !== null && a !== undefined && Math.abs(a - b) < eps, `${a} != ${b}`);

// A hand-computed /generate run of 2 s: two good requests, one failure, one warmup.
const records = [
  rec({ seq: -1, warmup: true, chunkMs: [5], chunkChars: [9], chunkTokens: [1], outputTokens: 1, lastLineMs: 6, promptLen: 999 }),
  rec({
    seq: 0,
    scheduledMs: 0,
    dispatchedMs: 0.2,
    startMs: 0.2,
    promptLen: 10,
    maxTokens: 5,
    chunkMs: [100, 110, 130, 130, 160],
    chunkChars: [3, 4, 8, 0, 4],
    chunkTokens: [1, 2, 4, 4, 5],
    outputTokens: 5,
    lastLineMs: 165,
  }),
  rec({ seq: 1, scheduledMs: 900, dispatchedMs: 900, startMs: 1000, promptLen: 20, maxTokens: 2, chunkMs: [200, 300], chunkChars: [5, 5], chunkTokens: [1, 2], outputTokens: 2, lastLineMs: 310 }),
  rec({ seq: 2, scheduledMs: 1500, dispatchedMs: 1500.5, startMs: 1500.5, ok: false, error: 'HTTP 500', chunkMs: [40], chunkChars: [3], chunkTokens: [1], lastLineMs: 41 }),
];

test('SGLang aggregates: failures and warmups are excluded, throughputs divide by wall duration', () => {
  const { summary: s } = computeMetrics(records, { api: 'generate', definition: 'sglang', durationSec: 2, percentiles: [90, 95, 99] });
  assert.equal(s.completed, 2);
  assert.equal(s.failed, 1);
  assert.equal(s.warmupRequests, 1);
  assert.equal(s.totalInputTokens, 30);
  assert.equal(s.totalOutputTokens, 7);
  near(s.requestThroughput, 1);
  near(s.inputThroughput, 15);
  near(s.outputThroughput, 3.5);
  near(s.totalThroughput, 18.5);
  // concurrency = Σ latency / duration = (0.165 + 0.310) / 2
  near(s.concurrency, 0.2375);
});

test('SGLang latency statistics: mean, median, population std, linear percentiles', () => {
  const { summary: s } = computeMetrics(records, { api: 'generate', definition: 'sglang', durationSec: 2, percentiles: [90, 95, 99] });
  near(s.ttftMs.mean, 150);
  near(s.ttftMs.median, 150);
  near(s.ttftMs.std, 50);
  near(s.ttftMs.p['p99'], 199);
  // ITL pools every gap: [10, 10, 10, 30] from the first request, [100] from the second
  assert.equal(s.itlMs.count, 5);
  near(s.itlMs.mean, 32);
  near(s.itlMs.median, 10);
  near(s.itlMs.std, Math.sqrt(1216));
  near(s.itlMs.p['p90'], 72);
  near(s.itlMs.p['p95'], 86);
  near(s.itlMs.p['p99'], 97.2);
  near(s.itlMs.max, 100);
  // TPOT: (165 - 100) / 4 and (310 - 200) / 1
  near(s.tpotMs.mean, (16.25 + 110) / 2);
  near(s.e2eMs.mean, 237.5);
  near(s.e2eMs.p['p99'], 165 + 0.99 * 145);
});

test('peak output tokens and peak concurrency use one-second buckets from the first start', () => {
  const { summary: s, series } = computeMetrics(records, { api: 'generate', definition: 'sglang', durationSec: 2, percentiles: [99] });
  // tokens at 100, 110, 120, 130, 160 ms after the first start, then 1199.8 and 1299.8 ms
  assert.deepEqual(series.outputTokensPerSec, [5, 2, 0]);
  assert.equal(s.maxOutputTokensPerSec, 5);
  // the second request starts at 999.8 ms after the first start: it counts in buckets 0 and 1
  assert.deepEqual(series.concurrentRequestsPerSec, [2, 1, 0]);
  assert.equal(s.maxConcurrentRequests, 2);
});

test('goodput counts completed requests meeting every SLO', () => {
  const { summary: s } = computeMetrics(records, { api: 'generate', definition: 'sglang', durationSec: 2, percentiles: [99], slo: { ttftMs: 150 } });
  assert.equal(s.goodCompleted, 1);
  near(s.requestGoodput, 0.5);
  const both = computeMetrics(records, { api: 'generate', definition: 'sglang', durationSec: 2, percentiles: [99], slo: { ttftMs: 500, tpotMs: 20 } }).summary;
  assert.equal(both.goodCompleted, 1);
  assert.equal(computeMetrics(records, { api: 'generate', definition: 'sglang', durationSec: 2, percentiles: [99] }).summary.requestGoodput, null);
});

test('client queue time and dispatch lag are reported separately from latency', () => {
  const { summary: s } = computeMetrics(records, { api: 'generate', definition: 'sglang', durationSec: 2, percentiles: [99] });
  near(s.clientQueueMs.mean, 50); // 0 and 100 ms
  near(s.e2eIncludingQueueMs.mean, (165 + 410) / 2);
  assert.equal(s.dispatchLagMs.count, 3); // failures still left the client
  near(s.dispatchLagMs.max, 0.5);
  near(s.e2eMs.mean, 237.5); // queueing never leaks into E2E
});

test('all requests failed: E2E is null (numpy NaN), TTFT/ITL report 0 as bench_serving does', () => {
  const { summary: s } = computeMetrics([records[3]], { api: 'generate', definition: 'sglang', durationSec: 1, percentiles: [99] });
  assert.equal(s.completed, 0);
  assert.equal(s.e2eMs.mean, null);
  assert.equal(s.ttftMs.mean, 0);
  assert.equal(s.itlMs.p['p99'], 0);
  assert.equal(s.maxOutputTokensPerSec, 0);
});

test('vLLM counts server-reported prompt tokens as input', () => {
  const r = [rec({ promptLen: 10, promptTokens: 12, chunkMs: [10, 20], chunkChars: [1, 1], chunkTokens: [-1, -1], outputTokens: 2, lastLineMs: 25 })];
  assert.equal(computeMetrics(r, { api: 'completions', definition: 'vllm', durationSec: 1, percentiles: [99] }).summary.totalInputTokens, 12);
  assert.equal(computeMetrics(r, { api: 'completions', definition: 'sglang', durationSec: 1, percentiles: [99] }).summary.totalInputTokens, 10);
});

test("vLLM's peak concurrency is an exact sweep over [start, end) intervals", () => {
  const d = (startMs: number, latencyMs: number): DerivedRequest => ({ ok: true, ttftMs: 1, latencyMs, itlMs: [], outputLen: 1, promptLen: 1, tpotMs: null, startMs, queueMs: 0 });
  assert.equal(sweepLineMaxConcurrency([d(0, 100), d(50, 100), d(100, 100)]), 2);
  assert.equal(sweepLineMaxConcurrency([d(0, 100), d(100, 100)]), 1);
});
