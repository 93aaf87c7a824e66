/**
 * A real vLLM /metrics page (V1 engine, 6 chat requests served; test/fixtures/captures/README.md
 * says where it comes from and why we trust it) served over HTTP on a loopback port and read
 * through the same collector, parser and normalizer as a live scrape. Every expected number is
 * worked out here from the page's own lines with Prometheus' histogram_quantile rule, not taken
 * from our code's output.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ServerMetricsCollector } from '../../../src/core/telemetry/server/collector';
import { compareStates, parseServerMetrics, reduceScrape } from '../../../src/core/telemetry/server/normalize';
import { parsePrometheusText } from '../../../src/core/telemetry/server/prometheus';

const FILE = path.join(__dirname, '..', '..', 'fixtures', 'captures', 'vllm-v1-qwen3-4b-fp8.metrics.txt');
const BYTES = readFileSync(FILE);
const PAGE = BYTES.toString('utf8');
const MODEL = 'Qwen/Qwen3-4B-Instruct-2507-FP8';
const close = (actual: number | null | undefined, expected: number, eps = 1e-9) =>
  assert.ok(actual !== null && actual !== undefined && Math.abs(actual - expected) < eps, `${actual} != ${expected}`);

let server: Server;
let url: string;
before(async () => {
  server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    // prometheus_client's content type, as vLLM serves it
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(BYTES);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('real vLLM /metrics page (V1 engine, Qwen3-4B FP8, 6 requests)', () => {
  test('the fixture is the recorded page byte for byte (sha256 in the README), last line without a newline as committed', () => {
    assert.equal(createHash('sha256').update(BYTES).digest('hex'), 'ce210bc53c910ee8a36038e8e2a9ada5f15ebd4f4bf57c81eb3262bde6fa980b');
    assert.equal(BYTES.length, 46656);
    assert.notEqual(BYTES[BYTES.length - 1], 0x0a);
  });

  test('every line parses; the vLLM families are typed as the server declared them, _created gauges included', () => {
    const s = parsePrometheusText(PAGE);
    assert.equal(s.badLines, 0);
    const vllm = [...s.types.keys()].filter((k) => k.startsWith('vllm:'));
    // 26 families plus 21 `_created` companions (the page declares each as its own gauge)
    assert.equal(vllm.length, 47);
    assert.equal(vllm.filter((k) => k.endsWith('_created')).length, 21);
    assert.equal(s.types.get('vllm:time_to_first_token_seconds'), 'histogram');
    assert.equal(s.types.get('vllm:time_per_output_token_seconds'), 'histogram');
    assert.equal(s.types.get('vllm:request_success_total'), 'counter');
    assert.equal(s.types.get('vllm:kv_cache_usage_perc'), 'gauge');
    // the last line (no trailing newline) is a sample too
    const created = s.byName.get('http_request_duration_seconds_created') ?? [];
    assert.equal(created.length, 2);
    assert.equal(created[1].value, 1.7710425720693095e9);
    // the API server's own count of chat requests agrees with the engine's
    const http = (s.byName.get('http_requests_total') ?? []).find((x) => x.labelsRaw.includes('/v1/chat/completions'));
    assert.equal(http?.value, 6);
  });

  test('scraped over HTTP by the collector: a vLLM server, idle, KV usage from the V1 name', async () => {
    const collector = new ServerMetricsCollector({ endpoints: [], intervalMs: 1000, onSample: () => undefined, now: () => 60_000 });
    try {
      const state = await collector.scrapeOnce({ name: 'vllm-0', url });
      assert.equal(state.backend, 'vllm');
      assert.equal(state.rankSeries, 1, 'one engine="0" series');
      assert.equal(state.gauges.runningReqs, 0);
      assert.equal(state.gauges.queuedReqs, 0);
      // kv_cache_usage_perc (0..1, despite the name) wins over the deprecated gpu_cache_usage_perc
      assert.equal(state.gauges.tokenUsage, 0.0011764705882353343);
      // request_success_total: stop 6, length 0, abort 0
      assert.equal([...(state.counters.requests?.values() ?? [])].reduce((a, b) => a + b, 0), 6);
    } finally {
      await collector.dispose();
    }
  });

  test('a window from a server first seen with this page: TTFT, ITL and E2E as a user reads them', () => {
    const s = compareStates(reduceScrape(parseServerMetrics(''), 0), reduceScrape(parseServerMetrics(PAGE), 10_000), 'vllm-0');
    assert.equal(s.windowSec, 10);
    close(s.requestsPerSec, 6 / 10);
    close(s.promptTokensPerSec, 246 / 10);
    close(s.genTokensPerSec, 1739 / 10);
    // prefix cache: 80 of 246 queried tokens hit
    close(s.cacheHitRate, 80 / 246);

    // TTFT: 6 requests, sum 0.24629998207092285 s; buckets le 0.02 -> 0, 0.04 -> 4, 0.06 -> 6
    assert.equal(s.ttftMs?.count, 6);
    close(s.ttftMs?.mean, (0.24629998207092285 / 6) * 1000, 1e-9);
    close(s.ttftMs?.p50, (0.02 + 0.02 * (3 / 4)) * 1000, 1e-9); // rank 3 of 6
    close(s.ttftMs?.p90, (0.04 + 0.02 * ((5.4 - 4) / 2)) * 1000, 1e-9);
    close(s.ttftMs?.p99, (0.04 + 0.02 * ((5.94 - 4) / 2)) * 1000, 1e-9);
    const { p50 = null, p90 = null, p99 = null } = s.ttftMs ?? {};
    assert.ok(p50 !== null && p90 !== null && p99 !== null && p50 <= p90 && p90 <= p99, 'TTFT percentiles in order');

    // ITL: this vLLM has only time_per_output_token_seconds (inter_token_latency_seconds came later)
    assert.equal(s.itlMs?.count, 1733);
    close(s.itlMs?.mean, (41.111971570000605 / 1733) * 1000, 1e-9);
    // rank 866.5 lies between cum 0 (le 0.01) and 1731 (le 0.025)
    close(s.itlMs?.p50, (0.01 + 0.015 * (866.5 / 1731)) * 1000, 1e-9);

    // E2E: 6 requests, 41.35763955116272 s in all; rank 3 lies between cum 2 (le 5) and 4 (le 10)
    assert.equal(s.e2eMs?.count, 6);
    close(s.e2eMs?.mean, (41.35763955116272 / 6) * 1000, 1e-9);
    close(s.e2eMs?.p50, 7500, 1e-9);
    // the page is self-consistent: every generated token is a first token or follows a gap
    assert.equal((s.itlMs?.count ?? 0) + (s.ttftMs?.count ?? 0), (s.genTokensPerSec ?? 0) * s.windowSec);
  });
});
