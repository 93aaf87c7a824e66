import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeMetrics } from '../../../src/core/metrics/summary';
import { validityChecks, type ValidityInput } from '../../../src/core/metrics/validity';
import { gsm8kPrediction, isCorrectAnswer, ngramRepetition } from '../../../src/core/metrics/text-checks';
import type { RequestRecord } from '../../../src/core/metrics/record';
import { rec } from './trace-helpers';

function checks(records: RequestRecord[], over: Partial<ValidityInput> = {}) {
  const m = computeMetrics(records, { api: 'completions', definition: 'sglang', durationSec: 10, percentiles: [99] });
  const measured = records.filter((r) => !r.warmup);
  const all = validityChecks({ summary: m.summary, records: measured, derived: m.derived, requestRate: Infinity, datasetName: 'random', cacheBust: false, ignoreEos: true, ...over });
  return new Map(all.map((c) => [c.id, c]));
}

const good = (i: number, over: Partial<RequestRecord> = {}): RequestRecord =>
  rec({ seq: i, scheduledMs: i * 10, dispatchedMs: i * 10 + 0.1, startMs: i * 10 + 0.1, maxTokens: 4, outputTokens: 4, promptLen: 100, promptTokens: 101, cachedTokens: 0, chunkMs: [5, 6, 7, 8], chunkChars: [3, 3, 3, 3], chunkTokens: [-1, -1, -1, -1], lastLineMs: 9, text: `answer number ${i} is here`, ...over });

test('a clean run gets ok badges', () => {
  const c = checks(Array.from({ length: 20 }, (_, i) => good(i)), { requestRate: 100 });
  for (const id of ['client-saturated', 'rate', 'warm-cache', 'token-counts', 'error-rate', 'outputs'] as const) {
    assert.equal(c.get(id)?.level, 'ok', `${id}: ${c.get(id)?.detail}`);
  }
});

test('late dispatches flag a saturated client', () => {
  const late = Array.from({ length: 20 }, (_, i) => good(i, { dispatchedMs: i * 10 + 20, startMs: i * 10 + 20 }));
  const c = checks(late, { requestRate: 100 });
  assert.equal(c.get('client-saturated')?.level, 'warn');
  assert.match(c.get('client-saturated')?.detail ?? '', /dispatch lag p99 20\.00 ms/);
});

test('a busy event loop flags a saturated client even with no pacing', () => {
  const c = checks([good(0)], { client: { eventLoopDelayP99Ms: 25, eventLoopDelayMaxMs: 40, cpuPct: 99 } });
  assert.equal(c.get('client-saturated')?.level, 'warn');
  assert.match(c.get('client-saturated')?.detail ?? '', /event-loop delay/);
});

test('requests held back by the concurrency cap show as an under-delivered rate', () => {
  // planned every 10 ms, but a cap let one start every 40 ms
  const capped = Array.from({ length: 20 }, (_, i) => good(i, { startMs: i * 40 }));
  const c = checks(capped, { requestRate: 100, maxConcurrency: 4 });
  assert.equal(c.get('rate')?.level, 'warn');
  assert.match(c.get('rate')?.detail ?? '', /max-concurrency cap \(4\)/);
});

test('cached prompt tokens on a random dataset mean a warm prefix cache', () => {
  const warm = Array.from({ length: 10 }, (_, i) => good(i, { cachedTokens: 80 }));
  assert.equal(checks(warm).get('warm-cache')?.level, 'warn');
  assert.equal(checks(warm, { datasetName: 'generated-shared-prefix' }).get('warm-cache')?.level, 'info');
});

test('short outputs despite ignore_eos, missing usage and prompt drift disagree with the server', () => {
  const c = checks([good(0, { outputTokens: 2 }), good(1, { outputTokens: null }), good(2, { promptTokens: 150 })]);
  const t = c.get('token-counts');
  assert.equal(t?.level, 'warn');
  assert.match(t?.detail ?? '', /1 of 3 responses carried no token usage/);
  assert.match(t?.detail ?? '', /1 of 3 outputs were not the requested length \(1 shorter\)/);
});

test('errors above 1% are an error badge naming the first errors', () => {
  const runs = [...Array.from({ length: 9 }, (_, i) => good(i)), good(9, { ok: false, error: 'HTTP 503 Service Unavailable' })];
  const e = checks(runs).get('error-rate');
  assert.equal(e?.level, 'error');
  assert.match(e?.detail ?? '', /HTTP 503/);
});

test('empty and looping outputs are reported', () => {
  const loop = 'the cat sat on the mat '.repeat(20);
  const c = checks([good(0, { text: '' }), good(1, { text: loop }), good(2)]);
  assert.equal(c.get('outputs')?.level, 'warn');
  assert.match(c.get('outputs')?.detail ?? '', /1 of 3 outputs were empty; 1 of 3 outputs repeat themselves/);
});

test('GSM8K accuracy grades the last number of the first answer', () => {
  const rows = [
    good(0, { answer: 'Janet sells 16 - 3 - 4 = 9 eggs... 9 * 2 = 18.\n#### 18', answerKind: 'gsm8k', text: ' She makes 9 * 2 = $18 every day.\nQuestion: another one with 7' }),
    good(1, { answer: '#### 3', answerKind: 'gsm8k', text: 'It takes 2 bolts.' }),
  ];
  const a = checks(rows).get('accuracy');
  assert.equal(a?.text, 'GSM8K accuracy 50.0%');
});

test('text helpers: repetition, numbers, MMLU letters', () => {
  assert.equal(ngramRepetition('one two three'), 0);
  assert.ok(ngramRepetition('a b c d '.repeat(30)) > 0.9);
  assert.equal(gsm8kPrediction('total is 1,234.'), '1234');
  assert.equal(isCorrectAnswer('mmlu', 'B', ' B. 4'), true);
  assert.equal(isCorrectAnswer('mmlu', 'B', 'The answer is C'), false);
});
