import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { aggregateBy, rankLabelValues } from '../../../src/core/telemetry/server/aggregate';
import { histogramQuantile } from '../../../src/core/telemetry/server/histogram';
import { compareStates, parseServerMetrics, reduceScrape } from '../../../src/core/telemetry/server/normalize';
import { familyType, labelsOf, parsePrometheusText } from '../../../src/core/telemetry/server/prometheus';
import { fixture } from './helpers';

const close = (actual: number | null | undefined, expected: number, eps = 1e-9) =>
  assert.ok(actual !== null && actual !== undefined && Math.abs(actual - expected) < eps, `${actual} ≉ ${expected}`);

function window(file0: string, file1: string, dtSec = 5) {
  const a = reduceScrape(parseServerMetrics(fixture(file0)), 1_000_000);
  const b = reduceScrape(parseServerMetrics(fixture(file1)), 1_000_000 + dtSec * 1000);
  return compareStates(a, b, 'ep');
}

test('Prometheus text: types, HELP, escaped label values, +Inf, timestamps, exemplars, bad lines counted not thrown', () => {
  const text = [
    '# HELP x_seconds A "help" with \\\\ and \\n newline',
    '# TYPE x_seconds histogram',
    'x_seconds_bucket{le="0.5",model="a\\"b\\\\c\\nd"} 3',
    'x_seconds_bucket{le="+Inf",model="a\\"b\\\\c\\nd"} 4 1700000000000',
    'x_seconds_count{model="a\\"b\\\\c\\nd"} 4 # {trace_id="abc"} 0.3',
    'up 1',
    'weird{a="1"} not-a-number',
    'nan_metric NaN',
    '# EOF',
  ].join('\r\n');
  const s = parsePrometheusText(text);
  assert.equal(s.types.get('x_seconds'), 'histogram');
  assert.equal(s.help.get('x_seconds'), 'A "help" with \\ and \n newline');
  assert.equal(familyType(s, 'x_seconds_bucket'), 'histogram');
  const buckets = s.byName.get('x_seconds_bucket') ?? [];
  assert.equal(buckets.length, 2);
  assert.deepEqual(labelsOf(buckets[0]), { le: '0.5', model: 'a"b\\c\nd' });
  assert.equal(labelsOf(buckets[1]).le, '+Inf');
  assert.equal(buckets[1].timestampMs, 1700000000000);
  assert.equal(s.byName.get('x_seconds_count')?.[0].value, 4);
  assert.equal(s.byName.get('up')?.[0].value, 1);
  assert.ok(Number.isNaN(s.byName.get('nan_metric')?.[0].value));
  assert.equal(s.badLines, 1);
});

test('label values with "}" and "," inside quotes stay in the value', () => {
  const s = parsePrometheusText('m{path="/a,b}",x="y"} 2\n');
  assert.deepEqual(labelsOf(s.byName.get('m')?.[0] ?? { name: '', labelsRaw: '', value: 0 }), { path: '/a,b}', x: 'y' });
});

test('histogram_quantile follows Prometheus: interpolation, first bucket from 0, +Inf bucket returns the highest finite bound', () => {
  const le = [0.1, 0.2, 0.4, Infinity];
  close(histogramQuantile(0.5, { le, cum: [0, 5, 9, 10] }), 0.2);
  close(histogramQuantile(0.25, { le, cum: [0, 5, 9, 10] }), 0.15);
  close(histogramQuantile(0.5, { le, cum: [4, 4, 4, 4] }), 0.05);
  assert.equal(histogramQuantile(0.99, { le, cum: [0, 5, 9, 10] }), 0.4, 'rank in +Inf bucket');
  assert.equal(histogramQuantile(0.5, { le, cum: [0, 0, 0, 0] }), null);
  assert.equal(histogramQuantile(0.5, { le: [0.1, 0.2], cum: [1, 2] }), null, 'no +Inf bucket');
  // a scrape racing an observation can be non-monotonic; Prometheus forces it monotonic
  close(histogramQuantile(0.5, { le, cum: [0, 6, 5, 10] }), 0.1 + 0.1 * (5 / 6));
});

test('SGLang with 2 DP ranks: running/queued summed over ranks, KV usage is the fullest rank, rates from counters', () => {
  const s = window('telemetry/prometheus/sglang-dp2-t0.txt', 'telemetry/prometheus/sglang-dp2-t1.txt');
  assert.equal(s.backend, 'sglang');
  assert.equal(s.windowSec, 5);
  assert.equal(s.rankSeries, 2);
  assert.equal(s.runningReqs, 22);
  assert.equal(s.queuedReqs, 8);
  assert.equal(s.tokenUsage, 0.63);
  assert.equal(s.usedTokens, 520000);
  assert.equal(s.maxTotalTokens, 1_000_000);
  assert.equal(s.genThroughputTokPerSec, 2300);
  close(s.cacheHitRate, 0.3);
  assert.equal(s.promptTokensPerSec, 1000);
  assert.equal(s.genTokensPerSec, 500);
  assert.equal(s.requestsPerSec, 2);
  assert.deepEqual(s.pd, { prefillPreallocQueueReqs: 0 });
});

