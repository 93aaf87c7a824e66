import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { benchSpecSchema, sweepSteps } from '../../../src/core/spec/bench-spec';
import { parseSpec } from '../../../src/core/spec/yaml-spec';
import { RunnerSpecError, sglangBenchArgv, sglangModuleOrder, splitLoad, vllmBenchArgv } from '../../../src/core/runners/argv';
import { ToolOutputSplitter } from '../../../src/core/runners/progress';

function spec(lines: string[]) {
  return parseSpec(benchSpecSchema, ['name: b', 'target: dep', ...lines, ''].join('\n'), { kind: 'moebench-bench' }).spec;
}
const flag = (argv: string[], f: string): string | undefined => (argv.includes(f) ? argv[argv.indexOf(f) + 1] : undefined);

describe('remote runner commands', () => {
  test('our workload maps onto bench_serving flags, endpoint as seen from the node', () => {
    const s = spec(['runner: sglang', 'runnerNode: n2', 'workload: { dataset: random, numPrompts: 500, inputLen: 2000, outputLen: 100, rangeRatio: 0.5, seed: 7 }', 'load: { requestRate: 8, maxConcurrency: 64 }']);
    const step = sweepSteps(s.load)[0];
    const argv = sglangBenchArgv(s, { baseUrl: 'http://10.0.0.1:8000', api: 'generate' }, splitLoad(s, step, 1)[0], { module: 'sglang.bench_serving', outputFile: 'out/r.jsonl' });
    assert.deepEqual(argv.slice(0, 3), ['python3', '-m', 'sglang.bench_serving']);
    assert.deepEqual(
      ['--backend', '--base-url', '--dataset-name', '--num-prompts', '--random-input-len', '--random-output-len', '--random-range-ratio', '--request-rate', '--max-concurrency', '--seed', '--output-file', '--tag'].map((f) => flag(argv, f)),
      ['sglang', 'http://10.0.0.1:8000', 'random', '500', '2000', '100', '0.5', '8', '64', '7', 'out/r.jsonl', 'b'],
    );
    assert.ok(argv.includes('--output-details'));
    assert.ok(!argv.includes('--warmup-requests'), 'the default warmup is bench_serving\'s own');
  });

  test('the completions API is the sglang-oai backend; an infinite rate is "inf"; user flags come last', () => {
    const s = spec(['runner: sglang', 'runnerNode: n2', 'api: completions', 'runnerArgs: [--flush-cache, --profile-num-steps, 5]', 'warmup: 0']);
    const argv = sglangBenchArgv(s, { baseUrl: 'http://h:1', api: 'completions' }, splitLoad(s, sweepSteps(s.load)[0], 1)[0], { module: 'sglang.benchmark.serving', outputFile: 'r.jsonl' });
    assert.equal(flag(argv, '--backend'), 'sglang-oai');
    assert.equal(flag(argv, '--request-rate'), 'inf');
    assert.equal(flag(argv, '--warmup-requests'), '0');
    assert.deepEqual(argv.slice(-3), ['--flush-cache', '--profile-num-steps', '5']);
  });

  test('vllm bench serve gets its own flag names, temperature and --save-result', () => {
    const s = spec(['runner: vllm', 'runnerNode: n1', 'workload: { dataset: random, numPrompts: 10, inputLen: 10, outputLen: 5, rangeRatio: 0.1, rangeSemantics: vllm }', 'load: { requestRate: 2, burstiness: 0.5 }']);
    const argv = vllmBenchArgv(s, { baseUrl: 'http://h:8000', api: 'completions' }, splitLoad(s, sweepSteps(s.load)[0], 1)[0], { resultDir: 'd', resultFile: 'r.json' });
    assert.deepEqual(argv.slice(0, 3), ['vllm', 'bench', 'serve']);
    assert.deepEqual(['--backend', '--endpoint', '--burstiness', '--temperature', '--result-dir', '--result-filename', '--num-warmups'].map((f) => flag(argv, f)), ['vllm', '/v1/completions', '0.5', '0', 'd', 'r.json', '1']);
    assert.ok(argv.includes('--save-result') && argv.includes('--save-detailed') && argv.includes('--ignore-eos'));
  });

  test('datasets the tools cannot run are refused at the field', () => {
    const s = spec(['runner: sglang', 'runnerNode: n', 'workload: { dataset: gsm8k, path: g.jsonl }']);
    assert.throws(() => sglangBenchArgv(s, { baseUrl: 'http://h:1', api: 'generate' }, splitLoad(s, sweepSteps(s.load)[0], 1)[0], { module: 'm', outputFile: 'o' }), (e: unknown) => e instanceof RunnerSpecError && e.where.field === 'workload.dataset');
  });

  test('module order follows the engine version; unknown versions start with the old module', () => {
    assert.deepEqual(sglangModuleOrder('0.5.20'), ['sglang.benchmark.serving', 'sglang.bench_serving']);
    assert.deepEqual(sglangModuleOrder('latest'), ['sglang.benchmark.serving', 'sglang.bench_serving']);
    assert.deepEqual(sglangModuleOrder('0.4.6.post2'), ['sglang.bench_serving', 'sglang.benchmark.serving']);
    assert.deepEqual(sglangModuleOrder(undefined), ['sglang.bench_serving', 'sglang.benchmark.serving']);
  });

  test('several nodes: prompts, concurrency and rate are split so the total is what the spec asks', () => {
    const s = spec(['workload: { numPrompts: 10, seed: 3 }', 'load: { requestRate: 9, maxConcurrency: 5 }']);
    const shares = splitLoad(s, sweepSteps(s.load)[0], 3);
    assert.deepEqual(shares.map((x) => [x.numPrompts, x.maxConcurrency, x.requestRate, x.seed]), [[4, 2, 3, 3], [3, 2, 3, 4], [3, 1, 3, 5]]);
  });

  test('tqdm redraws become progress, other output becomes lines', () => {
    const lines: string[] = [];
    const prog: string[] = [];
    const sp = new ToolOutputSplitter((l) => lines.push(l), (p) => prog.push(`${p.done}/${p.total}`));
    sp.push('Starting warmup...\n\r  0%|          | 0/20 [00:00<?, ?it/s]\r 50%|#####     | 10/2');
    sp.push('0 [00:01<00:01, 9.8it/s]\r100%|##########| 20/20 [00:02<00:00, 9.9it/s]\n==== Serving Benchmark Result ====\n');
    sp.end();
    assert.deepEqual(prog, ['0/20', '10/20', '20/20']);
    assert.deepEqual(lines, ['Starting warmup...', '==== Serving Benchmark Result ====']);
  });
});
