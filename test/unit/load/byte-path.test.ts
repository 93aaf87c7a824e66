import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseAccumulator } from '../../../src/core/load/accumulator';
import { SseByteSplitter, SseLineSplitter } from '../../../src/core/load/sse';
import type { ApiKind } from '../../../src/core/metrics/record';

// Lines as SGLang and vLLM write them, with escapes, multi-byte text, a usage object on some
// lines (continuous usage), a finish chunk and the final usage chunk.
const texts = [' Hello', ' \\"quoted\\"', ' back\\\\slash', ' new\\nline', ' wörld ✓', '', ' 🚀', ' \\u00e9t\\u00e9'];
function completions(usageEvery: number): string {
  let out = '';
  texts.forEach((t, i) => {
    const usage = usageEvery && i % usageEvery === 0 ? `{"prompt_tokens":5,"completion_tokens":${i + 1},"total_tokens":${i + 6}}` : 'null';
    out += `data: {"id":"c","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"${t}","logprobs":null,"finish_reason":null,"matched_stop":null}],"usage":${usage}}\n\n`;
  });
  out += 'data: {"id":"c","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"","logprobs":null,"finish_reason":"length","matched_stop":null}],"usage":null}\n\n';
  out += `data: {"id":"c","object":"text_completion","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":${texts.length},"total_tokens":${texts.length + 5},"prompt_tokens_details":{"cached_tokens":2}}}\n\ndata: [DONE]\n\n`;
  return out;
}
function generate(): string {
  let out = '';
  let acc = '';
  texts.forEach((t, i) => {
    acc += t;
    out += `data: {"text":"${acc}","output_ids":[${i}],"meta_info":{"id":"g","finish_reason":null,"prompt_tokens":5,"completion_tokens":${i + 1},"cached_tokens":1}}\n\n`;
  });
  out += `data: {"text":"${acc}","output_ids":[9],"meta_info":{"id":"g","finish_reason":{"type":"length","length":${texts.length}},"prompt_tokens":5,"completion_tokens":${texts.length},"cached_tokens":1}}\n\ndata: [DONE]\n\n`;
  return out;
}

function viaStrings(api: ApiKind, body: string, cut: number): unknown {
  const acc = new ResponseAccumulator(api, 0);
  const split = new SseLineSplitter((line, at) => acc.line(line, at));
  const bytes = Buffer.from(body);
  // cut on character boundaries for the string path (a decoder would)
  const s = bytes.toString('utf8');
  for (let i = 0; i < s.length; i += cut) split.push(s.slice(i, i + cut), i);
  split.end(s.length);
  return strip(acc.result(true));
}

function viaBytes(api: ApiKind, body: string, cut: number): unknown {
  const acc = new ResponseAccumulator(api, 0);
  const split = new SseByteSplitter((buf, a, b, at) => acc.bytes(buf, a, b, at));
  const bytes = Buffer.from(body);
  for (let i = 0; i < bytes.length; i += cut) {
    // a read is a slice of a larger buffer, as in a chunked body
    const read = Buffer.concat([Buffer.from('xx'), bytes.subarray(i, i + cut), Buffer.from('\r\n')]);
    split.push(read, 2, read.length - 2, i);
  }
  split.end(bytes.length);
  return strip(acc.result(true));
}

/** times differ by construction (the string path counts characters): compare what the metrics read */
function strip(r: ReturnType<ResponseAccumulator['result']>): unknown {
  return { ok: r.ok, error: r.error, text: r.text, n: r.chunkMs.length, empty: r.chunkChars.map((c) => c === 0), tokens: r.chunkTokens, out: r.outputTokens, prompt: r.promptTokens, cached: r.cachedTokens, finish: r.finishReason };
}

for (const [name, api, body] of [
  ['completions', 'completions', completions(0)],
  ['completions with continuous usage', 'completions', completions(3)],
  ['generate', 'generate', generate()],
  ['chat (decoded per line)', 'chat', completions(0).replaceAll('"text":', '"delta":{"content":').replaceAll(',"logprobs":null,"finish_reason"', '},"logprobs":null,"finish_reason"')],
] as const) {
  for (const cut of [1, 2, 5, 64, 1 << 20]) {
    test(`byte path = string path: ${name}, reads of ${cut} byte(s)`, () => {
      const a = viaStrings(api, body, cut);
      const b = viaBytes(api, body, cut);
      assert.deepEqual(b, a);
      assert.equal((b as { error?: string }).error, undefined);
      if (api !== 'chat') assert.equal((b as { text: string }).text, ' Hello "quoted" back\\slash new\nline wörld ✓ 🚀 été');
    });
  }
}
