import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseAccumulator } from '../../../src/core/load/accumulator';
import { SseLineSplitter } from '../../../src/core/load/sse';
import type { ApiKind } from '../../../src/core/metrics/record';

/** feed "data: ..." lines at the given times (ms since start 0) */
function feed(api: ApiKind, lines: [number, string][]): ResponseAccumulator {
  const acc = new ResponseAccumulator(api, 0);
  for (const [t, line] of lines) acc.line(line, t);
  return acc;
}

// spaces after colons defeat the indexOf fast path, so the same events go through JSON.parse
const spaced = (lines: [number, string][]): [number, string][] => lines.map(([t, l]) => [t, l.startsWith('data: {') ? 'data: ' + JSON.stringify(JSON.parse(l.slice(6)), null, 0).replace(/":/g, '": ') : l]);

const same = (a: ResponseAccumulator, b: ResponseAccumulator): void => {
  assert.deepEqual(a.result(true), b.result(true));
};

const gen = (text: string, k: number, finish: string | null): string =>
  `data: {"text":${JSON.stringify(text)},"output_ids":[1],"meta_info":{"id":"r1","finish_reason":${finish},"prompt_tokens":12,"weight_version":"default","completion_tokens":${k},"cached_tokens":3},"moebench_emit_ms":1.5}`;

test('/generate: cumulative text, server token counts, prompt and cached tokens, finish reason', () => {
  const lines: [number, string][] = [
    [10, gen(' the', 1, 'null')],
    [20, gen(' the "cat"\n', 3, 'null')],
    [30, gen(' the "cat"\n sat', 4, '{"type":"length","length":4}')],
    [31, 'data: [DONE]'],
  ];
  const a = feed('generate', lines);
  const r = a.result(true);
  assert.deepEqual(r.chunkMs, [10, 20, 30]);
  assert.deepEqual(r.chunkTokens, [1, 3, 4]);
  assert.ok(r.chunkChars.every((c) => c > 0));
  assert.equal(r.text, ' the "cat"\n sat');
  assert.equal(r.outputTokens, 4);
  assert.equal(r.promptTokens, 12);
  assert.equal(r.cachedTokens, 3);
  assert.equal(r.finishReason, 'length');
  assert.equal(r.lastLineMs, 31);
  same(a, feed('generate', spaced(lines)));
});

const comp = (text: string, finish: string | null, usage = 'null'): string =>
  `data: {"id":"c1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":${JSON.stringify(text)},"logprobs":null,"finish_reason":${finish},"matched_stop":null}],"usage":${usage}}`;

test('/v1/completions: text chunks, escapes, the usage-only chunk and [DONE]', () => {
  const lines: [number, string][] = [
    [5, comp('', 'null')],
    [10, comp(' a\\b', 'null')],
    [12, comp(' "q"', 'null')],
    [15, comp(' end', '"length"')],
    [16, 'data: {"id":"c1","object":"text_completion","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":7,"total_tokens":10,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":2}}}'],
    [17, 'data: [DONE]'],
  ];
  const a = feed('completions', lines);
  const r = a.result(true);
  assert.deepEqual(r.chunkMs, [5, 10, 12, 15]);
  assert.deepEqual(r.chunkChars, [0, 4, 4, 4]);
  assert.equal(r.text, ' a\\b "q" end');
  assert.equal(r.outputTokens, 3);
  assert.equal(r.promptTokens, 7);
  assert.equal(r.cachedTokens, 2);
  assert.equal(r.finishReason, 'length');
  assert.equal(r.lastLineMs, 17);
  same(a, feed('completions', spaced(lines)));
});

const chat = (delta: string, finish: string | null): string =>
  `data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish},"matched_stop":null}]}`;

test('/v1/chat/completions: role chunk, content, reasoning content counted as text', () => {
  const lines: [number, string][] = [
    [1, chat('{"role":"assistant","content":""}', 'null')],
    [2, chat('{"reasoning_content":"think"}', 'null')],
    [3, chat('{"content":" hi","reasoning_content":null}', 'null')],
    [4, chat('{"content":null}', 'null')],
    [5, chat('{}', '"stop"')],
    [6, 'data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}}'],
    [7, 'data: [DONE]'],
  ];
  const a = feed('chat', lines);
  const r = a.result(true);
  assert.deepEqual(r.chunkMs, [1, 2, 3, 4, 5]);
  assert.deepEqual(r.chunkChars, [0, 5, 3, 0, 0]);
  assert.equal(r.text, 'think hi');
  assert.equal(r.outputTokens, 2);
  assert.equal(r.finishReason, 'stop');
  same(a, feed('chat', spaced(lines)));
});

test('an error event mid-stream fails the request but keeps what arrived', () => {
  const a = feed('generate', [
    [10, gen(' a', 1, 'null')],
    [20, 'data: {"error": {"message": "The server is shutting down"}}'],
  ]);
  const r = a.result(true);
  assert.equal(r.ok, false);
  assert.equal(r.error, 'The server is shutting down');
  assert.deepEqual(r.chunkMs, [10]);
});

test('comments and other SSE fields are ignored; bare JSON lines are data', () => {
  const a = feed('completions', [
    [1, ': ping'],
    [2, 'event: message'],
    [3, comp(' x', 'null').slice(6)],
  ]);
  assert.deepEqual(a.result(true).chunkMs, [3]);
  assert.equal(a.result(true).lastLineMs, 3);
});

test('lines split across TCP reads are stamped when their last byte arrives', () => {
  const seen: [string, number][] = [];
  const s = new SseLineSplitter((line, at) => seen.push([line, at]));
  s.push('data: {"a":1}\r\n\r\ndata: {"b"', 100);
  s.push(':2}\n\n', 105);
  s.push('data: [DONE]', 110);
  s.end(111);
  assert.deepEqual(seen, [
    ['data: {"a":1}', 100],
    ['data: {"b":2}', 105],
    ['data: [DONE]', 111],
  ]);
});
