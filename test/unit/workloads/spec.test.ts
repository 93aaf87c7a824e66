import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchSpecSchema } from '../../../src/core/spec/bench-spec';
import { workloadSpecOf } from '../../../src/core/load/workloads/spec';

const issues = (workload: Record<string, unknown>, load: Record<string, unknown> = {}): string[] => {
  const r = benchSpecSchema.safeParse({ name: 'b', target: 'http://127.0.0.1:1', workload, load });
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

test('the bench cell accepts a Mooncake trace and generated or agentic sessions', () => {
  assert.deepEqual(issues({ trace: 't.jsonl', format: 'mooncake', blockSize: 512, timeScale: 0.5 }), []);
  assert.deepEqual(issues({ conversations: { count: 4, turns: { uniform: [2, 6] }, inputTokens: 100, outputTokens: { lognormal: { mean: 80, sigma: 0.5 } } }, sessions: { rate: 2 }, thinkTimeSec: { exponential: 3 } }), []);
  assert.deepEqual(issues({ agents: { count: 8, calls: 12, systemPromptTokens: 4000, toolOutputTokens: { uniform: [200, 800] }, outputTokens: 40 }, sessions: { concurrency: 8 } }), []);
});

test('the bench cell refuses workload fields that do not fit together, at the field', () => {
  assert.deepEqual(issues({ trace: 't.jsonl' }), ['workload.format: a trace needs its format: mooncake, azure or burstgpt']);
  assert.match(issues({ trace: 't.jsonl', format: 'mooncake' }, { trace: 'x.jsonl' })[0], /^workload\.trace: workload\.trace and load\.trace both/);
  assert.match(issues({ thinkTimeSec: 2 })[0], /^workload\.thinkTimeSec: thinkTimeSec applies to conversations or agents/);
  assert.match(issues({ trace: 'a.csv', format: 'azure', conversations: 'c.json' })[0], /^workload\.conversations: a trace and multi-turn sessions/);
  assert.match(issues({ conversations: 'c.json', sessions: { rate: 0 } })[0], /^workload\.sessions/);
});

test('the cell spec becomes the workload the load engine runs', () => {
  const spec = benchSpecSchema.parse({ name: 'b', target: 'http://127.0.0.1:1', workload: { conversations: 'c.json', sessions: { rate: 2 }, thinkTimeSec: { uniform: [1, 3] }, maxTurns: 5 } });
  assert.deepEqual(workloadSpecOf(spec.workload), { kind: 'conversations', seed: 42, start: { kind: 'rate', sessionsPerSec: 2 }, thinkTimeSec: { kind: 'uniform', min: 1, max: 3 }, source: 'file', path: 'c.json', maxConversations: undefined, maxTurns: 5 });
  assert.equal(workloadSpecOf(benchSpecSchema.parse({ name: 'b', target: 'http://127.0.0.1:1' }).workload), undefined);
});

test('a request rate next to a trace or sessions is refused in the cell', () => {
  assert.match(issues({ trace: 't.jsonl', format: 'mooncake' }, { requestRate: 4 })[0], /^workload\.trace: a trace sets its own arrival times/);
  assert.match(issues({ agents: { count: 2, calls: 3, systemPromptTokens: 100, toolOutputTokens: 10, outputTokens: 5 } }, { requestRate: [1, 2] })[0], /^workload\.sessions: .*the request rate does not apply/);
  assert.deepEqual(issues({ conversations: 'c.json' }, { maxConcurrency: 16, durationSec: 60 }), []);
});

test("a workload SGLang's or vLLM's own benchmark cannot replay is refused with those runners", () => {
  const r = benchSpecSchema.safeParse({ name: 'b', target: 'http://127.0.0.1:1', runner: 'sglang', runnerNode: 'n1', workload: { trace: 't.jsonl', format: 'mooncake' } });
  assert.ok(!r.success);
  assert.match(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'), /workload\.trace: sglang's own benchmark cannot replay this workload/);
});

test('promptStyle belongs to Mooncake traces, and sglang prompts take no block size', () => {
  assert.deepEqual(issues({ trace: 't.jsonl', format: 'mooncake', promptStyle: 'sglang' }), []);
  assert.match(issues({ trace: 'a.csv', format: 'azure', promptStyle: 'sglang' })[0], /^workload\.promptStyle: .*needs format: mooncake/);
  assert.match(issues({ trace: 't.jsonl', format: 'mooncake', promptStyle: 'sglang', blockSize: 512 })[0], /^workload\.blockSize: SGLang's prompts write ~129 tokens per hash id/);
});
