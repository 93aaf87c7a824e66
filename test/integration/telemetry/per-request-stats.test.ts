import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { startSimServer } from '../../../src/core/sim/server';
import { startSimRouter } from '../../../src/core/sim/router';
import { RunScrapes } from '../../../src/core/telemetry/server/run-scrapes';
import { decomposeTtft } from '../../../src/core/metrics/ttft-decomposition';
import { ttftDecompositionTable } from '../../../src/core/metrics/ttft-chart';
import { cachePanel } from '../../../src/core/metrics/cache-panel';
import { runBenchmark, type BenchmarkConfig } from '../../../src/core/bench/benchmark';
import { summaryTable } from '../../../src/core/metrics/summary-table';
import type { ApiKind } from '../../../src/core/metrics/record';
import { presentOptionalMetrics } from '../../../src/core/report/server-views';
import type { ComparedRun } from '../../../src/core/report/types';

/**
 * Per-request server figures over real HTTP: the emulator answers the way SGLang's tokenizer
 * manager does (time stats in meta_info with --enable-metrics, spec-decoding acceptance at
 * finish, reasoning_content deltas with --reasoning-parser), the load client keeps them per
 * request, and the decomposition, the cache/spec panel and the summary use them.
 */

function config(url: string, api: ApiKind, over: Partial<BenchmarkConfig> = {}): BenchmarkConfig {
  return {
    name: 'per-request',
    url,
    api,
    model: 'default',
    dataset: { name: 'random', numPrompts: 12, seed: 5, inputLen: 64, outputLen: 24, rangeRatio: 1 },
    cacheBust: false,
    requestRate: Infinity,
    burstiness: 1,
    maxConcurrency: 4,
    warmupRequests: 0,
    definition: 'sglang',
    percentiles: [50, 99],
    payload: { temperature: 0, ignoreEos: true },
    workers: 1,
    ...over,
  };
}

for (const version of ['0.5.15', '0.5.9'] as const) {
  test(`SGLang ${version} emulator, PD over HTTP: /generate responses carry the decode server's time stats; the decode queue is taken per request`, async () => {
    const prefill = await startSimServer({ role: 'prefill', seed: 4, timeScale: 0.05, sglangVersion: version });
    const decode = await startSimServer({ role: 'decode', seed: 4, timeScale: 0.05, sglangVersion: version });
    const router = await startSimRouter({ prefill: [prefill.url], decode: [decode.url] });
    try {
      const scrapes = await RunScrapes.start([
        { name: 'prefill@n0', url: prefill.url },
        { name: 'decode@n1', url: decode.url },
      ]);
      const out = await runBenchmark(config(router.url, 'generate'), { toolVersion: 'test' });
      const windows = await scrapes.finish();
      assert.equal(out.summary.completed, 12);
      const timed = out.records.flatMap((r) => (r.serverTimes ? [r.serverTimes] : []));
      assert.equal(timed.length, 12, 'every response had time stats');
      for (const t of timed) {
        assert.ok(t.queueTime !== undefined && t.queueTime >= 0, 'queue_time');
        if (version === '0.5.15') {
          // current layout: epoch stamps; the decode server held the request until its KV arrived
          assert.ok(t.requestReceivedTs !== undefined && t.forwardEntryTime !== undefined && t.forwardEntryTime >= t.requestReceivedTs);
          assert.ok((t.inferenceTime ?? -1) >= 0);
        } else {
          assert.equal(t.requestReceivedTs, undefined, 'the legacy layout sends no epoch stamps');
        }
      }
      const d = decomposeTtft(out.summary.ttftMs.mean ?? 0, windows, out.records);
      assert.ok(d);
      const q = d.segments.find((s) => s.id === 'decodeQueue');
      assert.match(q?.source ?? '', /meta_info\.queue_time per request .* 12 of 12/);
      assert.equal(d.perRequest?.requests, 12);
      const first = d.segments.find((s) => s.id === 'firstDecodeStep');
      if (version === '0.5.15') {
        // the decode server's prebuilt pass, measured (the emulator emits the token at once)
        assert.equal(first?.label, 'first decode step');
        assert.match(first?.source ?? '', /stage="fake_output"/);
        assert.equal(first?.ms, 0);
      } else {
        // no fake_output stage: estimated from the decode ITL and labelled so
        assert.equal(first?.label, 'first decode step (estimate)');
        assert.match(first?.source ?? '', /^estimate: inter_token_latency_seconds/);
        assert.ok((first?.ms ?? 0) > 0);
      }
      if (version === '0.5.15') {
        assert.ok((d.perRequest?.kvWaitMs ?? 0) > 0, 'arrival -> KV in place, from the epoch stamps');
        assert.ok(d.notes.some((n) => /before its KV was in place/.test(n)));
      } else assert.equal(d.perRequest?.kvWaitMs, null);
      const table = ttftDecompositionTable([{ label: 'run', d }]);
      assert.equal(table.rows[0][table.columns.indexOf('responses with time stats')], '12/12');
      // the remainder is still shown: the stack adds up to the client's TTFT
      const total = d.segments.reduce((a, s) => a + (s.ms ?? 0), 0);
      assert.ok(Math.abs(total - d.clientTtftMs) < 1e-6);
    } finally {
      await router.close();
      await decode.close();
      await prefill.close();
    }
  });
}

