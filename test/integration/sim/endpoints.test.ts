import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimServer, type SimServerHandle } from '../../../src/core/sim/server';
import { EMIT_FIELD, SIM_HEADER, countPromptTokens, countTextTokens } from '../../../src/core/sim/index';
import { json, post, promSamples, sseEvents, sumMetric } from './helpers';

let server: SimServerHandle;
let timed: SimServerHandle;
let dumpDir: string;

before(async () => {
  dumpDir = mkdtempSync(join(tmpdir(), 'sim-dump-'));
  server = await startSimServer({ zeroCost: true, seed: 3, servedModelName: 'ds-v3' });
  timed = await startSimServer({ seed: 3, timeScale: 0.02, expertDumpDir: dumpDir });
});
after(async () => {
  await server.close();
  await timed.close();
  rmSync(dumpDir, { recursive: true, force: true });
});

test('/health and /health_generate answer 200 with an empty body; responses are labelled simulated', async () => {
  for (const p of ['/health', '/health_generate']) {
    const r = await fetch(server.url + p);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), '');
    assert.equal(r.headers.get(SIM_HEADER), 'true');
  }
});

test('/server_info (and /get_server_info) carry the server args, internal_states per DP rank and the version', async () => {
  for (const p of ['/server_info', '/get_server_info']) {
    const info = (await (await fetch(server.url + p)).json()) as Record<string, unknown>;
    assert.equal(info.served_model_name, 'ds-v3');
    assert.equal(info.tp_size, 8);
    assert.equal(typeof info.max_total_num_tokens, 'number');
    assert.equal(typeof info.chunked_prefill_size, 'number');
    assert.equal(typeof info.version, 'string');
    assert.equal(info.simulated, true);
    const states = info.internal_states as Record<string, unknown>[];
    assert.equal(states.length, 8);
    assert.equal(typeof states[0].last_gen_throughput, 'number');
    assert.deepEqual(Object.keys(states[0].memory_usage as object).sort(), ['cuda_graph', 'kvcache', 'token_capacity', 'weight']);
    // every ServerArgs field of the catalog is present
    assert.ok(Object.keys(info).length > 400);
  }
});

test('/model_info, /get_model_info and /v1/models describe the served model', async () => {
  for (const p of ['/model_info', '/get_model_info']) {
    const m = (await (await fetch(server.url + p)).json()) as Record<string, unknown>;
    assert.deepEqual(['model_path', 'tokenizer_path', 'is_generation', 'preferred_sampling_params', 'weight_version'].filter((k) => !(k in m)), []);
  }
  const list = (await (await fetch(server.url + '/v1/models')).json()) as { object: string; data: { id: string; object: string; max_model_len: number }[] };
  assert.equal(list.object, 'list');
  assert.equal(list.data.length, 1);
  assert.equal(list.data[0].id, 'ds-v3');
  assert.equal(list.data[0].object, 'model');
  assert.equal((await fetch(server.url + '/v1/models/ds-v3')).status, 200);
  assert.equal((await fetch(server.url + '/v1/models/other')).status, 404);
});

test('/generate streams cumulative text with meta_info, the finish reason on the last token, then [DONE]', async () => {
  const r = await post(server.url + '/generate', { text: 'hello world', sampling_params: { max_new_tokens: 5, ignore_eos: true, temperature: 0 }, stream: true }, {});
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events = await sseEvents(r);
  assert.equal(events.at(-1), '[DONE]');
  const chunks = json(events) as { text: string; output_ids: number[]; meta_info: Record<string, unknown> }[];
  assert.equal(chunks.length, 5);
  chunks.forEach((c, i) => {
    assert.equal(c.meta_info.completion_tokens, i + 1);
    assert.equal(c.meta_info.prompt_tokens, countPromptTokens('hello world'));
    assert.equal(c.meta_info.cached_tokens, 0);
    assert.equal(c.output_ids.length, i + 1);
    assert.equal(countTextTokens(c.text), i + 1, 'text is cumulative');
    if (i > 0) assert.ok(c.text.startsWith(chunks[i - 1].text));
    assert.equal(typeof (c as unknown as Record<string, unknown>)[EMIT_FIELD], 'number');
  });
  assert.deepEqual(chunks[4].meta_info.finish_reason, { type: 'length', length: 5 });
  assert.equal(chunks[3].meta_info.finish_reason, null);
  assert.equal(typeof chunks[4].meta_info.e2e_latency, 'number');
});

