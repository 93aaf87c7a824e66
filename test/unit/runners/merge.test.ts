import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { importText } from '../../../src/core/results/importers';
import { mergeNodeResults, poolStats } from '../../../src/core/runners/merge';
import { summarize } from '../../../src/core/metrics/stats';

/** a bench_serving JSONL line with --output-details, numbers consistent with the lists */
function line(ttftsS: number[], itlsS: number[][], durationS: number, errors?: string[]): Record<string, unknown> {
  const ok = ttftsS.map((_, i) => !errors || errors[i] === '');
  const outLens = itlsS.map((x, i) => (ok[i] ? x.length + 1 : 0));
  const ms = (xs: number[]) => xs.map((x) => x * 1000);
  const okTtft = ms(ttftsS.filter((_, i) => ok[i]));
  const s = summarize(okTtft, [90, 95, 99]);
  const e2e = summarize(ms(ttftsS.map((t, i) => t + itlsS[i].reduce((a, b) => a + b, 0)).filter((_, i) => ok[i])), [90, 95, 99]);
  const completed = ok.filter(Boolean).length;
  const out = outLens.reduce((a, b) => a + b, 0);
  return {
    tag: 'b', backend: 'sglang', dataset_name: 'random', request_rate: 10, max_concurrency: 4, server_info: null,
    duration: durationS, completed, total_input_tokens: completed * 100, total_output_tokens: out, request_throughput: completed / durationS,
    input_throughput: (completed * 100) / durationS, output_throughput: out / durationS, total_throughput: (completed * 100 + out) / durationS,
    mean_e2e_latency_ms: e2e.mean, median_e2e_latency_ms: e2e.median, std_e2e_latency_ms: e2e.std, p99_e2e_latency_ms: e2e.p['p99'],
    mean_ttft_ms: s.mean, median_ttft_ms: s.median, std_ttft_ms: s.std, p90_ttft_ms: s.p['p90'], p95_ttft_ms: s.p['p95'], p99_ttft_ms: s.p['p99'],
    mean_tpot_ms: 1, median_tpot_ms: 1, std_tpot_ms: 0, p99_tpot_ms: 1, mean_itl_ms: 1, median_itl_ms: 1, std_itl_ms: 0, p95_itl_ms: 1, p99_itl_ms: 1,
    concurrency: 1, accept_length: null, max_output_tokens_per_s: 10, max_concurrent_requests: 4,
    input_lens: ttftsS.map(() => 100), output_lens: outLens, ttfts: ttftsS, itls: itlsS, generated_texts: ttftsS.map(() => ''), errors: errors ?? ttftsS.map(() => ''),
  };
}

function node(name: string, raw: Record<string, unknown>, withDetails = true) {
  const o = withDetails ? raw : Object.fromEntries(Object.entries(raw).filter(([k]) => !['ttfts', 'itls', 'output_lens', 'input_lens', 'errors', 'generated_texts'].includes(k)));
  return { node: name, raw: o, run: importText(JSON.stringify(o), `${name}.jsonl`, 'sglang-bench-serving')[0] };
}

describe('merging several runner nodes into one run', () => {
  test('with per-request details: counts and throughputs add up, TTFT is computed over every request', () => {
    const a = node('n1', line([0.1, 0.2, 0.3], [[0.01, 0.01], [0.02], [0.01]], 2));
    const b = node('n2', line([0.5, 0.05], [[0.03, 0.03, 0.03], [0.01]], 4, ['', 'boom']));
    const m = mergeNodeResults([a, b], [50, 99]);
    assert.equal(m.perRequest, true);
    assert.equal(m.summary.completed, 4);
    assert.equal(m.summary.failed, 1);
    assert.equal(m.summary.durationSec, 4);
    assert.equal(m.summary.outputThroughput, a.run.result.summary.outputThroughput + b.run.result.summary.outputThroughput);
    const pooled = summarize([100, 200, 300, 500], [50, 99]);
    assert.equal(m.summary.ttftMs.count, 4);
    assert.ok(Math.abs((m.summary.ttftMs.mean ?? 0) - (pooled.mean ?? 0)) < 1e-9);
    assert.ok(Math.abs((m.summary.ttftMs.p['p99'] ?? 0) - (pooled.p['p99'] ?? 0)) < 1e-9);
    // ITL pools every gap: 2 + 1 + 1 + 3 (the failed request's gaps are left out)
    assert.equal(m.summary.itlMs.count, 7);
    assert.ok(m.notes.some((n) => /Merged from 2/.test(n)));
  });

  test('without details: mean and std are pooled exactly, percentiles are count-weighted and said to be approximate', () => {
    const a = node('n1', line([0.1, 0.2, 0.3], [[0.01], [0.01], [0.01]], 2), false);
    const b = node('n2', line([0.5], [[0.01]], 2), false);
    const m = mergeNodeResults([a, b], [99]);
    assert.equal(m.perRequest, false);
    const exact = summarize([100, 200, 300, 500], [99]);
    assert.ok(Math.abs((m.summary.ttftMs.mean ?? 0) - (exact.mean ?? 0)) < 1e-9);
    assert.ok(Math.abs((m.summary.ttftMs.std ?? 0) - (exact.std ?? 0)) < 1e-9);
    assert.ok(m.notes.some((n) => /approximation/.test(n)));
  });

  test('pooling skips parts that measured nothing', () => {
    const p = poolStats([summarize([], [99]), summarize([2, 4], [99])]);
    assert.deepEqual([p.count, p.mean, p.min, p.max], [2, 3, 2, 4]);
  });
});