test('speculative decoding: per-request acceptance from meta_info reaches the speculative panel', async () => {
  const sim = await startSimServer({ seed: 9, timeScale: 0.05, shape: { serverArgs: { speculative_algorithm: 'EAGLE', speculative_num_draft_tokens: 4 } } });
  try {
    const out = await runBenchmark(config(sim.url, 'generate'), { toolVersion: 'test' });
    assert.equal(out.summary.completed, 12);
    for (const r of out.records) {
      assert.ok(r.spec, 'spec_verify_ct and friends at finish');
      assert.ok(r.spec.verifyCt > 0 && r.spec.verifyCt <= (r.outputTokens ?? 0));
      // SGLang: accept length = completion_tokens / spec_verify_ct, between 1 and the draft count
      assert.ok(Math.abs((r.spec.acceptLength ?? 0) - (r.outputTokens ?? 0) / r.spec.verifyCt) < 1e-9);
      assert.ok((r.spec.acceptLength ?? 0) >= 1 && (r.spec.acceptLength ?? 0) <= 4);
      assert.ok((r.spec.acceptRate ?? -1) >= 0 && (r.spec.acceptRate ?? 2) <= 1);
    }
    const panel = cachePanel(out.records, []);
    const per = panel.spec.perRequest;
    assert.ok(per);
    assert.equal(per.requests, 12);
    const tokens = out.records.reduce((a, r) => a + (r.outputTokens ?? 0), 0);
    const passes = out.records.reduce((a, r) => a + (r.spec?.verifyCt ?? 0), 0);
    assert.ok(Math.abs(per.acceptLength - tokens / passes) < 1e-9, 'the run figure is tokens per verify pass');
    // bench_serving's "Accept length" comes from /server_info, which counts the same passes since the start
    assert.ok(out.summary.acceptLength !== null && Math.abs(out.summary.acceptLength - tokens / passes) < 1e-9, `accept length ${out.summary.acceptLength}`);
    const metrics = await (await fetch(sim.url + '/metrics')).text();
    const gauge = /^sglang:spec_accept_length\{[^}]*\} ([0-9.]+)$/m.exec(metrics);
    assert.ok(gauge && Math.abs(Number(gauge[1]) - tokens / passes) < 1e-6, 'the gauge follows the requests');
    // /flush_cache starts the count over, as SGLang's does
    assert.equal((await fetch(sim.url + '/flush_cache', { method: 'POST' })).status, 200);
    const info = (await (await fetch(sim.url + '/server_info')).json()) as { internal_states: Record<string, unknown>[] };
    assert.equal(info.internal_states[0]['avg_spec_accept_length'], undefined);
  } finally {
    await sim.close();
  }
});

