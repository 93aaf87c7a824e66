/**
 * TTFT is the arrival of the first token, never of the response headers (mutation audit, #23):
 * SGLang and vLLM servers send their headers at once and the first token after prefill, so a
 * TTFT taken from the headers would look fast. The simulator sends its headers with the first
 * token, so no sim-based test can tell the two apart; these can.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { deriveRequest } from '../../../src/core/metrics/definitions';
import { computeMetrics } from '../../../src/core/metrics/summary';
import { RawStreamClient } from '../../../src/core/load/raw-http';
import { LoadRun } from '../../../src/core/load/runner';
import { arrivalOffsets } from '../../../src/core/load/arrivals';
import { createRng } from '../../../src/core/load/rng';
import { rec } from './trace-helpers';

// headers at 2 ms, tokens at 80, 90, 100 ms
const early = rec({ maxTokens: 3, headersMs: 2, chunkMs: [80, 90, 100], chunkChars: [3, 3, 3], chunkTokens: [1, 2, 3], outputTokens: 3, lastLineMs: 101, text: 'abcdefghi' });

for (const [api, definition] of [['generate', 'sglang'], ['completions', 'sglang'], ['chat', 'sglang'], ['completions', 'vllm'], ['chat', 'vllm']] as const) {
  test(`${definition} definition, ${api} API: TTFT is the first token (80 ms), not the headers (2 ms)`, () => {
    const d = deriveRequest(early, api, definition);
    assert.equal(d.ttftMs, 80);
    assert.equal(d.tpotMs, ((definition === 'vllm' ? 100 : 101) - 80) / 2);
  });
}

test('over real HTTP: headers flushed at once, first token 60 ms later -> TTFT >= 60 ms', async () => {
  const ev = (text: string): string => `data: {"id":"x","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"${text}","logprobs":null,"finish_reason":null}],"usage":null}\n\n`;
  const srv = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      setTimeout(() => {
        res.write(ev('a') + ev('b') + ev('c'));
        res.end('data: {"id":"x","object":"text_completion","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}}\n\ndata: [DONE]\n\n');
      }, 60);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const client = new RawStreamClient({ baseUrl: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, api: 'completions', payload: { temperature: 0, ignoreEos: true, model: 'm' } });
  try {
    const res = await new LoadRun({ rows: [{ prompt: 'hi', promptLen: 1, outputLen: 3 }], client, arrivals: arrivalOffsets({ kind: 'all-at-once' }, createRng(1)), maxConcurrency: 1, count: 2, warmupRequests: 0 }).run();
    assert.equal(res.records.length, 2);
    for (const r of res.records) {
      assert.equal(r.ok, true, r.error);
      assert.ok(r.headersMs !== undefined && r.headersMs < 50, `headers at ${r.headersMs} ms: the server flushed them at once`);
    }
    for (const definition of ['sglang', 'vllm'] as const) {
      const m = computeMetrics(res.records, { api: 'completions', definition, durationSec: 1, percentiles: [99] });
      assert.ok((m.summary.ttftMs.min ?? 0) >= 55, `${definition}: TTFT min ${m.summary.ttftMs.min} ms, the first token came 60 ms after the headers`);
    }
  } finally {
    client.dispose();
    await new Promise<void>((r) => srv.close(() => r()));
  }
});
