import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseAccumulator } from '../../../src/core/load/accumulator';
import { SseByteSplitter, SseLineSplitter } from '../../../src/core/load/sse';
import type { ApiKind } from '../../../src/core/metrics/record';

function viaStrings(api: ApiKind, lines: string[]): string | undefined {
  const acc = new ResponseAccumulator(api, 0);
  const split = new SseLineSplitter((line, at) => acc.line(line, at));
  split.push(lines.map((l) => `${l}\n\n`).join(''), 1);
  split.end(2);
  return acc.result(true).rid;
}

function viaBytes(api: ApiKind, lines: string[]): string | undefined {
  const acc = new ResponseAccumulator(api, 0);
  const split = new SseByteSplitter((buf, a, b, at) => acc.bytes(buf, a, b, at));
  const buf = Buffer.from(lines.map((l) => `${l}\n\n`).join(''));
  split.push(buf, 0, buf.length, 1);
  split.end(2);
  return acc.result(true).rid;
}

// the server's request id: what its per-request log lines name (rid), for the TTFT decomposition's join
const rid = '7d1f0c2ab3e94f5d8a6b0c1d2e3f4a5b';

test('/generate: the rid is meta_info.id, on the fast path too', () => {
  const lines = [
    `data: {"text":" a","output_ids":[1],"meta_info":{"id":"${rid}","finish_reason":null,"prompt_tokens":3,"completion_tokens":1,"cached_tokens":0}}`,
    `data: {"text":" a b","output_ids":[2],"meta_info":{"id":"${rid}","finish_reason":{"type":"length","length":2},"prompt_tokens":3,"completion_tokens":2,"cached_tokens":0}}`,
    'data: [DONE]',
  ];
  assert.equal(viaStrings('generate', lines), rid);
  assert.equal(viaBytes('generate', lines), rid);
});

test('OpenAI completions and chat: the rid is the chunks\' id (SGLang sets it from meta_info.id)', () => {
  const comp = [
    `data: {"id":"cmpl-${rid}","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":" a","logprobs":null,"finish_reason":null,"matched_stop":null}],"usage":null}`,
    'data: [DONE]',
  ];
  assert.equal(viaStrings('completions', comp), `cmpl-${rid}`);
  assert.equal(viaBytes('completions', comp), `cmpl-${rid}`);
  const chat = [`data: {"id": "${rid}", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": null}]}`, 'data: [DONE]'];
  assert.equal(viaStrings('chat', chat), rid);
  assert.equal(viaBytes('chat', chat), rid);
});

test('a response without an id has no rid', () => {
  assert.equal(viaStrings('completions', ['data: {"choices":[{"index":0,"text":" a","logprobs":null,"finish_reason":null}]}', 'data: [DONE]']), undefined);
});