test('--reasoning-parser: thinking arrives as reasoning_content, is counted apart from the answer, and TTFAT sits next to TTFT in the summary', async () => {
  const sim = await startSimServer({ seed: 2, timeScale: 0.05, shape: { serverArgs: { reasoning_parser: 'deepseek-r1' } } });
  const plain = await startSimServer({ seed: 2, timeScale: 0.05 });
  try {
    const out = await runBenchmark(config(sim.url, 'chat', { payload: { temperature: 0, ignoreEos: true } }), { toolVersion: 'test' });
    assert.equal(out.summary.completed, 12);
    for (const r of out.records) {
      const reasoning = r.reasoningChars;
      assert.ok(reasoning, 'reasoning characters kept per chunk');
      assert.equal(reasoning.length, r.chunkChars.length);
      const thinking = reasoning.reduce((a, b) => a + b, 0);
      const all = r.chunkChars.reduce((a, b) => a + b, 0);
      assert.ok(thinking > 0 && thinking < all, 'some thinking, then an answer');
      // the thinking comes first: no reasoning after the first answer chunk
      const firstAnswer = r.chunkChars.findIndex((c, k) => c - reasoning[k] > 0);
      assert.ok(reasoning.slice(firstAnswer).every((c) => c === 0));
      assert.ok((r.reasoningTokens ?? 0) > 0 && (r.reasoningTokens ?? 0) < (r.outputTokens ?? 0), "usage.reasoning_tokens");
    }
    const x = out.summary.reasoning;
    assert.ok(x, 'the summary has the reasoning split');
    assert.equal(x.thinkingRequests, 12);
    const serverThinking = out.records.reduce((a, r) => a + (r.reasoningTokens ?? 0), 0);
    assert.equal(x.thinkingTokens, serverThinking, "the server's reasoning_tokens");
    assert.equal(x.thinkingTokens + x.answerTokens, out.summary.totalOutputTokens);
    assert.equal(x.ttfatMs.count, 12);
    assert.ok((x.ttfatMs.mean ?? 0) > (out.summary.ttftMs.mean ?? Infinity), 'the first answer token comes after the first thinking token');
    const table = summaryTable([{ label: 'r1', requestRate: Infinity, summary: out.summary }]);
    const col = table.columns.indexOf('Mean TTFAT (ms)');
    assert.ok(col > table.columns.indexOf('Mean TTFT (ms)'));
    assert.equal(table.rows[0][col], Math.round((x.ttfatMs.mean ?? 0) * 100) / 100);

    // the compare report's columns read the stored summary
    const shown = presentOptionalMetrics([{ summary: out.summary } as ComparedRun]);
    const ttfat = shown.find((m) => m.id === 'ttfatP50');
    assert.ok(ttfat, 'TTFAT p50 in the compare table');
    assert.equal(ttfat.value({ summary: out.summary } as ComparedRun), x.ttfatMs.median);
    assert.equal(shown.find((m) => m.id === 'thinkingTokens')?.value({ summary: out.summary } as ComparedRun), x.thinkingTokens);

    // the same model without the parser: no reasoning fields, no TTFAT column
    const base = await runBenchmark(config(plain.url, 'chat', { payload: { temperature: 0, ignoreEos: true } }), { toolVersion: 'test' });
    assert.equal(base.summary.reasoning, undefined);
    assert.ok(base.records.every((r) => r.reasoningChars === undefined));
    assert.equal(summaryTable([{ label: 'plain', requestRate: Infinity, summary: base.summary }]).columns.indexOf('Mean TTFAT (ms)'), -1);
    assert.ok(!presentOptionalMetrics([{ summary: base.summary } as ComparedRun]).some((m) => m.id.startsWith('ttfat')));
  } finally {
    await sim.close();
    await plain.close();
  }
});
