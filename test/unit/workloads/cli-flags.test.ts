import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planFromArgs } from '../../../src/cli/commands/bench';

const configOf = (argv: string[]) => {
  const plan = planFromArgs(argv);
  assert.ok(plan !== 'help');
  return plan.configs[0].config;
};

test("bench_serving's --dataset-name mooncake replays the file with prefix fidelity, slowdown as time scale", () => {
  const c = configOf(['--dataset-name', 'mooncake', '--dataset-path', 't.jsonl', '--mooncake-slowdown-factor', '2']);
  assert.deepEqual(c.workload, { kind: 'trace', path: 't.jsonl', format: 'mooncake', blockSize: undefined, timeScale: 2, maxRequests: undefined, seed: 1, vocabSize: undefined });
  assert.equal(c.trace, undefined);
});

test('--trace-format azure turns --trace-file into a length replay; plain --trace-file stays a timestamp replay', () => {
  assert.equal(configOf(['--trace-file', 'a.csv', '--trace-format', 'azure']).workload?.kind, 'trace');
  const plain = configOf(['--trace-file', 'a.jsonl']);
  assert.equal(plain.workload, undefined);
  assert.equal(plain.trace?.path, 'a.jsonl');
});

test('multi-turn flags give a sessions workload with the think time distribution', () => {
  const c = configOf(['--multi-turn-conversations', '10', '--multi-turn-turns', '3', '--multi-turn-input-len', '50', '--multi-turn-output-len', '20', '--session-concurrency', '4', '--think-time', 'exp:1.5']);
  assert.equal(c.workload?.kind, 'conversations');
  assert.ok(c.workload?.kind === 'conversations' && c.workload.source === 'generated');
  assert.deepEqual(c.workload.start, { kind: 'concurrency', sessions: 4 });
  assert.deepEqual(c.workload.thinkTimeSec, { kind: 'exponential', mean: 1.5 });
});

test('the cell rules hold on the command line, named by flag', () => {
  assert.throws(() => planFromArgs(['--think-time', '2']), /--think-time applies to a trace .* or sessions/);
  assert.throws(() => planFromArgs(['--conversations', 'c.json', '--agents', '2', '--agent-calls', '3', '--agent-system-len', '100', '--agent-tool-len', '10', '--agent-output-len', '5']), /--agents: conversations and agents are two session workloads/);
  assert.throws(() => planFromArgs(['--dataset-name', 'mooncake']), /needs --dataset-path/);
  assert.throws(() => planFromArgs(['--trace-file', 'x', '--trace-format', 'csv']), /--trace-format: csv/);
  assert.throws(() => planFromArgs(['--agents', '2']), /--agent-calls is needed with --agents/);
  assert.throws(() => planFromArgs(['--trace-file', 'a.csv', '--trace-format', 'azure', '--mooncake-block-size', '16']), /blockSize applies to Mooncake hash ids/);
});

test('a request rate with a trace or sessions is refused, as in the cell', () => {
  assert.throws(() => planFromArgs(['--dataset-name', 'mooncake', '--dataset-path', 't.jsonl', '--request-rate', '4']), /a trace sets its own arrival times/);
  assert.throws(() => planFromArgs(['--conversations', 'c.json', '--request-rate', '2']), /the request rate does not apply/);
});
