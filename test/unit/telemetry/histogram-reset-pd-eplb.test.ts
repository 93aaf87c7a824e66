/**
 * The counter-reset rule (a server restarted between two scrapes: a count lower than before) for
 * the two windows histogram-reset.test.ts does not reach: the PD KV-transfer histograms (Δsum/Δcount
 * per window) and the EPLB balancedness summary (src/core/telemetry/server/normalize.ts,
 * compareStates). A restart must give the new process's own mean, never nothing or a negative one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareStates, parseServerMetrics, reduceScrape } from '../../../src/core/telemetry/server/normalize';

function window(t0: string, t1: string) {
  return compareStates(reduceScrape(parseServerMetrics(t0), 1_000_000), reduceScrape(parseServerMetrics(t1), 1_005_000), 'http://node1:30000');
}

const kv = (count: number, sum: number): string =>
  '# TYPE sglang:kv_transfer_latency_ms histogram\n' +
  `sglang:kv_transfer_latency_ms_bucket{engine_type="prefill",le="10.0"} ${count}\n` +
  `sglang:kv_transfer_latency_ms_bucket{engine_type="prefill",le="+Inf"} ${count}\n` +
  `sglang:kv_transfer_latency_ms_count{engine_type="prefill"} ${count}\n` +
  `sglang:kv_transfer_latency_ms_sum{engine_type="prefill"} ${sum}\n`;

const eplb = (count: number, sum: number): string =>
  '# TYPE sglang:eplb_balancedness summary\n' + `sglang:eplb_balancedness_sum{moe_ep_rank="0"} ${sum}\n` + `sglang:eplb_balancedness_count{moe_ep_rank="0"} ${count}\n`;

test('KV-transfer latency: growth is differenced; after a restart the window is the new process alone', () => {
  // 100 transfers of 10 ms, then 20 more of 40 ms each
  assert.equal(window(kv(100, 1000), kv(120, 1800)).pd?.kvTransferLatencyMs, 40);
  // restarted: 4 transfers of 20 ms since
  assert.equal(window(kv(100, 1000), kv(4, 80)).pd?.kvTransferLatencyMs, 20);
});

test('EPLB balancedness: growth is differenced; after a restart the window is the new process alone', () => {
  assert.equal(window(eplb(10, 9), eplb(20, 17)).eplbBalancedness, 0.8);
  // restarted: 2 observations of 0.5 since
  assert.equal(window(eplb(10, 9), eplb(2, 1)).eplbBalancedness, 0.5);
});
