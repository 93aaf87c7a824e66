import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { startSimServer, type SimServer } from '../../../src/core/sim';
import { runBenchmark, type BenchmarkConfig } from '../../../src/core/bench/benchmark';
import { readRequests, readRunMeta, readRunResult } from '../../../src/core/results';
import type { LiveRun } from '../../../src/core/bench/benchmark';
import type { ApiKind } from '../../../src/core/metrics/record';

let sim: SimServer;
let store: string;

before(async () => {
  sim = await startSimServer({ zeroCost: true, seed: 1, port: 0 });
  store = await mkdtemp(path.join(os.tmpdir(), 'moebench-load-'));
});
after(async () => {
  await sim.close();
  await rm(store, { recursive: true, force: true });
});

function config(over: Partial<BenchmarkConfig> = {}): BenchmarkConfig {
  return {
    name: 'it',
    url: sim.url,
    api: 'generate',
    dataset: { name: 'random', numPrompts: 24, seed: 3, inputLen: 64, outputLen: 16, rangeRatio: 0.5 },
    cacheBust: true,
    requestRate: Infinity,
    burstiness: 1,
    warmupRequests: 1,
    definition: 'sglang',
    percentiles: [50, 99],
    payload: { temperature: 0, ignoreEos: true },
    ...over,
  };
}

for (const api of ['generate', 'completions', 'chat'] as ApiKind[]) {
  test(`${api}: every request streams to completion with the server's exact token counts`, async () => {
    const out = await runBenchmark(config({ api }), { runStoreDir: store, toolVersion: 'test' });
    const s = out.summary;
    assert.equal(s.completed, 24, JSON.stringify(out.validity));
    assert.equal(s.failed, 0);
    const requested = out.records.reduce((a, r) => a + r.maxTokens, 0);
    assert.equal(s.totalOutputTokens, requested);
    assert.ok(out.records.every((r) => r.outputTokens === r.maxTokens && r.text.length > 0));
    assert.ok(s.ttftMs.mean !== null && s.ttftMs.mean > 0);
    // one ITL per token after the first (the emulator streams one token per chunk)
    assert.equal(s.itlMs.count, requested - 24);
    assert.equal(out.simulated, true);
    const byId = new Map(out.validity.map((c) => [c.id, c.level]));
    assert.equal(byId.get('token-counts'), 'ok', JSON.stringify(out.validity));
    assert.equal(byId.get('error-rate'), 'ok');
    // /generate always reports cached_tokens; the OpenAI routes only with --enable-cache-report
    assert.equal(byId.get('warm-cache'), api === 'generate' ? 'ok' : undefined);
    // the run store holds the warmup plus every request, and the summary
    const dir = out.runDir ?? '';
    assert.equal((await readRequests(dir)).length, 25);
    assert.equal((await readRunResult(dir)).summary.completed, 24);
    const meta = await readRunMeta(dir);
    assert.equal(meta.status, 'completed');
    assert.equal(meta.target.simulated, true);
    assert.equal(meta.provenance.engineVersion, '0.5.15');
    assert.ok(meta.provenance.serverInfo);
  });
}

