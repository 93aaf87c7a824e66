import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseAccumulator } from '../../../src/core/load/accumulator';
import { SseByteSplitter } from '../../../src/core/load/sse';
import type { ApiKind } from '../../../src/core/metrics/record';

/** the raw client's path: bytes through the byte splitter, one read per line */
function viaBytes(api: ApiKind, lines: [number, string][]): ResponseAccumulator {
  const acc = new ResponseAccumulator(api, 0);
  const split = new SseByteSplitter((buf, a, b, t) => acc.bytes(buf, a, b, t));
  for (const [t, line] of lines) {
    const buf = Buffer.from(line + '\n\n');
    split.push(buf, 0, buf.length, t);
  }
  split.end(99);
  return acc;
}

const chat = (delta: Record<string, unknown>, finish: string | null = null): string =>
  `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":${JSON.stringify(delta)},"logprobs":null,"finish_reason":${finish === null ? 'null' : `"${finish}"`},"matched_stop":null}]}`;

test('chat with a reasoning parser: reasoning_content kept per chunk beside the plain-content fast path; usage.reasoning_tokens read', () => {
  const acc = viaBytes('chat', [
    [1, chat({ role: 'assistant', content: '' })],
    [10, chat({ reasoning_content: 'Let me think' })],
    [20, chat({ reasoning_content: ' hard.' })],
    [30, chat({ content: 'The answer' })],
    [40, chat({ content: ' is 4.' })],
    [41, chat({}, 'stop')],
    [42, 'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":5,"total_tokens":14,"completion_tokens":9,"reasoning_tokens":4}}'],
    [43, 'data: [DONE]'],
  ]);
  const r = acc.result(true);
  assert.deepEqual(r.chunkChars, [0, 12, 6, 10, 6, 0]);
  assert.deepEqual(r.reasoningChars, [0, 12, 6, 0, 0, 0], 'aligned with chunkChars, content chunks (fast path) at 0');
  assert.equal(r.text, 'Let me think hard.The answer is 4.');
  assert.equal(r.reasoningTokens, 4);
  assert.equal(r.outputTokens, 9);
});

test('chat without reasoning: no reasoning fields (the records stay as they were)', () => {
  const r = viaBytes('chat', [
    [1, chat({ role: 'assistant', content: '' })],
    [10, chat({ content: 'Hi' })],
    [11, chat({}, 'stop')],
    [12, 'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":5,"total_tokens":6,"completion_tokens":1,"reasoning_tokens":0}}'],
  ]).result(true);
  assert.equal(r.reasoningChars, undefined);
  assert.equal(r.reasoningTokens, undefined);
  assert.equal('serverTimes' in r, false);
});

const gen = (k: number, finish: string | null, extra: string, tail = ''): string =>
  `data: {"text":"${'x'.repeat(k)}","output_ids":[1],"meta_info":{"id":"r1","finish_reason":${finish ?? 'null'},"prompt_tokens":12,"weight_version":"default","total_retractions":0${extra},"completion_tokens":${k},"cached_tokens":0${tail}}}`;

test('/generate with --enable-metrics (current layout): the time stats of the final meta_info; the per-token fast path still takes the others', () => {
  const sched = ',"forward_entry_time":1764660000.25,"queue_time":0.002,"prefill_waiting_latency":null,"prefill_launch_latency":null';
  const acc = viaBytes('generate', [
    [10, gen(1, null, sched)],
    [20, gen(2, null, sched)],
    [30, gen(3, '{"type":"length","length":3}', sched, ',"e2e_latency":0.5,"request_received_ts":1764660000.1,"request_finished_ts":1764660000.6,"inference_time":0.35,"decode_throughput":12.5')],
  ]);
  const r = acc.result(true);
  assert.deepEqual(r.chunkTokens, [1, 2, 3]);
  assert.deepEqual(r.serverTimes, { queueTime: 0.002, forwardEntryTime: 1764660000.25, requestReceivedTs: 1764660000.1, requestFinishedTs: 1764660000.6, inferenceTime: 0.35, e2eLatency: 0.5 });
});

test('/generate, legacy layout and speculative decoding: prefill_launch_delay read as the waiting latency; spec figures at finish', () => {
  const acc = viaBytes('generate', [
    [10, gen(1, null, ',"queue_time":0.01,"prefill_launch_delay":0.003,"prefill_launch_latency":0.02')],
    [30, gen(6, '{"type":"length","length":6}', ',"queue_time":0.01,"prefill_launch_delay":0.003,"prefill_launch_latency":0.02', ',"e2e_latency":0.4,"spec_accept_rate":0.5,"spec_accept_length":2,"spec_verify_ct":3')],
  ]);
  const r = acc.result(true);
  assert.deepEqual(r.serverTimes, { queueTime: 0.01, prefillWaitingLatency: 0.003, prefillLaunchLatency: 0.02, e2eLatency: 0.4 });
  assert.deepEqual(r.spec, { verifyCt: 3, acceptLength: 2, acceptRate: 0.5 });
});

test('/generate without metrics: e2e_latency alone does not make time stats', () => {
  const r = viaBytes('generate', [[10, gen(2, '{"type":"length","length":2}', '', ',"e2e_latency":0.4')]]).result(true);
  assert.equal(r.serverTimes, undefined);
  assert.equal(r.spec, undefined);
});