test('SGLang TTFT/ITL/E2E percentiles come from the bucket deltas of the window only', () => {
  const s = window('telemetry/prometheus/sglang-dp2-t0.txt', 'telemetry/prometheus/sglang-dp2-t1.txt');
  // window: TTFT 5×0.15 s, 4×0.3 s, 1×0.5 s (the 6 earlier 0.05 s requests are outside it)
  assert.equal(s.ttftMs?.count, 10);
  close(s.ttftMs?.p50, 200, 1e-6);
  close(s.ttftMs?.p90, 400, 1e-6);
  close(s.ttftMs?.p99, 580, 1e-6);
  close(s.ttftMs?.mean, 245, 1e-6);
  // ITL counts tokens: 800 at 12 ms, 150 at 18 ms, 50 at 50 ms
  assert.equal(s.itlMs?.count, 1000);
  close(s.itlMs?.p50, 13.125, 1e-6);
  close(s.itlMs?.p90, 15 + 5 * (100 / 150), 1e-6);
  close(s.itlMs?.p99, 56, 1e-6);
  close(s.itlMs?.mean, 14.8, 1e-6);
  assert.equal(s.e2eMs?.count, 10);
  // exported balancedness: 0.9, 0.7, 0.95 in the window
  close(s.eplbBalancedness, 0.85, 1e-9);
});

test('first scrape has gauges but no rates or percentiles', () => {
  const a = reduceScrape(parseServerMetrics(fixture('telemetry/prometheus/sglang-dp2-t0.txt')), 1);
  const s = compareStates(undefined, a, 'ep');
  assert.equal(s.runningReqs, 5);
  assert.equal(s.windowSec, 0);
  assert.equal(s.genTokensPerSec, undefined);
  assert.equal(s.ttftMs, undefined);
});

test('vLLM with 2 engines: running/waiting, kv_cache_usage_perc, hit rate from prefix-cache counters, TTFT p50', () => {
  const s = window('telemetry/prometheus/vllm-dp2-t0.txt', 'telemetry/prometheus/vllm-dp2-t1.txt');
  assert.equal(s.backend, 'vllm');
  assert.equal(s.runningReqs, 9);
  assert.equal(s.queuedReqs, 1);
  assert.equal(s.tokenUsage, 0.5);
  close(s.cacheHitRate, 0.25);
  assert.equal(s.genTokensPerSec, 500);
  assert.equal(s.requestsPerSec, 2, 'request_success summed over finished_reason and engines');
  assert.equal(s.ttftMs?.count, 8);
  close(s.ttftMs?.p50, 60 + 20 * (4 / 6), 1e-6);
});

test('older SGLang spelling: `name` label and time_per_output_token_seconds feed ITL', () => {
  const s = window('telemetry/prometheus/sglang-old-t0.txt', 'telemetry/prometheus/sglang-old-t1.txt');
  assert.equal(s.runningReqs, 7);
  assert.equal(s.genTokensPerSec, 80);
  assert.equal(s.itlMs?.count, 40);
  close(s.itlMs?.p50, 20, 1e-6);
});

test('old vLLM names (gpu_cache_usage_perc, gpu_prefix_cache_*) and underscore-prefixed names are accepted', () => {
  const t0 = 'vllm:gpu_cache_usage_perc{engine="0"} 0.7\nvllm:gpu_prefix_cache_queries_total 100\nvllm:gpu_prefix_cache_hits_total 10\nvllm_num_requests_running 3\n';
  const t1 = 'vllm:gpu_cache_usage_perc{engine="0"} 0.8\nvllm:gpu_prefix_cache_queries_total 300\nvllm:gpu_prefix_cache_hits_total 110\nvllm_num_requests_running 4\n';
  const s = compareStates(reduceScrape(parseServerMetrics(t0), 0), reduceScrape(parseServerMetrics(t1), 1000), 'ep');
  assert.equal(s.tokenUsage, 0.8);
  assert.equal(s.cacheHitRate, 0.5);
  assert.equal(s.runningReqs, 4);
});

test('a rank that restarted (counter went down) counts from zero instead of giving a negative rate', () => {
  const t0 = 'sglang:generation_tokens_total{dp_rank="0"} 1000\nsglang:generation_tokens_total{dp_rank="1"} 5000\n';
  const t1 = 'sglang:generation_tokens_total{dp_rank="0"} 1300\nsglang:generation_tokens_total{dp_rank="1"} 200\n';
  const s = compareStates(reduceScrape(parseServerMetrics(t0), 0), reduceScrape(parseServerMetrics(t1), 2000), 'ep');
  assert.equal(s.genTokensPerSec, (300 + 200) / 2);
});

test('aggregateBy gives per-rank views; rankLabelValues tells which ranks report', () => {
  const scrape = parsePrometheusText(fixture('telemetry/prometheus/sglang-dp2-t1.txt'));
  const running = scrape.byName.get('sglang:num_running_reqs') ?? [];
  assert.deepEqual([...aggregateBy(running, ['dp_rank'])], [['dp_rank=0', 12], ['dp_rank=1', 10]]);
  assert.deepEqual([...aggregateBy(running, [], 'max')], [['', 12]]);
  assert.deepEqual(rankLabelValues(running), { tp_rank: ['0'], dp_rank: ['0', '1'], pp_rank: ['0'], moe_ep_rank: ['0', '4'] });
});