test('closed loop: max concurrency bounds the requests in flight and queue time is recorded', async () => {
  const out = await runBenchmark(config({ maxConcurrency: 4, dataset: { name: 'random', numPrompts: 40, seed: 1, inputLen: 32, outputLen: 64, rangeRatio: 1 } }), { toolVersion: 'test' });
  assert.equal(out.summary.completed, 40);
  assert.ok(out.summary.maxConcurrentRequests >= 1);
  // never more than 4 overlapping [start, end) intervals
  const ev = out.records.flatMap((r) => [[r.startMs, 1] as const, [r.startMs + r.lastLineMs, -1] as const]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  let peak = 0;
  for (const [, d] of ev) peak = Math.max(peak, (cur += d));
  assert.ok(peak <= 4, `peak ${peak}`);
  assert.ok((out.summary.clientQueueMs.max ?? 0) > 0);
});

test('Poisson arrivals at a finite rate are dispatched against their schedule', async () => {
  const out = await runBenchmark(config({ requestRate: 200, dataset: { name: 'random', numPrompts: 60, seed: 2, inputLen: 16, outputLen: 4, rangeRatio: 1 } }), { toolVersion: 'test' });
  assert.equal(out.summary.completed, 60);
  const sched = out.records.map((r) => r.scheduledMs);
  assert.ok(sched.every((t, i) => i === 0 || t >= sched[i - 1]));
  assert.ok(sched[59] > 0);
  assert.ok(out.records.every((r) => r.dispatchedMs >= r.scheduledMs));
  assert.ok(out.validity.some((c) => c.id === 'rate'));
});

test('constant rate with a concurrency cap, and stop by duration', async () => {
  // a cap above what the window can hold (31): an arrival held at a full gate past the deadline is
  // not sent (runner.ts), so with a tight cap the count would depend on how fast a loaded machine answers
  const out = await runBenchmark(config({ requestRate: 100, burstiness: Infinity, maxConcurrency: 32, durationSec: 0.3, dataset: { name: 'random', numPrompts: 5, seed: 2, inputLen: 16, outputLen: 4, rangeRatio: 1 } }), { toolVersion: 'test' });
  // planned at 0, 10, ..., 300 ms; rows repeat
  assert.equal(out.records.length, 31);
  assert.deepEqual(out.records.slice(0, 3).map((r) => r.scheduledMs), [0, 10, 20]);
  assert.equal(out.records[7].row, 2);
});

test('trace replay sends at the trace times with the trace sizes', async () => {
  const trace = path.resolve(__dirname, '../../fixtures/datasets/trace-sample.jsonl');
  const out = await runBenchmark(config({ trace: { path: trace, timeScale: 0.5 }, cacheBust: false }), { toolVersion: 'test' });
  assert.deepEqual(out.records.map((r) => r.scheduledMs), [0, 25, 60]);
  assert.deepEqual(out.records.map((r) => r.maxTokens), [8, 6, 4]);
  assert.deepEqual(out.records.map((r) => r.outputTokens), [8, 6, 4]);
});

test('vLLM definitions over the same HTTP stream: chat TTFT starts at the role chunk', async () => {
  const s = await runBenchmark(config({ api: 'chat', definition: 'vllm' }), { toolVersion: 'test' });
  assert.equal(s.summary.completed, 24);
  assert.equal(s.summary.definition, 'vllm');
  // vLLM counts the role chunk and the finish chunk as chunks too
  const requested = s.records.reduce((a, r) => a + r.maxTokens, 0);
  assert.equal(s.summary.itlMs.count, requested + 24);
});

test('cancellation mid-run keeps every finished request in the store', async () => {
  const ac = new AbortController();
  // stop once a few requests have finished, whatever the machine's speed
  const watch = setInterval(() => {
    if ((live?.progress().completed ?? 0) >= 3) ac.abort();
  }, 5);
  let live: LiveRun | undefined;
  const out = await runBenchmark(config({ maxConcurrency: 2, dataset: { name: 'random', numPrompts: 100000, seed: 1, inputLen: 16, outputLen: 200, rangeRatio: 1 } }), { runStoreDir: store, toolVersion: 'test', signal: ac.signal, onStart: (r) => (live = r) });
  clearInterval(watch);
  assert.equal(out.cancelled, true);
  assert.ok(out.summary.completed > 0);
  const dir = out.runDir ?? '';
  const stored = await readRequests(dir);
  assert.equal(stored.filter((r) => !r.warmup).length, out.records.length);
  assert.equal((await readRunMeta(dir)).status, 'cancelled');
  assert.match(await readFile(path.join(dir, 'summary.json'), 'utf8'), /"cancelled": true/);
});

test('a server that is not there fails the warmup with a clear error', async () => {
  await assert.rejects(runBenchmark(config({ url: 'http://127.0.0.1:1' }), { toolVersion: 'test' }), /Warmup failed: ECONNREFUSED/);
});