test('/generate without stream answers one object; a batch answers a list', async () => {
  const one = (await (await post(server.url + '/generate', { input_ids: [1, 2, 3, 4], sampling_params: { max_new_tokens: 3, ignore_eos: true } })).json()) as { meta_info: Record<string, unknown> };
  assert.equal(one.meta_info.prompt_tokens, 4);
  assert.equal(one.meta_info.completion_tokens, 3);
  const batch = (await (await post(server.url + '/generate', { text: ['a', 'b c'], sampling_params: { max_new_tokens: 2, ignore_eos: true } })).json()) as unknown[];
  assert.equal(batch.length, 2);
});

test('/v1/completions streams text_completion chunks and a usage-only chunk with include_usage', async () => {
  const r = await post(server.url + '/v1/completions', { model: 'ds-v3', prompt: 'Say hi', max_tokens: 4, ignore_eos: true, stream: true, stream_options: { include_usage: true } });
  const events = await sseEvents(r);
  assert.equal(events.at(-1), '[DONE]');
  const chunks = json(events) as { id: string; object: string; model: string; choices: { index: number; text: string; finish_reason: string | null; logprobs: unknown }[]; usage: Record<string, number> | null }[];
  assert.equal(chunks.length, 5);
  for (const c of chunks.slice(0, 4)) {
    assert.equal(c.object, 'text_completion');
    assert.equal(c.model, 'ds-v3');
    assert.match(c.id, /^cmpl-[0-9a-f]{32}$/);
    assert.equal(c.choices.length, 1);
    assert.equal(countTextTokens(c.choices[0].text), 1);
  }
  assert.equal(chunks[3].choices[0].finish_reason, 'length');
  assert.equal(chunks[2].choices[0].finish_reason, null);
  const usage = chunks[4];
  assert.deepEqual(usage.choices, []);
  assert.deepEqual(usage.usage, { prompt_tokens: countPromptTokens('Say hi'), total_tokens: countPromptTokens('Say hi') + 4, completion_tokens: 4, reasoning_tokens: 0 });
});

test('/v1/completions without stream_options sends no usage chunk; continuous_usage_stats adds usage to every chunk', async () => {
  const plain = json(await sseEvents(await post(server.url + '/v1/completions', { prompt: 'x', max_tokens: 3, ignore_eos: true, stream: true })));
  assert.equal(plain.length, 3);
  assert.ok(plain.every((c) => c.usage === null));
  const cont = json(await sseEvents(await post(server.url + '/v1/completions', { prompt: 'x', max_tokens: 3, ignore_eos: true, stream: true, stream_options: { include_usage: true, continuous_usage_stats: true } })));
  assert.deepEqual(cont.slice(0, 3).map((c) => (c.usage as { completion_tokens: number }).completion_tokens), [1, 2, 3]);
});

test('/v1/completions non-streaming answers a text_completion with usage; SGLang defaults max_tokens to 16', async () => {
  const body = (await (await post(server.url + '/v1/completions', { prompt: 'x', ignore_eos: true })).json()) as { object: string; choices: { text: string; finish_reason: string }[]; usage: { completion_tokens: number } };
  assert.equal(body.object, 'text_completion');
  assert.equal(body.usage.completion_tokens, 16);
  assert.equal(countTextTokens(body.choices[0].text), 16);
});

