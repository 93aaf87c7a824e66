/**
 * A real SGLang /metrics page (test/fixtures/telemetry/captures/README.md says where it comes
 * from) through the parser and normalizer a live scrape uses. The expected numbers are worked out
 * here from the page's own values with Prometheus' histogram_quantile rule, not from our code.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { histogramQuantile } from '../../../src/core/telemetry/server/histogram';
import { compareStates, parseServerMetrics, reduceScrape } from '../../../src/core/telemetry/server/normalize';
import { parsePrometheusText } from '../../../src/core/telemetry/server/prometheus';

const CAPTURE = readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'telemetry', 'captures', 'sglang-docs-llama31-8b.metrics.txt'), 'utf8');
const close = (actual: number | null | undefined, expected: number, eps = 1e-6) => assert.ok(actual !== null && actual !== undefined && Math.abs(actual - expected) < eps, `${actual} != ${expected}`);

describe('real SGLang /metrics page (Llama-3.1-8B, overloaded)', () => {
  test('every line parses: types and samples as served', () => {
    const s = parsePrometheusText(CAPTURE);
    assert.equal(s.badLines, 0);
    assert.equal(s.types.get('sglang:time_to_first_token_seconds'), 'histogram');
    assert.equal(s.types.get('sglang:prompt_tokens_total'), 'counter');
    assert.equal(s.byName.get('sglang:time_to_first_token_seconds_bucket')?.length, 21);
    assert.equal(s.byName.get('sglang:prompt_tokens_total')?.[0].value, 8128902);
  });

  test('gauges: running, queued, KV usage, used tokens, throughput, cache hit rate', () => {
    const g = reduceScrape(parseServerMetrics(CAPTURE), 0).gauges;
    assert.equal(g.runningReqs, 162);
    assert.equal(g.queuedReqs, 2826);
    assert.equal(g.tokenUsage, 0.28);
    assert.equal(g.usedTokens, 123859);
    close(g.genThroughputTokPerSec, 86.50814177726902);
    close(g.cacheHitRate, 0.007507552643049313);
  });

  test('TTFT percentiles by histogram_quantile: p10 interpolated in (7.5, 10]; p50 past the last finite bucket is 30 s', () => {
    const ttft = [...(reduceScrape(parseServerMetrics(CAPTURE), 0).histograms.ttft?.values() ?? [])];
    assert.equal(ttft.length, 1);
    const b = ttft[0].buckets;
    // rank 0.1 x 11008 = 1100.8 lies between cum 941 (le 7.5) and 1330 (le 10)
    close(histogramQuantile(0.1, b), 7.5 + 2.5 * ((1100.8 - 941) / (1330 - 941)));
    // 8495 of 11008 requests waited longer than the largest finite bound: Prometheus answers that bound
    assert.equal(histogramQuantile(0.5, b), 30);
    assert.equal(histogramQuantile(0.99, b), 30);
  });

  test('a window from a server first seen with this page: counts, means and the old ITL name', () => {
    const first = reduceScrape(parseServerMetrics(''), 1_000_000);
    const s = compareStates(first, reduceScrape(parseServerMetrics(CAPTURE), 1_010_000), 'http://localhost:30000');
    assert.equal(s.ttftMs?.count, 11008);
    close(s.ttftMs?.mean, (2.3518979474117756e6 / 11008) * 1000, 1e-3);
    assert.equal(s.ttftMs?.p50, 30_000);
    // time_per_output_token_seconds is SGLang's name for ITL before the rename
    assert.equal(s.itlMs?.count, 7400757);
    close(s.itlMs?.mean, (866964.5791549598 / 7400757) * 1000, 1e-6);
    // rank 0.5 x 7400757 = 3700378.5 lies between cum 433413 (le 0.075) and 4950195 (le 0.1)
    close(s.itlMs?.p50, (0.075 + 0.025 * ((3700378.5 - 433413) / (4950195 - 433413))) * 1000, 1e-6);
    assert.equal(s.e2eMs?.count, 11228);
    assert.equal(s.e2eMs?.p50, 60_000);
    // counters that did not exist in the first scrape count from zero over the 10 s window
    close(s.genTokensPerSec, 7557572 / 10);
    close(s.promptTokensPerSec, 8128902 / 10);
  });
});
