import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { startSimServer } from '../../../src/core/sim/server';
import { startSimRouter } from '../../../src/core/sim/router';
import { RunScrapes } from '../../../src/core/telemetry/server/run-scrapes';
import { decomposeTtft } from '../../../src/core/metrics/ttft-decomposition';
import { cachePanel } from '../../../src/core/metrics/cache-panel';
import { runGate } from '../../../src/core/metrics/run-gate';
import type { RunSummary } from '../../../src/core/metrics/summary';

/** stream one completion through the router; client TTFT = first chunk with text */
async function streamOnce(url: string, prompt: string, maxTokens: number): Promise<{ ttftMs: number; tokens: number }> {
  const t0 = performance.now();
  const r = await fetch(url + '/v1/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt, max_tokens: maxTokens, ignore_eos: true, stream: true, stream_options: { include_usage: true } }) });
  assert.equal(r.status, 200);
  let ttftMs = -1;
  let tokens = 0;
  let buf = '';
  const decoder = new TextDecoder();
  for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const ev = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (!ev.startsWith('data: ') || ev === 'data: [DONE]') continue;
      const body = JSON.parse(ev.slice(6)) as { choices: { text: string }[]; usage?: { completion_tokens: number } | null };
      if (ttftMs < 0 && body.choices.length > 0 && body.choices[0].text) ttftMs = performance.now() - t0;
      if (body.usage) tokens = body.usage.completion_tokens;
    }
  }
  return { ttftMs, tokens };
}

for (const [version, kvType] of [
  ['0.5.15', 'histogram'],
  ['0.5.9', 'gauge'],
] as const) {
  test(`SGLang ${version} emulator over HTTP: KV-transfer families are ${kvType}s and TTFT decomposes into router, prefill, transfer, decode and a shown remainder`, async () => {
    const prefill = await startSimServer({ role: 'prefill', seed: 3, timeScale: 0.05, sglangVersion: version });
    const decode = await startSimServer({ role: 'decode', seed: 3, timeScale: 0.05, sglangVersion: version });
    const router = await startSimRouter({ prefill: [prefill.url], decode: [decode.url] });
    try {
      const scrapes = await RunScrapes.start([
        { name: 'prefill@n0', url: prefill.url },
        { name: 'decode@n1', url: decode.url },
      ]);
      const prompts = Array.from({ length: 8 }, (_, i) => `where did the time go ${i} `.repeat(40));
      // the same prompts twice: the second pass hits the prefix cache
      const first = await Promise.all(prompts.map((p) => streamOnce(router.url, p, 6)));
      const second = await Promise.all(prompts.map((p) => streamOnce(router.url, p, 6)));
      const runs = [...first, ...second];
      const windows = await scrapes.finish();
      assert.equal(windows.length, 2);

      const text = await (await fetch(prefill.url + '/metrics')).text();
      assert.match(text, new RegExp(`^# TYPE sglang:kv_transfer_latency_ms ${kvType}$`, 'm'));
      assert.match(text, new RegExp(`^# TYPE sglang:kv_transfer_total_mb ${kvType}$`, 'm'));
      assert.match(text, version === '0.5.15' ? /^# TYPE sglang:num_prefill_bootstrap_queue_reqs gauge$/m : /^# TYPE sglang:num_prefill_prealloc_queue_reqs gauge$/m);

      const clientTtft = runs.reduce((a, r) => a + r.ttftMs, 0) / runs.length;
      const d = decomposeTtft(clientTtft, windows);
      assert.ok(d, 'a prefill and a decode server give a decomposition');
      const seg = Object.fromEntries(d.segments.map((s) => [s.id, s.ms]));
      assert.deepEqual(Object.keys(seg), ['router', 'prefillQueue', 'prefillCompute', 'kvTransfer', 'decodeQueue', 'firstDecodeStep', 'unexplained']);
      assert.ok((seg.prefillCompute ?? 0) > 0, 'prefill compute from per_stage_req_latency_seconds{stage="prefill_forward"}');
      assert.ok((seg.kvTransfer ?? 0) > 0, 'KV transfer from kv_transfer_latency_ms');
      assert.equal(d.kv[0].type, kvType);
      // the stack adds up to the client's TTFT exactly: nothing is hidden
      const total = d.segments.reduce((a, s) => a + (s.ms ?? 0), 0);
      assert.ok(Math.abs(total - clientTtft) < 1e-6);
      if (kvType === 'gauge') assert.ok(d.notes.some((n) => /gauges/.test(n)));
      else assert.equal(d.kv[0].count, runs.length, 'every transfer observed once');

      const cache = cachePanel([], windows);
      assert.ok((cache.server.hitRate ?? 0) > 0.3, `second pass hits the cache (hit rate ${cache.server.hitRate})`);
      if (version === '0.5.15') assert.ok((cache.server.bySource.device ?? 0) > 0, 'cache_source="device"');

      const generated = runs.reduce((a, r) => a + r.tokens, 0);
      const summary = { completed: runs.length, failed: 0, totalOutputTokens: generated } as RunSummary;
      const gate = runGate(summary, [], windows);
      assert.equal(gate.valid, true, JSON.stringify(gate.reasons));
      assert.equal(gate.facts.serverOutputTokens, generated);
      assert.equal(gate.facts.kvFailures, 0);
    } finally {
      await router.close();
      await prefill.close();
      await decode.close();
    }
  });
}
