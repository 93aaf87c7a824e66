import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { KV_TRANSFER_FAMILIES, SGLANG_METRIC_SETS, familySpec, metricLayoutForVersion, PER_STAGE_BUCKETS_SEC } from '../../../src/core/telemetry/server/sglang-metric-sets';
import { SglangMetrics } from '../../../src/core/sim/sglang-metrics';
import { defaultShape } from '../../../src/core/sim/shape';
import { parsePrometheusText } from '../../../src/core/telemetry/server/prometheus';
import { familyWindow } from '../../../src/core/telemetry/server/family-window';

test('releases map to the metrics layout: gauges before 0.5.10, histograms from 0.5.10 and on latest', () => {
  assert.equal(metricLayoutForVersion('0.4.10.post2'), 'legacy');
  assert.equal(metricLayoutForVersion('v0.5.9'), 'legacy');
  assert.equal(metricLayoutForVersion('0.5.10'), 'current');
  assert.equal(metricLayoutForVersion('0.5.15'), 'current');
  assert.equal(metricLayoutForVersion('latest'), 'current');
  assert.equal(metricLayoutForVersion(undefined), 'current');
});

test('the five KV-transfer families keep their names across layouts and change type (PR #19009)', () => {
  for (const name of KV_TRANSFER_FAMILIES) {
    assert.equal(familySpec('legacy', name)?.type, 'gauge', name);
    assert.equal(familySpec('current', name)?.type, 'histogram', name);
  }
  assert.deepEqual(familySpec('current', 'sglang:kv_transfer_latency_ms')?.buckets, [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000]);
  assert.deepEqual(familySpec('current', 'sglang:kv_transfer_speed_gb_s')?.buckets, [0.1, 0.5, 1, 5, 10, 25, 50, 100, 200, 400]);
  assert.equal(familySpec('legacy', 'sglang:kv_transfer_timeouts'), undefined);
  assert.deepEqual(familySpec('current', 'sglang:kv_transfer_timeouts')?.extraLabels, ['stage']);
  assert.equal(PER_STAGE_BUCKETS_SEC.length, 30);
  assert.equal(PER_STAGE_BUCKETS_SEC[0], 0.001);
});

for (const layout of ['legacy', 'current'] as const) {
  test(`the emulator's ${layout} scrape declares every family of the ${layout} set with its type and extra labels`, () => {
    const prefill = new SglangMetrics(defaultShape({ role: 'prefill', tpSize: 2, dpSize: 2 }), layout);
    const decode = new SglangMetrics(defaultShape({ role: 'decode', tpSize: 2, dpSize: 2 }), layout);
    prefill.observeFinished({ promptTokens: 100, outputTokens: 1, cachedTokens: 40, e2eSec: 0.2, streaming: true });
    prefill.perStageLatency.observe({ ...prefill.rankLabels[0], stage: 'prefill_forward' }, 0.05);
    const both = parsePrometheusText(prefill.render() + decode.render());
    for (const f of SGLANG_METRIC_SETS[layout]) {
      assert.equal(both.types.get(f.name), f.type, `${f.name} declared as ${f.type}`);
      for (const extra of f.extraLabels ?? []) {
        const sampleNames = f.type === 'histogram' ? [`${f.name}_bucket`] : f.type === 'counter' ? [`${f.name}_total`] : [f.name];
        const samples = sampleNames.flatMap((n) => both.byName.get(n) ?? []);
        assert.ok(samples.some((s) => s.labelsRaw.includes(`${extra}="`)), `${f.name} carries ${extra}`);
      }
    }
    const ttftLabels = both.byName.get('sglang:time_to_first_token_seconds_bucket')?.[0]?.labelsRaw ?? '';
    assert.equal(ttftLabels.includes('is_streaming='), layout === 'current');
  });
}