test('/v1/chat/completions streams a role chunk, content deltas, a finish chunk and the usage chunk', async () => {
  const r = await post(server.url + '/v1/chat/completions', { model: 'ds-v3', messages: [{ role: 'user', content: 'hi' }], max_completion_tokens: 3, ignore_eos: true, stream: true, stream_options: { include_usage: true } });
  const chunks = json(await sseEvents(r)) as { object: string; choices: { delta: Record<string, unknown>; finish_reason: string | null }[]; usage?: Record<string, unknown> }[];
  assert.equal(chunks.length, 1 + 3 + 1 + 1);
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk'));
  assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
  for (const c of chunks.slice(1, 4)) assert.equal(countTextTokens(String(c.choices[0].delta.content)), 1);
  assert.deepEqual(chunks[4].choices[0].delta, {});
  assert.equal(chunks[4].choices[0].finish_reason, 'length');
  assert.deepEqual(chunks[5].choices, []);
  assert.equal((chunks[5].usage as { completion_tokens: number }).completion_tokens, 3);
  assert.equal((chunks[5].usage as { prompt_tokens: number }).prompt_tokens, 4);
});

test('/v1/chat/completions non-streaming answers a chat.completion with the message', async () => {
  const body = (await (await post(server.url + '/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }], max_tokens: 2, ignore_eos: true })).json()) as { object: string; choices: { message: { role: string; content: string } }[] };
  assert.equal(body.object, 'chat.completion');
  assert.equal(body.choices[0].message.role, 'assistant');
  assert.equal(countTextTokens(body.choices[0].message.content), 2);
});

test('without ignore_eos a response can stop by itself: finish_reason stop with the EOS id', async () => {
  const body = (await (await post(server.url + '/generate', { text: 'tell me a story', sampling_params: { max_new_tokens: 100000 } })).json()) as { meta_info: { finish_reason: { type: string; matched?: number }; completion_tokens: number } };
  assert.equal(body.meta_info.finish_reason.type, 'stop');
  assert.equal(body.meta_info.finish_reason.matched, 1);
  assert.ok(body.meta_info.completion_tokens > 0 && body.meta_info.completion_tokens < 100000);
});

test('errors look like SGLang: 400 on bad JSON, on a wrong content type, on an empty prompt; 404 on unknown routes', async () => {
  const bad = await post(server.url + '/v1/completions', '{not json');
  assert.equal(bad.status, 400);
  const b = (await bad.json()) as Record<string, unknown>;
  assert.equal(b.object, 'error');
  assert.equal(b.code, 400);
  const ct = await post(server.url + '/v1/completions', { prompt: 'x' }, { 'content-type': 'text/plain' });
  assert.equal(ct.status, 400);
  assert.match(String(((await ct.json()) as { message: string }).message), /Only 'application\/json' is allowed/);
  const empty = await post(server.url + '/v1/completions', { prompt: '' });
  assert.equal(empty.status, 400);
  assert.equal(((await empty.json()) as { message: string }).message, 'Prompt cannot be empty');
  const gen = await post(server.url + '/generate', { sampling_params: {} });
  assert.equal(gen.status, 400);
  assert.deepEqual(await gen.json(), { error: { message: 'Either text, input_ids or input_embeds should be provided.' } });
  const nf = await fetch(server.url + '/nope');
  assert.equal(nf.status, 404);
  assert.deepEqual(await nf.json(), { detail: 'Not Found' });
});

test('/flush_cache refuses while requests run and flushes when idle', async () => {
  const running = post(timed.url + '/generate', { text: 'x', sampling_params: { max_new_tokens: 20000, ignore_eos: true }, stream: true });
  const res = await running;
  const reader = res.body?.getReader();
  await reader?.read();
  const busy = await post(timed.url + '/flush_cache', '');
  assert.equal(busy.status, 400);
  assert.match(await busy.text(), /^Cache flushed\.\nPlease check backend logs/);
  await reader?.cancel();
  await new Promise((r) => setTimeout(r, 50));
  const idle = await post(timed.url + '/flush_cache?timeout=5', '');
  assert.equal(idle.status, 200);
});

test('/metrics exposes SGLang names, types and labels, and counts what was served', async () => {
  await (await post(timed.url + '/generate', { text: 'metrics please', sampling_params: { max_new_tokens: 4, ignore_eos: true } })).json();
  const r = await fetch(timed.url + '/metrics');
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0.0.4/);
  const text = await r.text();
  for (const [name, type] of [
    ['sglang:num_running_reqs', 'gauge'],
    ['sglang:num_queue_reqs', 'gauge'],
    ['sglang:token_usage', 'gauge'],
    ['sglang:gen_throughput', 'gauge'],
    ['sglang:cache_hit_rate', 'gauge'],
    ['sglang:prompt_tokens', 'counter'],
    ['sglang:generation_tokens', 'counter'],
    ['sglang:time_to_first_token_seconds', 'histogram'],
    ['sglang:inter_token_latency_seconds', 'histogram'],
    ['sglang:e2e_request_latency_seconds', 'histogram'],
    ['sglang:eplb_balancedness', 'summary'],
  ]) {
    assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'), name);
  }
  assert.match(text, /^sglang:num_running_reqs\{model_name="deepseek-ai\/DeepSeek-V3",engine_type="unified",tp_rank="0",pp_rank="0",moe_ep_rank="0",dp_rank="0"\} /m);
  const s = promSamples(text);
  assert.ok(sumMetric(s, 'sglang:generation_tokens_total') >= 4);
  assert.ok(sumMetric(s, 'sglang:num_requests_total') >= 1);
  assert.ok(sumMetric(s, 'sglang:time_to_first_token_seconds_count') >= 1);
  // observability/metrics_collector.py (@016d8605) adds is_streaming to TTFT; 0.5.15 claims that layout
  assert.match(text, /sglang:time_to_first_token_seconds_bucket\{model_name="deepseek-ai\/DeepSeek-V3",engine_type="unified",is_streaming="false",le="\+Inf"\} /);
});

test('expert distribution: start, stop and dump write logical_count [passes][layers][experts] and the layout', async () => {
  assert.equal(await (await post(timed.url + '/start_expert_distribution_record', '')).text(), 'Start recording the expert distribution.\n');
  await (await post(timed.url + '/generate', { text: 'route me', sampling_params: { max_new_tokens: 3, ignore_eos: true } })).json();
  assert.equal(await (await post(timed.url + '/stop_expert_distribution_record', '')).text(), 'Stop recording the expert distribution.\n');
  assert.equal(await (await post(timed.url + '/dump_expert_distribution_record', '')).text(), 'Dump expert distribution record.\n');
  const files = readdirSync(dumpDir).filter((f) => /^expert_distribution_recorder_[\d.]+\.json$/.test(f));
  assert.equal(files.length, 1);
  const dump = JSON.parse(readFileSync(join(dumpDir, files[0]), 'utf8')) as { logical_count: number[][][]; physical_to_logical_map: number[][]; rank: number };
  assert.equal(dump.rank, 0);
  assert.ok(dump.logical_count.length >= 3, 'prefill pass + decode passes');
  assert.equal(dump.logical_count[0].length, 58);
  assert.equal(dump.logical_count[0][0].length, 256);
  assert.equal(dump.physical_to_logical_map.length, 58);
  const tokensInFirstPass = dump.logical_count[0][0].reduce((a, b) => a + b, 0);
  assert.ok(tokensInFirstPass > 0);
});

test('/slow_down adds forward sleep; null turns it off', async () => {
  assert.equal((await post(timed.url + '/slow_down', { forward_sleep_time: 0.5 })).status, 200);
  assert.equal((await post(timed.url + '/slow_down', { forward_sleep_time: null })).status, 200);
  assert.equal((await post(timed.url + '/slow_down', { forward_sleep_time: 'x' })).status, 400);
});
