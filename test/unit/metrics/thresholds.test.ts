/**
 * Every threshold that decides a badge, a gate or goodput, pinned just below, at and just above
 * its boundary. A test here fails when a threshold moves (1% -> 5%) or a comparison flips
 * (`>` -> `>=`), which the behaviour tests in validity.test.ts and summary.test.ts cannot see:
 * their inputs sit far from the edges.
 *
 * Boundaries (src/core/metrics/validity.ts, summary.ts):
 *   error rate      > 1%         -> error (otherwise warn; the CLI's `moebench bench` exits 1 on error)
 *   dispatch lag    p99 > 5 ms   -> warn, p99 > 50 ms -> error (paced runs only)
 *   event loop      p99 > 5 ms or worst stall > 25 ms -> warn;  busiest load thread > 90% busy -> warn;  client CPU > 90% (one thread) -> warn
 *   warm cache      share > 10%  -> warn (random datasets)
 *   prompt drift    |drift| > 10% -> warn
 *   goodput         a request is good when ttft <= slo, tpot <= slo, e2e <= slo (vLLM's `<=`)
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { computeMetrics, type MetricsOptions } from '../../../src/core/metrics/summary';
import { validityChecks, type ClientHealth, type ValidityInput } from '../../../src/core/metrics/validity';
import type { RequestRecord } from '../../../src/core/metrics/record';
import { rec } from './trace-helpers';

function checks(records: RequestRecord[], over: Partial<ValidityInput> = {}) {
  const m = computeMetrics(records, { api: 'completions', definition: 'sglang', durationSec: 10, percentiles: [99] });
  const all = validityChecks({ summary: m.summary, records, derived: m.derived, requestRate: Infinity, datasetName: 'random', cacheBust: false, ignoreEos: true, ...over });
  return new Map(all.map((c) => [c.id, c]));
}

/** a healthy request, dispatched `lagMs` after its (integer) scheduled time */
const good = (i: number, over: Partial<RequestRecord> = {}): RequestRecord =>
  rec({ seq: i, scheduledMs: i * 10, dispatchedMs: i * 10, startMs: i * 10, maxTokens: 4, outputTokens: 4, promptLen: 100, promptTokens: 100, cachedTokens: 0, chunkMs: [5, 6, 7, 8], chunkChars: [3, 3, 3, 3], chunkTokens: [-1, -1, -1, -1], lastLineMs: 9, text: `answer number ${i} is here`, ...over });

/** a request that failed (no content, an error) */
const failed = (i: number): RequestRecord => good(i, { ok: false, error: 'HTTP 500', chunkMs: [], chunkChars: [], chunkTokens: [], outputTokens: null, text: '' });

function runWith(total: number, failures: number): RequestRecord[] {
  return Array.from({ length: total }, (_, i) => (i < failures ? failed(i) : good(i)));
}

describe('error-rate badge: error above 1% of requests, warn at or below', () => {
  test('1 of 101 failed (0.99%): warn', () => {
    const c = checks(runWith(101, 1)).get('error-rate');
    assert.equal(c?.level, 'warn', c?.detail);
  });
  test('1 of 100 failed (exactly 1%): still warn', () => {
    const c = checks(runWith(100, 1)).get('error-rate');
    assert.equal(c?.level, 'warn', c?.detail);
    assert.equal(c?.value, 0.01);
  });
  test('2 of 199 failed (1.005%): error', () => {
    const c = checks(runWith(199, 2)).get('error-rate');
    assert.equal(c?.level, 'error', c?.detail);
  });
  test('2 of 100 failed (2%) and 5 of 100 (5%): error, so the badge cannot drift to 5%', () => {
    assert.equal(checks(runWith(100, 2)).get('error-rate')?.level, 'error');
    assert.equal(checks(runWith(100, 5)).get('error-rate')?.level, 'error');
  });
  test('no failures: ok', () => {
    assert.equal(checks(runWith(100, 0)).get('error-rate')?.level, 'ok');
  });
});

describe('dispatch lag: warn above 5 ms p99, error above 50 ms p99 (paced runs)', () => {
  const lagged = (lagMs: number) => Array.from({ length: 20 }, (_, i) => good(i, { dispatchedMs: i * 10 + lagMs, startMs: i * 10 + lagMs }));
  const level = (lagMs: number, over: Partial<ValidityInput> = { requestRate: 100 }) => checks(lagged(lagMs), over).get('client-saturated')?.level;
  test('4.99 ms and exactly 5 ms: ok', () => {
    assert.equal(level(4.99), 'ok');
    assert.equal(level(5), 'ok');
  });
  test('5.01 ms: warn', () => assert.equal(level(5.01), 'warn'));
  test('exactly 50 ms: warn, not error', () => assert.equal(level(50), 'warn'));
  test('50.01 ms: error', () => assert.equal(level(50.01), 'error'));
  test('51 ms and 499 ms: error, so the error cannot drift to 500 ms', () => {
    assert.equal(level(51), 'error');
    assert.equal(level(499), 'error');
  });
  test('an unpaced run (all due at once) never judges dispatch lag', () => {
    assert.equal(level(499, { requestRate: Infinity }), 'ok');
  });
  test('trace replay is paced: lag counts', () => {
    assert.equal(level(51, { requestRate: Infinity, traceReplay: true }), 'error');
  });
});

