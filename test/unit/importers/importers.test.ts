import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { detectFormat, importFile, importText, ImportFormatError, storeImportedRun } from '../../../src/core/results/importers';
import { readRunMeta, readRunResult } from '../../../src/core/results';
import { rewriteNonFinite } from '../../../src/core/results/importers/loose-json';

const FIX = path.join(__dirname, '../../fixtures/importers');
const fixture = (name: string): string => path.join(FIX, name);

test('SGLang bench_serving JSONL: one run per line, numbers as written, Infinity rate understood', async () => {
  const runs = await importFile(fixture('sglang-bench-serving.jsonl'));
  assert.equal(runs.length, 3);
  const [first, , last] = runs;
  assert.equal(first.meta.source, 'sglang-bench-serving');
  assert.equal(first.meta.name, 'sglang-eplb');
  assert.deepEqual(runs.map((r) => r.meta.step?.label), ['concurrency 16', 'concurrency 64', 'concurrency 128']);
  assert.equal(first.meta.step?.requestRate, 'inf');
  assert.equal(first.meta.step?.maxConcurrency, 16);
  assert.equal(first.meta.target.api, 'generate');
  assert.equal(first.meta.target.model, 'deepseek-ai/DeepSeek-V3');
  assert.equal(first.meta.provenance.engineVersion, '0.5.15');
  const s = first.result.summary;
  assert.equal(s.definition, 'sglang');
  assert.equal(s.completed, 1000);
  assert.equal(s.totalOutputTokens, 1_000_000);
  assert.ok(Math.abs(s.outputThroughput - 1_000_000 / 61.2) < 1e-6);
  assert.equal(s.ttftMs.mean, 182);
  assert.ok(Math.abs((s.ttftMs.p['p99'] ?? 0) - 182 * 2.6) < 1e-9);
  assert.deepEqual(s.percentiles, [90, 95, 99]);
  assert.ok(s.e2eMs.mean !== null && s.e2eMs.mean > 30_000);
  // bench_serving does not report failures without --output-details: unknown, not zero
  assert.ok(Number.isNaN(s.failed));
  assert.equal(first.result.validity.length, 0);
  assert.equal(last.result.summary.maxConcurrentRequests, 128);
  assert.notEqual(first.meta.id, last.meta.id);
});

test('bench_serving --output-details: failures counted from the per-request errors, badge raised', async () => {
  const [run] = await importFile(fixture('sglang-bench-serving-details.jsonl'));
  assert.equal(run.meta.target.api, 'completions');
  assert.equal(run.meta.step?.label, 'rate 4');
  assert.equal(run.result.summary.completed, 4);
  assert.equal(run.result.summary.failed, 2);
  const err = run.result.validity.find((v) => v.id === 'error-rate');
  assert.equal(err?.level, 'error');
  assert.match(err?.text ?? '', /33\.3% errors/);
});

test('vllm bench serve --save-result: vLLM names mapped (e2el, total_token_throughput), failed kept, definition vllm', async () => {
  const [run] = await importFile(fixture('vllm-bench-serve.json'));
  assert.equal(run.meta.source, 'vllm-bench-serve');
  assert.equal(run.meta.name, 'vllm-bench-serve');
  const s = run.result.summary;
  assert.equal(s.definition, 'vllm');
  assert.equal(s.completed, 996);
  assert.equal(s.failed, 4);
  assert.ok(Math.abs(s.totalThroughput - (1992000 + 996000) / 92.7) < 1e-6);
  assert.deepEqual(s.percentiles, [99]);
  assert.equal(s.tpotMs.p['p99'], 60.4);
  // not in vLLM's default percentile metrics: stays empty rather than invented
  assert.equal(s.e2eMs.mean, null);
  assert.equal(run.meta.step?.maxConcurrency, 64);
  assert.match(run.meta.createdAt, /^2025-03-14T/);
  assert.equal(run.result.validity[0].level, 'warn');
});

