import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { request } from 'node:http';
import { startSimServer } from '../../../src/core/sim/server';
import type { FaultOptions } from '../../../src/core/sim/faults';
import { post } from './helpers';

async function withServer(faults: FaultOptions, zeroCost: boolean, fn: (url: string, crashed: Promise<void>) => Promise<void>): Promise<void> {
  const s = await startSimServer({ faults, zeroCost, seed: 1, timeScale: 0.02 });
  try {
    await fn(s.url, s.crashed);
  } finally {
    await s.close();
  }
}

/** raw HTTP so a truncated body shows as what it is: an aborted response */
function rawStream(url: string, body: unknown): Promise<{ text: string; complete: boolean; gapsMs: number[] }> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const data = JSON.stringify(body);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      let text = '';
      let last = performance.now();
      const gapsMs: number[] = [];
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        const now = performance.now();
        gapsMs.push(now - last);
        last = now;
        text += c;
      });
      res.on('end', () => resolve({ text, complete: res.complete, gapsMs }));
      res.on('error', () => resolve({ text, complete: false, gapsMs }));
      res.on('aborted', () => resolve({ text, complete: false, gapsMs }));
    });
    req.on('error', () => resolve({ text: '', complete: false, gapsMs: [] }));
    req.end(data);
  });
}

test('crash after N requests: request N+1 gets its connection reset and the port closes', async () => {
  await withServer({ crashAfterRequests: 2 }, true, async (url, crashed) => {
    for (let i = 0; i < 2; i++) assert.equal((await post(url + '/generate', { text: 'x', sampling_params: { max_new_tokens: 2 } })).status, 200);
    await assert.rejects(post(url + '/generate', { text: 'x', sampling_params: { max_new_tokens: 2 } }));
    await crashed;
    await assert.rejects(fetch(url + '/health'));
  });
});

test('crash at time T takes the server down mid-stream', async () => {
  await withServer({ crashAtMs: 300 }, false, async (url, crashed) => {
    const r = await rawStream(url + '/generate', { text: 'x', sampling_params: { max_new_tokens: 100000, ignore_eos: true }, stream: true });
    await crashed;
    assert.equal(r.complete, false);
    assert.ok(!r.text.includes('[DONE]'));
  });
});

test('5xx at rate p: that share of requests answers 500 with SGLang error JSON', async () => {
  await withServer({ errorRate: 0.5 }, true, async (url) => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await post(url + '/v1/completions', { prompt: 'x', max_tokens: 2 });
      statuses.push(r.status);
      if (r.status === 500) assert.deepEqual(await r.json(), { object: 'error', message: 'Simulated fault: internal server error', type: 'InternalServerError', param: null, code: 500 });
      else await r.text();
    }
    const errors = statuses.filter((s) => s === 500).length;
    assert.ok(errors > 8 && errors < 32, `${errors} of 40 failed`);
  });
});

test('a stalled stream goes silent for T after N tokens and then completes', async () => {
  await withServer({ stallAfterTokens: 3, stallMs: 400 }, true, async (url) => {
    const r = await rawStream(url + '/v1/completions', { prompt: 'x', max_tokens: 10, ignore_eos: true, stream: true });
    assert.equal(r.complete, true);
    assert.ok(r.text.endsWith('data: [DONE]\n\n'));
    assert.equal((r.text.match(/"text":/g) ?? []).length, 10);
    assert.ok(Math.max(...r.gapsMs) >= 300, `largest gap ${Math.max(...r.gapsMs)} ms`);
  });
});

test('a dropped connection ends the stream mid-way without [DONE]', async () => {
  for (const zeroCost of [true, false]) {
    await withServer({ dropAfterTokens: 5 }, zeroCost, async (url) => {
      const r = await rawStream(url + '/v1/completions', { prompt: 'x', max_tokens: 50, ignore_eos: true, stream: true });
      assert.equal(r.complete, false);
      assert.equal((r.text.match(/"text":/g) ?? []).length, 5);
      assert.ok(!r.text.includes('[DONE]'));
    });
  }
});

test('failing health answers 503; slow health answers late', async () => {
  await withServer({ healthFailing: true }, true, async (url) => {
    assert.equal((await fetch(url + '/health')).status, 503);
    assert.equal((await fetch(url + '/health_generate')).status, 503);
  });
  await withServer({ healthDelayMs: 300 }, true, async (url) => {
    const t0 = performance.now();
    assert.equal((await fetch(url + '/health')).status, 200);
    assert.ok(performance.now() - t0 >= 250);
  });
});