describe('client health: warn above 5 ms event-loop delay p99, a 25 ms stall, 90% busy or 90% CPU', () => {
  const level = (client: ClientHealth) => checks([good(0)], { client }).get('client-saturated')?.level;
  test('event-loop p99 exactly 5 ms: ok; 5.01 ms: warn', () => {
    assert.equal(level({ eventLoopDelayP99Ms: 5, eventLoopDelayMaxMs: 20, cpuPct: 10 }), 'ok');
    assert.equal(level({ eventLoopDelayP99Ms: 5.01, eventLoopDelayMaxMs: 20, cpuPct: 10 }), 'warn');
  });
  test('worst stall exactly 25 ms: ok; 25.1 ms: warn (a burst that delays the p99 stamps while the loop p99 looks calm)', () => {
    assert.equal(level({ eventLoopDelayP99Ms: 1, eventLoopDelayMaxMs: 25, cpuPct: 10 }), 'ok');
    assert.equal(level({ eventLoopDelayP99Ms: 1, eventLoopDelayMaxMs: 25.1, cpuPct: 10 }), 'warn');
  });
  test('busiest load thread exactly 90%: ok; 90.5%: warn', () => {
    assert.equal(level({ eventLoopDelayP99Ms: 1, eventLoopDelayMaxMs: 2, cpuPct: 150, workers: 2, loopUtilization: 0.9 }), 'ok');
    assert.equal(level({ eventLoopDelayP99Ms: 1, eventLoopDelayMaxMs: 2, cpuPct: 150, workers: 2, loopUtilization: 0.905 }), 'warn');
  });
  test('client CPU exactly 90%: ok; 90.1%: warn', () => {
    assert.equal(level({ eventLoopDelayP99Ms: 1, eventLoopDelayMaxMs: 2, cpuPct: 90 }), 'ok');
    assert.equal(level({ eventLoopDelayP99Ms: 1, eventLoopDelayMaxMs: 2, cpuPct: 90.1 }), 'warn');
  });
});

describe('warm prefix cache on a random dataset: warn above 10% of prompt tokens', () => {
  const level = (cachedTokens: number) => checks(Array.from({ length: 10 }, (_, i) => good(i, { cachedTokens }))).get('warm-cache')?.level;
  test('9% and exactly 10%: ok', () => {
    assert.equal(level(9), 'ok');
    assert.equal(level(10), 'ok');
  });
  test('11%: warn', () => assert.equal(level(11), 'warn'));
});

describe('server prompt-token drift: warn above 10%', () => {
  const level = (promptTokens: number) => checks(Array.from({ length: 10 }, (_, i) => good(i, { promptTokens }))).get('token-counts')?.level;
  test('+9% and exactly +10% (and -10%): ok', () => {
    assert.equal(level(109), 'ok');
    assert.equal(level(110), 'ok');
    assert.equal(level(90), 'ok');
  });
  test('+11% and -11%: warn', () => {
    assert.equal(level(111), 'warn');
    assert.equal(level(89), 'warn');
  });
});

describe('goodput: a request meeting an SLO exactly is good (<=), one a hair over is not', () => {
  const base: MetricsOptions = { api: 'completions', definition: 'vllm', durationSec: 10, percentiles: [99] };
  // five requests with distinct TTFT / TPOT / E2E
  const records = Array.from({ length: 5 }, (_, i) => good(i, { chunkMs: [10 + i, 20 + 2 * i, 30 + 3 * i, 40 + 4 * i], lastLineMs: 41 + 4 * i }));
  const derived = computeMetrics(records, base).derived;
  const ttft = derived.map((d) => d.ttftMs);
  const tpot = derived.map((d) => d.tpotMs ?? 0);
  const e2e = derived.map((d) => d.latencyMs);
  const good3 = (slo: MetricsOptions['slo']) => computeMetrics(records, { ...base, slo }).summary.goodCompleted;

  test('the fixture gives five distinct values per metric', () => {
    for (const xs of [ttft, tpot, e2e]) assert.equal(new Set(xs).size, 5, String(xs));
  });
  test('TTFT: an SLO equal to the third TTFT counts three requests; just under it, two', () => {
    const sorted = [...ttft].sort((a, b) => a - b);
    assert.equal(good3({ ttftMs: sorted[2] }), 3);
    assert.equal(good3({ ttftMs: sorted[2] - 1e-6 }), 2);
    assert.equal(good3({ ttftMs: sorted[2] + 1e-6 }), 3);
  });
  test('TPOT: equal counts, just under does not', () => {
    const sorted = [...tpot].sort((a, b) => a - b);
    assert.equal(good3({ tpotMs: sorted[2] }), 3);
    assert.equal(good3({ tpotMs: sorted[2] - 1e-6 }), 2);
  });
  test('E2E: equal counts, just under does not', () => {
    const sorted = [...e2e].sort((a, b) => a - b);
    assert.equal(good3({ e2eMs: sorted[2] }), 3);
    assert.equal(good3({ e2eMs: sorted[2] - 1e-6 }), 2);
  });
  test('failed requests are never good, whatever the SLO', () => {
    const withFailures = [...records, failed(5), failed(6)];
    assert.equal(computeMetrics(withFailures, { ...base, slo: { ttftMs: 1e9 } }).summary.goodCompleted, 5);
  });
});