test('a reader goes by # TYPE: the same name is a run histogram on one server and a last-value gauge on another', () => {
  const hist = (count: number, sum: number) =>
    `# HELP sglang:kv_transfer_latency_ms Histogram of KV cache transfer latency in ms.\n# TYPE sglang:kv_transfer_latency_ms histogram\n` +
    `sglang:kv_transfer_latency_ms_bucket{engine_type="prefill",le="10.0"} ${count}.0\nsglang:kv_transfer_latency_ms_bucket{engine_type="prefill",le="+Inf"} ${count}.0\n` +
    `sglang:kv_transfer_latency_ms_count{engine_type="prefill"} ${count}.0\nsglang:kv_transfer_latency_ms_sum{engine_type="prefill"} ${sum}\n`;
  const w = familyWindow(parsePrometheusText(hist(10, 40)), parsePrometheusText(hist(30, 140)), 'sglang:kv_transfer_latency_ms');
  assert.equal(w?.type, 'histogram');
  assert.equal(w?.type === 'histogram' && w.count, 20);
  assert.equal(w?.type === 'histogram' && w.mean, 5);
  const gauge = `# HELP sglang:kv_transfer_latency_ms The transfer latency of the KV cache in ms.\n# TYPE sglang:kv_transfer_latency_ms gauge\nsglang:kv_transfer_latency_ms{engine_type="prefill",dp_rank="0"} 12.0\nsglang:kv_transfer_latency_ms{engine_type="prefill",dp_rank="1"} 8.0\n`;
  const g = familyWindow(undefined, parsePrometheusText(gauge), 'sglang:kv_transfer_latency_ms');
  assert.deepEqual(g, { name: 'sglang:kv_transfer_latency_ms', type: 'gauge', value: 10, series: 2 });
});

test('a server restart between the two scrapes counts the later scrape alone (counter reset)', () => {
  const c = (v: number) => `# TYPE sglang:num_aborted_requests counter\nsglang:num_aborted_requests_total{model_name="m"} ${v}\n`;
  assert.deepEqual(familyWindow(parsePrometheusText(c(50)), parsePrometheusText(c(3)), 'sglang:num_aborted_requests'), { name: 'sglang:num_aborted_requests', type: 'counter', increase: 3 });
  assert.deepEqual(familyWindow(parsePrometheusText(c(50)), parsePrometheusText(c(53)), 'sglang:num_aborted_requests'), { name: 'sglang:num_aborted_requests', type: 'counter', increase: 3 });
});

test('the live collector reads KV transfer by # TYPE: a window mean on a histogram server, the last value on a gauge server', async () => {
  const { parseServerMetrics, reduceScrape, compareStates } = await import('../../../src/core/telemetry/server/normalize');
  for (const layout of ['current', 'legacy'] as const) {
    const m = new SglangMetrics(defaultShape({ role: 'prefill', tpSize: 2, dpSize: 2 }), layout);
    const l = m.rankLabels[0];
    m.kvTransferLatencyMs?.record(l, 100);
    const s0 = reduceScrape(parseServerMetrics(m.render()), 1000);
    m.kvTransferLatencyMs?.record(l, 10);
    m.kvTransferLatencyMs?.record(m.rankLabels[1], 30);
    m.kvTransferTotalMb?.record(l, 64);
    m.numPrefillPreallocQueueReqs?.set(l, 3);
    const s1 = reduceScrape(parseServerMetrics(m.render()), 2000);
    const sample = compareStates(s0, s1, 'prefill@n0');
    assert.equal(sample.pd?.prefillPreallocQueueReqs, 3, `${layout}: bootstrap/prealloc queue gauge under either name`);
    if (layout === 'current') {
      assert.equal(sample.pd?.kvMetricType, 'histogram');
      assert.equal(sample.pd?.kvTransferLatencyMs, 20, 'mean of the two transfers in the window, not the 100 ms before it');
      assert.equal(sample.pd?.kvTransferTotalMb, 64);
    } else {
      assert.equal(sample.pd?.kvMetricType, 'gauge');
      // most-recent gauges: rank 0 says 10, rank 1 says 30
      assert.equal(sample.pd?.kvTransferLatencyMs, 20);
    }
  }
});
