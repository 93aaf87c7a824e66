import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { startSimServer } from '../../../src/core/sim/server';
import { startSimRouter } from '../../../src/core/sim/router';
import { countTextTokens } from '../../../src/core/sim/tokenizer';
import { json, post, promSamples, sseEvents, sumMetric } from './helpers';

test('PD router: prefill and decode servers plus the router behave as one SGLang service', async () => {
  const prefill = await startSimServer({ role: 'prefill', seed: 2, timeScale: 0.02 });
  const decode = await startSimServer({ role: 'decode', seed: 2, timeScale: 0.02 });
  const router = await startSimRouter({ prefill: [prefill.url], decode: [decode.url] });
  try {
    const r = await post(router.url + '/v1/completions', { prompt: 'disaggregated', max_tokens: 6, ignore_eos: true, stream: true, stream_options: { include_usage: true } });
    assert.equal(r.status, 200);
    const chunks = json(await sseEvents(r));
    const texts = chunks.filter((c) => (c.choices as unknown[]).length > 0).map((c) => (c.choices as { text: string }[])[0].text);
    assert.equal(texts.length, 6);
    assert.equal(countTextTokens(texts.join('')), 6);
    assert.equal((chunks.at(-1)?.usage as { completion_tokens: number }).completion_tokens, 6);
    const gen = (await (await post(router.url + '/generate', { text: 'again', sampling_params: { max_new_tokens: 4, ignore_eos: true } })).json()) as { meta_info: { completion_tokens: number } };
    assert.equal(gen.meta_info.completion_tokens, 4);
    // the prefill did the prompt work, the decode the generation
    const pm = promSamples(await (await fetch(prefill.url + '/metrics')).text());
    const dm = promSamples(await (await fetch(decode.url + '/metrics')).text());
    assert.ok(sumMetric(pm, 'sglang:realtime_tokens_total', 'mode="prefill_compute"') > 0);
    assert.equal(sumMetric(dm, 'sglang:realtime_tokens_total', 'mode="prefill_compute"'), 0);
    assert.ok(sumMetric(dm, 'sglang:realtime_tokens_total', 'mode="decode"') > 0);
    assert.match(await (await fetch(decode.url + '/metrics')).text(), /engine_type="decode"/);
    // behind the router, server_info is per role
    const info = (await (await fetch(router.url + '/get_server_info')).json()) as { prefill: { disaggregation_mode: string }[]; decode: { disaggregation_mode: string }[] };
    assert.equal(info.prefill[0].disaggregation_mode, 'prefill');
    assert.equal(info.decode[0].disaggregation_mode, 'decode');
  } finally {
    await router.close();
    await prefill.close();
    await decode.close();
  }
});

test('the PD router adds bootstrap_host, bootstrap_port and bootstrap_room to both requests', async () => {
  const seen: Record<string, unknown>[] = [];
  const { createServer } = await import('node:http');
  const fake = (role: string) =>
    new Promise<{ url: string; close: () => void }>((resolve) => {
      const s = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          if (req.url === '/server_info') {
            res.end(JSON.stringify({ disaggregation_bootstrap_port: 8998 }));
            return;
          }
          seen.push({ role, ...(JSON.parse(body) as Record<string, unknown>) });
          res.setHeader('content-type', 'application/json');
          res.end('{"text":"","meta_info":{}}');
        });
      });
      s.listen(0, '127.0.0.1', () => {
        const a = s.address();
        resolve({ url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`, close: () => s.close() });
      });
    });
  const p = await fake('prefill');
  const d = await fake('decode');
  const router = await startSimRouter({ prefill: [p.url], decode: [d.url] });
  try {
    await (await post(router.url + '/generate', { text: 'x' })).text();
    assert.equal(seen.length, 2);
    for (const s of seen) {
      assert.equal(s.bootstrap_host, '127.0.0.1');
      assert.equal(s.bootstrap_port, 8998);
      assert.equal(typeof s.bootstrap_room, 'number');
    }
    assert.equal(seen[0].bootstrap_room, seen[1].bootstrap_room);
  } finally {
    await router.close();
    p.close();
    d.close();
  }
});

test('round-robin router spreads requests over its workers', async () => {
  const a = await startSimServer({ zeroCost: true, seed: 1 });
  const b = await startSimServer({ zeroCost: true, seed: 1 });
  const router = await startSimRouter({ prefill: [], decode: [], mode: 'round_robin', workers: [a.url, b.url] });
  try {
    for (let i = 0; i < 4; i++) await (await post(router.url + '/v1/completions', { prompt: 'x', max_tokens: 2 })).json();
    const count = async (url: string) => sumMetric(promSamples(await (await fetch(url + '/metrics')).text()), 'sglang:num_requests_total');
    assert.equal(await count(a.url), 2);
    assert.equal(await count(b.url), 2);
  } finally {
    await router.close();
    await a.close();
    await b.close();
  }
});
