import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveRequest } from '../../../src/core/metrics/definitions';
import { rec } from './trace-helpers';

const near = (a: number | null, b: number): void => assert.ok(a !== null && Math.abs(a - b) < 1e-9, `${a} != ${b}`);
const nearAll = (a: number[], b: number[]): void => {
  assert.equal(a.length, b.length, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  a.forEach((x, i) => near(x, b[i]));
};

// /generate stream: an empty first chunk, a two-token chunk (speculative decoding), a repeated
// chunk with no new token, then [DONE] at 165 ms.
const generateTrace = rec({
  maxTokens: 5,
  chunkMs: [90, 100, 110, 130, 135, 160],
  chunkChars: [0, 3, 4, 8, 0, 4],
  chunkTokens: [0, 1, 2, 4, 4, 5],
  outputTokens: 5,
  lastLineMs: 165,
});

test('SGLang /generate: TTFT at the first non-empty text, ITL split over multi-token chunks', () => {
  const d = deriveRequest(generateTrace, 'generate', 'sglang');
  near(d.ttftMs, 100);
  // 110-100 for one token; (130-110)/2 twice; the no-new-token chunk at 135 is skipped; 160-130
  nearAll(d.itlMs, [10, 10, 10, 30]);
  assert.equal(d.outputLen, 5);
  near(d.latencyMs, 165); // the last SSE line ([DONE]), not the last token
  near(d.tpotMs, (165 - 100) / 4);
});

test('vLLM definition on the same /generate stream: every chunk counts, nothing is split', () => {
  const d = deriveRequest(generateTrace, 'generate', 'vllm');
  near(d.ttftMs, 90);
  nearAll(d.itlMs, [10, 10, 20, 5, 25]);
  near(d.latencyMs, 160);
  near(d.tpotMs, (160 - 90) / 4);
});

// /v1/completions without usage: the server never says how many tokens it produced.
const noUsage = rec({
  maxTokens: 10,
  chunkMs: [50, 60, 65, 80],
  chunkChars: [2, 4, 0, 2],
  chunkTokens: [-1, -1, -1, -1],
  outputTokens: null,
  lastLineMs: 90,
  text: 'ab cdef gh',
});

test('SGLang completions without usage fall back to the requested length; empty chunks are not tokens', () => {
  const d = deriveRequest(noUsage, 'completions', 'sglang');
  near(d.ttftMs, 50);
  nearAll(d.itlMs, [10, 20]);
  assert.equal(d.outputLen, 10);
  near(d.latencyMs, 90);
  near(d.tpotMs, (90 - 50) / 9);
});

test('vLLM completions without usage re-count the text and end at the last choice chunk', () => {
  const d = deriveRequest(noUsage, 'completions', 'vllm');
  nearAll(d.itlMs, [10, 5, 15]);
  near(d.latencyMs, 80);
  assert.equal(d.outputLen, 3); // "ab", " cdef", " gh"
  near(d.tpotMs, (80 - 50) / 2);
});

test('chat: a role-only first chunk starts vLLM TTFT but not SGLang TTFT', () => {
  const chat = rec({ chunkMs: [40, 50, 70], chunkChars: [0, 3, 3], chunkTokens: [-1, -1, -1], outputTokens: 2, lastLineMs: 75, text: 'abcdef' });
  const s = deriveRequest(chat, 'chat', 'sglang');
  near(s.ttftMs, 50);
  nearAll(s.itlMs, [20]);
  near(s.latencyMs, 75);
  near(s.tpotMs, 25);
  const v = deriveRequest(chat, 'chat', 'vllm');
  near(v.ttftMs, 40);
  nearAll(v.itlMs, [10, 20]);
  near(v.latencyMs, 70);
});

test('a single-token output has no TPOT; a stream without content has TTFT 0 (SGLang) or fails (vLLM)', () => {
  const one = deriveRequest(rec({ chunkMs: [30], chunkChars: [2], chunkTokens: [1], outputTokens: 1, lastLineMs: 31 }), 'generate', 'sglang');
  assert.equal(one.tpotMs, null);
  const empty = rec({ chunkMs: [], lastLineMs: 20, outputTokens: 0, maxTokens: 4 });
  const s = deriveRequest(empty, 'completions', 'sglang');
  assert.equal(s.ok, true);
  assert.equal(s.ttftMs, 0);
  assert.equal(deriveRequest(empty, 'completions', 'vllm').ok, false);
});

test('client queue time is the wait between dispatch and the concurrency slot', () => {
  const d = deriveRequest(rec({ dispatchedMs: 100, startMs: 340, chunkMs: [5], chunkChars: [1], chunkTokens: [1], lastLineMs: 6 }), 'generate', 'sglang');
  near(d.queueMs, 240);
});
