import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { startSimServer, type SimServer } from '../../../src/core/sim';
import { runBenchmark, type BenchmarkConfig } from '../../../src/core/bench/benchmark';

// the emulator with its performance model (prefill cost grows with the uncached prompt tokens)
// and its radix-cache stand-in; model time runs 20x faster than real time
let sim: SimServer;
const fixtures = path.join(__dirname, '..', '..', 'fixtures', 'workloads');

before(async () => {
  sim = await startSimServer({ seed: 3, port: 0, timeScale: 0.05, shape: { enableCacheReport: true } });
});
after(async () => {
  await sim.close();
});

function config(over: Partial<BenchmarkConfig>): BenchmarkConfig {
  return {
    name: 'workload',
    url: sim.url,
    api: 'generate',
    dataset: { name: 'random', numPrompts: 1, seed: 7 },
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

test('a Mooncake trace replayed over HTTP gets the exact input lengths and reproduces its theoretical hit rate', async () => {
  const out = await runBenchmark(config({ baseDir: fixtures, workload: { kind: 'trace', path: 'mooncake-sample.jsonl', format: 'mooncake', timeScale: 0.02, seed: 7 } }), { toolVersion: 'test' });
  assert.equal(out.summary.completed, 39, JSON.stringify(out.validity));
  const trace = (await import('node:fs')).readFileSync(path.join(fixtures, 'mooncake-sample.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { input_length: number });
  // input_ids go out as the trace says: the server counts exactly input_length tokens
  assert.deepEqual(out.records.map((r) => r.promptTokens).sort((a, b) => (a ?? 0) - (b ?? 0)), trace.map((t) => t.input_length).sort((a, b) => a - b));
  const w = out.workload;
  assert.ok(w);
  assert.ok(w.summary.expected.hitRate > 0.3, `the trace reuses prefixes: expected ${w.summary.expected.hitRate}`);
  assert.ok(w.measuredHitRate !== null);
  assert.ok(Math.abs(w.measuredHitRate - w.summary.expected.hitRate) < 0.03, `measured ${w.measuredHitRate} vs expected ${w.summary.expected.hitRate}`);
});

test("promptStyle sglang replays bench_serving's own Mooncake prompts (~129 tokens per hash id) with their reuse", async () => {
  const out = await runBenchmark(config({ baseDir: fixtures, workers: 0, workload: { kind: 'trace', path: 'mooncake-sample.jsonl', format: 'mooncake', timeScale: 0.01, seed: 7, promptStyle: 'sglang' } }), { toolVersion: 'test' });
  assert.equal(out.summary.completed, 39);
  // input_length is not used: 4 hash ids make a prompt of ~4 x 129 tokens, not 1,786
  assert.ok(out.records.every((r) => (r.promptTokens ?? 0) < 140 * 8));
  const w = out.workload;
  assert.ok(w && w.measuredHitRate !== null && w.summary.expected.hitRate > 0.3);
  assert.ok(Math.abs(w.measuredHitRate - w.summary.expected.hitRate) < 0.05, `${w.measuredHitRate} vs ${w.summary.expected.hitRate}`);
});

test('a second replay of the same trace finds nothing of the first in the cache (the salt changes every block)', async () => {
  const spec = { kind: 'trace' as const, path: 'mooncake-sample.jsonl', format: 'mooncake' as const, timeScale: 0.01, seed: 7, maxRequests: 3 };
  await runBenchmark(config({ baseDir: fixtures, workload: spec, warmupRequests: 0, workers: 0 }), { toolVersion: 'test' });
  const again = await runBenchmark(config({ baseDir: fixtures, workload: spec, warmupRequests: 0, workers: 0 }), { toolVersion: 'test' });
  // requests 1..3 share only with each other, as in the first run
  assert.ok(again.workload && again.workload.measuredHitRate !== null);
  assert.ok(Math.abs(again.workload.measuredHitRate - again.workload.summary.expected.hitRate) < 0.03, `${again.workload.measuredHitRate} vs ${again.workload.summary.expected.hitRate}`);
});

test('multi-turn conversations: later turns find their history in the cache and their TTFT falls', async (t) => {
  const out = await runBenchmark(
    config({
      api: 'chat',
      workload: {
        kind: 'conversations',
        source: 'generated',
        conversations: 8,
        turns: { kind: 'constant', value: 4 },
        // a long opening document, then short questions (chat over a document); long enough that
        // turn 1's prefill in the emulator's model stands well above the CPU noise of a loaded
        // machine (with 3,000 tokens, turn 2 measured 131 ms against turn 1's 96 ms once)
        prefixTokens: { kind: 'constant', value: 16000 },
        inputTokens: { kind: 'constant', value: 100 },
        outputTokens: { kind: 'constant', value: 16 },
        sharedPrefixTokens: 0,
        start: { kind: 'concurrency', sessions: 2 },
        thinkTimeSec: { kind: 'constant', value: 0.01 },
        seed: 5,
      },
    }),
    { toolVersion: 'test' },
  );
  assert.equal(out.summary.completed, 32, JSON.stringify(out.validity));
  const byTurn = out.workload?.byTurn ?? [];
  assert.deepEqual(byTurn.map((t) => [t.turn, t.requests]), [[1, 8], [2, 8], [3, 8], [4, 8]]);
  // turn 1 has nothing cached; turn k finds turns 1..k-1 and their replies (all but its new question)
  assert.ok((byTurn[0].cacheHitRate ?? 1) < 0.02, JSON.stringify(byTurn[0]));
  for (const x of byTurn.slice(1)) assert.ok((x.cacheHitRate ?? 0) > 0.9, JSON.stringify(x));
  // prompts grow with every turn ...
  for (let k = 1; k < 4; k++) assert.ok((byTurn[k].promptTokensMean ?? 0) > (byTurn[k - 1].promptTokensMean ?? 0) + 100);
  // ... while only the new question is prefilled: TTFT falls after the first turn
  const first = byTurn[0].ttftMeanMs ?? 0;
  t.diagnostic(`mean TTFT by turn: ${byTurn.map((x) => `${x.turn}: ${x.ttftMeanMs?.toFixed(1)} ms`).join(', ')}`);
  for (const x of byTurn.slice(1)) assert.ok((x.ttftMeanMs ?? Infinity) < first, `turn ${x.turn}: ${x.ttftMeanMs} ms vs turn 1 ${first} ms`);
  assert.equal(out.workload?.sessions?.completed, 8);
  // the run's expected reuse is stated next to the measured one
  const w = out.workload;
  assert.ok(w && w.measuredHitRate !== null && Math.abs(w.measuredHitRate - w.summary.expected.hitRate) < 0.05, `${w?.measuredHitRate} vs ${w?.summary.expected.hitRate}`);
});

test('a conversations file (OpenAI and ShareGPT layouts) runs turn by turn with the history appended', async () => {
  const out = await runBenchmark(
    config({ api: 'chat', baseDir: fixtures, workload: { kind: 'conversations', source: 'file', path: 'conversations.json', start: { kind: 'rate', sessionsPerSec: 50 }, thinkTimeSec: { kind: 'exponential', mean: 0.01 }, seed: 1 }, workers: 2 }),
    { toolVersion: 'test' },
  );
  assert.equal(out.summary.completed, 3 + 2 + 2);
  const c1 = out.records.filter((r) => r.session === 0).sort((a, b) => (a.turn ?? 0) - (b.turn ?? 0));
  assert.deepEqual(c1.map((r) => r.turn), [0, 1, 2]);
  // each turn's prompt holds the one before it, its reply and the new question
  for (let k = 1; k < c1.length; k++) assert.ok((c1[k].promptTokens ?? 0) > (c1[k - 1].promptTokens ?? 0) + (c1[k - 1].outputTokens ?? 0));
});

test('Azure and BurstGPT CSV traces replay their lengths exactly, with no prefix shared', async () => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const os = await import('node:os');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'moebench-traces-'));
  try {
    await writeFile(path.join(dir, 'azure.csv'), 'TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,700,5\n2023-11-16 18:15:46.6905900,300,7\n2023-11-16 18:15:46.7005900,1200,3\n');
    await writeFile(path.join(dir, 'burst.csv'), 'Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n0,ChatGPT,400,6,406,Conversation log\n0.01,ChatGPT,999,0,999,Conversation log\n0.02,GPT-4,250,4,254,Conversation log\n');
    for (const [file, format, lens] of [['azure.csv', 'azure', [700, 300, 1200]], ['burst.csv', 'burstgpt', [400, 250]]] as const) {
      const out = await runBenchmark(config({ baseDir: dir, workers: 0, workload: { kind: 'trace', path: file, format, seed: 2 } }), { toolVersion: 'test' });
      assert.deepEqual(out.records.map((r) => r.promptTokens), [...lens], format);
      assert.equal(out.workload?.summary.expected.hitRate, 0);
      assert.ok((out.workload?.measuredHitRate ?? 1) < 0.02, `${format}: ${out.workload?.measuredHitRate}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('agentic sessions: every agent after the first finds the shared system prompt, and each call its growing context', async () => {
  const out = await runBenchmark(
    config({
      api: 'completions',
      workers: 0,
      workload: {
        kind: 'conversations',
        source: 'agentic',
        agents: 4,
        calls: { kind: 'constant', value: 5 },
        systemPromptTokens: 2000,
        toolOutputTokens: { kind: 'uniform', min: 50, max: 200 },
        outputTokens: { kind: 'constant', value: 12 },
        start: { kind: 'concurrency', sessions: 4 },
        thinkTimeSec: { kind: 'constant', value: 0 },
        seed: 9,
      },
    }),
    { toolVersion: 'test' },
  );
  assert.equal(out.summary.completed, 20);
  const w = out.workload;
  assert.ok(w?.byTurn && w.measuredHitRate !== null);
  // the later calls of a chain find nearly all of their context
  for (const t of w.byTurn.slice(1)) assert.ok((t.cacheHitRate ?? 0) > 0.85, JSON.stringify(t));
  assert.ok(Math.abs(w.measuredHitRate - w.summary.expected.hitRate) < 0.05, `${w.measuredHitRate} vs ${w.summary.expected.hitRate}`);
});