test('vllm --append-result JSONL: several runs, label names the series, e2el becomes E2E', async () => {
  const runs = await importFile(fixture('vllm-bench-serve-append.jsonl'));
  assert.equal(runs.length, 2);
  assert.ok(runs.every((r) => r.meta.name === 'vllm-baseline' && r.meta.target.api === 'chat'));
  assert.deepEqual(runs.map((r) => r.meta.step?.label), ['concurrency 16', 'concurrency 128']);
  const s = runs[1].result.summary;
  assert.deepEqual(s.percentiles, [50, 90, 99]);
  assert.ok(s.e2eMs.mean !== null && Math.abs(s.e2eMs.mean - (1200 + 75 * 999)) < 1e-6);
  assert.equal(s.e2eMs.p['p50'], s.e2eMs.median);
});

test('AIPerf profile export: units honoured, its ITL shown as TPOT and chunk latency as ITL, concurrency read from input_config', async () => {
  const [run] = await importFile(fixture('aiperf-c32/profile_export_aiperf.json'));
  assert.equal(run.meta.source, 'aiperf');
  assert.equal(run.meta.name, 'aiperf · Qwen/Qwen3-0.6B');
  assert.equal(run.meta.step?.label, 'concurrency 32');
  assert.match(run.meta.provenance.toolVersion, /AIPerf 0\.14\.0/);
  assert.equal(run.meta.target.api, 'chat');
  const s = run.result.summary;
  assert.equal(s.completed, 500);
  assert.equal(s.failed, 0);
  assert.equal(s.durationSec, 61);
  assert.ok(Math.abs(s.outputThroughput - (256 * 500) / 61) < 1e-6);
  assert.equal(s.ttftMs.mean, 260);
  assert.equal(s.ttftMs.count, 500);
  assert.equal(s.tpotMs.mean, 24);
  assert.equal(s.itlMs.mean, 24);
  assert.ok(s.percentiles.includes(99) && s.percentiles.includes(1));
  assert.ok(run.meta.definitionNotes.some((n) => /TPOT/.test(n)));
  assert.equal(run.meta.extras['output_token_throughput_per_user_avg'], 1000 / 24);
});

test('AIPerf durations in other units are converted (a seconds-unit latency block becomes ms)', () => {
  const text = JSON.stringify({
    aiperf_version: '0.9.0',
    request_latency: { unit: 's', avg: 1.5, p50: 1.4, p99: 2.0 },
    time_to_first_token: { unit: 'ns', avg: 2_000_000 },
    request_throughput: { unit: 'requests/sec', avg: 3 },
    request_count: { unit: 'requests', avg: 10 },
    benchmark_duration: { unit: 'ms', avg: 4000 },
  });
  const [run] = importText(text, 'x.json');
  assert.equal(run.result.summary.e2eMs.mean, 1500);
  assert.equal(run.result.summary.e2eMs.p['p99'], 2000);
  assert.equal(run.result.summary.ttftMs.mean, 2);
  assert.equal(run.result.summary.durationSec, 4);
});

test('GuideLLM benchmarks.json: one run per benchmark, strategy -> load, seconds -> ms, errored counted', async () => {
  const runs = await importFile(fixture('guidellm-benchmarks.json'));
  assert.equal(runs.length, 2);
  assert.deepEqual(runs.map((r) => r.meta.step?.label), ['synchronous (concurrency 1)', 'concurrency 8']);
  assert.ok(runs.every((r) => r.meta.name === 'guidellm · Qwen/Qwen3-0.6B'));
  const s = runs[1].result.summary;
  assert.equal(runs[1].meta.step?.maxConcurrency, 8);
  assert.equal(s.failed, 3);
  assert.equal(s.durationSec, 60);
  assert.ok(s.e2eMs.mean !== null && Math.abs(s.e2eMs.mean - 4050) < 1e-6);
  assert.equal(s.tpotMs.mean, 15.5);
  assert.equal(s.itlMs.mean, null);
  assert.equal(s.ttftMs.p['p99.9'], 88 * 3);
  assert.ok(s.percentiles.includes(99.9));
  assert.equal(runs[1].meta.extras['incomplete'], 8);
  assert.equal(runs[0].meta.createdAt, new Date(1760000000 * 1000).toISOString());
});

test('the detector names each fixture by its content', async () => {
  const expect: [string, string][] = [
    ['sglang-bench-serving.jsonl', 'sglang-bench-serving'],
    ['sglang-bench-serving-details.jsonl', 'sglang-bench-serving'],
    ['vllm-bench-serve.json', 'vllm-bench-serve'],
    ['vllm-bench-serve-append.jsonl', 'vllm-bench-serve'],
    ['aiperf-c8/profile_export_aiperf.json', 'aiperf'],
    ['guidellm-benchmarks.json', 'guidellm'],
  ];
  for (const [file, kind] of expect) assert.equal(detectFormat(await readFile(fixture(file), 'utf8')), kind, file);
  assert.equal(detectFormat('{"hello": 1}'), undefined);
  assert.equal(detectFormat('not json at all'), undefined);
});

test('unknown or broken files fail with the file and line named', async () => {
  assert.throws(() => importText('{"hello": 1}', 'mystery.json'), (err: unknown) => err instanceof ImportFormatError && err.where.file === 'mystery.json' && /Cannot tell/.test(err.message));
  const good = (await readFile(fixture('sglang-bench-serving.jsonl'), 'utf8')).split('\n')[0];
  assert.throws(
    () => importText(`${good}\n{"tag": "x", "mean_e2e_latency_ms": 1, "dur`, 'cut.jsonl', 'sglang-bench-serving'),
    (err: unknown) => err instanceof ImportFormatError && err.where.line === 2,
  );
  await assert.rejects(importFile(fixture('does-not-exist.json')), ImportFormatError);
});

test('NaN and Infinity are rewritten only outside strings', () => {
  assert.equal(rewriteNonFinite('{"a": NaN, "b": Infinity, "c": -Infinity, "t": "NaN: Infinity"}'), '{"a": null, "b": 1e999, "c": -1e999, "t": "NaN: Infinity"}');
  assert.equal(rewriteNonFinite('{"t": "say \\"NaN\\" Infinity"}'), '{"t": "say \\"NaN\\" Infinity"}');
});

test('an imported run stored in a run store reads back like one of ours', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'moebench-import-'));
  try {
    const [run] = await importFile(fixture('vllm-bench-serve.json'));
    const runDir = await storeImportedRun(dir, run);
    const meta = await readRunMeta(runDir);
    const result = await readRunResult(runDir);
    assert.equal(meta.status, 'completed');
    assert.equal((meta as unknown as { source: string }).source, 'vllm-bench-serve');
    assert.equal(meta.finishedAt, undefined);
    assert.equal(result.summary.completed, 996);
    assert.equal(result.summary.ttftMs.p['p99'], 1310.2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('moebench import stores every run of a file and a report of the store compares them', async () => {
  const { importCommand } = await import('../../../src/cli/commands/import');
  const { reportCommand } = await import('../../../src/cli/commands/report');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'moebench-import-cli-'));
  const out: string[] = [];
  const orig = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    const runs = path.join(dir, 'runs');
    assert.equal(await importCommand(['--runs', runs, fixture('sglang-bench-serving.jsonl'), fixture('aiperf-c8/profile_export_aiperf.json')]), 0);
    assert.equal(out.length, 4);
    const md = path.join(dir, 'r.md');
    assert.equal(await reportCommand(['--runs', runs, '--format', 'md', '-o', md]), 0);
    const text = await readFile(md, 'utf8');
    assert.match(text, /sglang-eplb · concurrency 128 \| SGLang bench_serving/);
    assert.match(text, /aiperf · Qwen\/Qwen3-0\.6B · concurrency 8 \(baseline\) \| NVIDIA AIPerf/);
  } finally {
    process.stdout.write = orig;
    await rm(dir, { recursive: true, force: true });
  }
});
