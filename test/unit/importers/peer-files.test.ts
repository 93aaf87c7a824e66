import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { detectFormat, importedDerived, importFile, importText, ImportFormatError, storeImportedRun, type ImportedRun } from '../../../src/core/results/importers';
import { cdfPoints } from '../../../src/core/cells/bench-plots';
import { readRequests } from '../../../src/core/results';
import { deriveRequest } from '../../../src/core/metrics/definitions';
import { summarize } from '../../../src/core/metrics/stats';
import { parsePythonJson } from '../../../src/core/results/importers/loose-json';
import type { RunSummary } from '../../../src/core/metrics/summary';
import { buildReport } from '../../../src/core/report';
import { comparedFromImport } from '../../../src/core/report/load-runs';
import { sweepAxis } from '../../../src/core/report/charts';

const FIX = path.join(__dirname, '../../fixtures/importers');
const fixture = (name: string): string => path.join(FIX, name);
const json = async (name: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(fixture(name), 'utf8')) as Record<string, unknown>;

type Block = Record<string, number | null | string>;
const close = (actual: number | null | undefined, expected: number, what: string): void => {
  assert.ok(typeof actual === 'number' && Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} != ${expected}`);
};

/** every statistic AIPerf wrote for a metric block is the one we show, in ms */
function sameAiperfStats(stats: RunSummary['ttftMs'], b: Block, what: string): void {
  close(stats.mean, b['avg'] as number, `${what} mean`);
  close(stats.median, b['p50'] as number, `${what} median`);
  close(stats.std, b['std'] as number, `${what} std`);
  close(stats.min, b['min'] as number, `${what} min`);
  close(stats.max, b['max'] as number, `${what} max`);
  assert.equal(stats.count, b['count'], `${what} count`);
  for (const p of [1, 5, 25, 50, 75, 90, 95, 99]) close(stats.p[`p${p}`], b[`p${p}`] as number, `${what} p${p}`);
}

test('AIPerf 0.1.1 profile_export_aiperf.json (real, "records" layout): every field as written; concurrency from input_config.loadgen', async () => {
  const file = await json('aiperf-0.1.1/profile_export_aiperf.json');
  const rec = file['records'] as Record<string, Block>;
  const [run] = await importFile(fixture('aiperf-0.1.1/profile_export_aiperf.json'));
  const s = run.result.summary;
  assert.equal(run.meta.source, 'aiperf');
  assert.equal(run.meta.step?.label, 'concurrency 100');
  assert.equal(run.meta.step?.maxConcurrency, 100);
  assert.equal(run.meta.target.model, 'openai/gpt-oss-20b');
  assert.equal(run.meta.target.url, 'localhost:9000');
  assert.equal(run.meta.target.api, 'chat');
  assert.equal(s.completed, rec['request_count']['avg']);
  assert.equal(s.failed, rec['error_request_count']['avg']);
  close(s.durationSec, rec['benchmark_duration']['avg'] as number, 'duration (sec)');
  assert.equal(s.totalInputTokens, rec['total_isl']['avg']);
  assert.equal(s.totalOutputTokens, rec['total_osl']['avg']);
  close(s.requestThroughput, rec['request_throughput']['avg'] as number, 'request throughput');
  close(s.outputThroughput, rec['output_token_throughput']['avg'] as number, 'output throughput');
  // 0.1.1 wrote no total throughput: derived from its own totals, and said so
  close(s.totalThroughput, (48950 + 21624) / 9.317788951, 'total throughput');
  assert.ok(run.meta.definitionNotes.some((n) => /no total token throughput/.test(n)));
  sameAiperfStats(s.ttftMs, rec['ttft'], 'ttft');
  sameAiperfStats(s.tpotMs, rec['inter_token_latency'], 'inter_token_latency');
  sameAiperfStats(s.itlMs, rec['inter_chunk_latency'], 'inter_chunk_latency');
  sameAiperfStats(s.e2eMs, rec['request_latency'], 'request_latency');
  close(run.meta.extras['time_to_second_token_avg_ms'] as number, rec['ttst']['avg'] as number, 'ttst');
  // the epoch-ns first request, not the zone-less start_time string
  assert.equal(run.meta.createdAt, new Date(1.759522419154569e18 / 1e6).toISOString());
});

test('AIPerf profile_export.jsonl beside the summary: per-request records give the same TTFT distribution and a record-based error check', async () => {
  const [run] = await importFile(fixture('aiperf-0.1.1/profile_export_aiperf.json'));
  assert.equal(run.records?.length, 100);
  const derived = (run.records ?? []).map((r) => deriveRequest(r, 'chat', 'vllm')).filter((d) => d.ok);
  assert.equal(derived.length, 89);
  // AIPerf's own percentiles of the same requests (numpy linear) come back from our records
  const ttft = summarize(derived.map((d) => d.ttftMs), [50, 99]);
  close(ttft.p['p50'], 2369.317693, 'p50 ttft from records');
  close(ttft.p['p99'], 3833.3894000399996, 'p99 ttft from records');
  const itl = summarize(derived.flatMap((d) => d.itlMs), [99]);
  assert.equal(itl.count, 21537);
  assert.ok(Math.abs((itl.p['p99'] ?? 0) - 140.53429476) < 1e-6);
  // the CDF our bench cell draws, from the imported records, is the CDF of AIPerf's own per-request TTFTs
  const raw = (await readFile(fixture('aiperf-0.1.1/profile_export.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { metrics: Record<string, { value: number }> })
    .filter((l) => l.metrics['ttft'] !== undefined)
    .map((l) => l.metrics['ttft'].value);
  const ours = cdfPoints(importedDerived(run.records ?? [], 'chat').filter((d) => d.ok).map((d) => d.ttftMs));
  assert.deepEqual(ours, cdfPoints(raw));
  assert.equal(ours.x.length > 10, true);
  const err = run.result.validity.find((v) => v.id === 'error-rate');
  assert.equal(err?.level, 'error');
  assert.match(err?.detail ?? '', /11 of 100 requests failed.*RequestCancellationError/);
  // no check that needs our own schedule or client health is claimed for a peer's run
  assert.ok(!run.result.validity.some((v) => v.id === 'client-saturated' || v.id === 'rate'));
  // stored, the records are requests.jsonl like ours
  const dir = await mkdtemp(path.join(os.tmpdir(), 'moebench-aiperf-'));
  try {
    const runDir = await storeImportedRun(dir, run);
    const back = await readRequests(runDir);
    assert.equal(back.length, 100);
    assert.equal(back.filter((r) => !r.ok).length, 11);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('AIPerf profile_export_aiperf.csv (real): the CSV cells as written (2 decimals), configuration from the JSON beside it', async () => {
  assert.equal(detectFormat(await readFile(fixture('aiperf-0.1.1/profile_export_aiperf.csv'), 'utf8')), 'aiperf');
  const [run] = await importFile(fixture('aiperf-0.1.1/profile_export_aiperf.csv'));
  const s = run.result.summary;
  assert.equal(run.meta.step?.label, 'concurrency 100');
  assert.equal(s.completed, 89);
  assert.equal(s.failed, 11);
  assert.equal(s.durationSec, 9.32);
  assert.equal(s.totalInputTokens, 48950);
  assert.equal(s.totalOutputTokens, 21624);
  assert.equal(s.requestThroughput, 9.55);
  assert.equal(s.outputThroughput, 2320.72);
  assert.deepEqual([s.ttftMs.mean, s.ttftMs.min, s.ttftMs.max, s.ttftMs.p['p1'], s.ttftMs.p['p99'], s.ttftMs.std], [2343.22, 464.66, 3853.86, 581.2, 3833.39, 1049.82]);
  assert.deepEqual([s.tpotMs.mean, s.tpotMs.p['p99']], [27.76, 33.73]);
  assert.deepEqual([s.itlMs.mean, s.itlMs.p['p99']], [27.76, 140.53]);
  assert.deepEqual([s.e2eMs.mean, s.e2eMs.median, s.e2eMs.p['p99']], [9059.65, 9097.35, 9297.61]);
  assert.equal(run.meta.createdAt, new Date(1759522419154568960 / 1e6).toISOString());
  assert.ok(run.meta.definitionNotes.some((n) => /2 decimals/.test(n)));
});

test('AIPerf profile_export.jsonl alone: a summary computed from its records matches what AIPerf reported for them', async () => {
  const text = await readFile(fixture('aiperf-0.1.1/profile_export.jsonl'), 'utf8');
  assert.equal(detectFormat(text), 'aiperf');
  const [run] = importText(text, 'somewhere/profile_export.jsonl');
  const s = run.result.summary;
  assert.equal(s.completed, 89);
  assert.equal(s.failed, 11);
  close(s.ttftMs.mean, 2343.219436988764, 'ttft mean');
  close(s.ttftMs.p['p99'], 3833.3894000399996, 'ttft p99');
  close(s.tpotMs.mean, 27.763065454471807, 'per-request ITL (TPOT) mean');
  assert.ok(Math.abs(s.durationSec - 9.317788951) < 1e-3);
  assert.equal(run.meta.step?.label, 'all at once');
  assert.ok(run.meta.definitionNotes.some((n) => /computed by MoE Bench from the per-request records/.test(n)));
  assert.ok(run.meta.definitionNotes.some((n) => /load \(concurrency, rate\) is unknown/.test(n)));
});

test('AIPerf ≥0.8 (phases list): a concurrency sweep imported under one label is a sweep of two points, not one row of n=2', async () => {
  const runs = [
    ...(await importFile(fixture('aiperf-0.8-sweep/concurrency_4/profile_export_aiperf.json'))),
    ...(await importFile(fixture('aiperf-0.8-sweep/concurrency_100000/profile_export_aiperf.json'))),
  ];
  // the warmup phase (concurrency 4 and 10) is not the profiling phase
  assert.deepEqual(runs.map((r) => r.meta.step?.maxConcurrency), [4, 100000]);
  assert.deepEqual(runs.map((r) => r.meta.step?.label), ['concurrency 4', 'concurrency 100000']);
  assert.equal(runs[0].meta.target.model, 'Qwen/Qwen3-0.6B');
  assert.equal(runs[0].meta.target.url, 'http://localhost:8000/v1/chat/completions');
  const model = buildReport(
    runs.map((r) => comparedFromImport(r, { label: 'aiperf' })),
    { title: 'sweep' },
  );
  assert.equal(model.rows.length, 2);
  const axis = sweepAxis(model);
  assert.equal(axis?.kind, 'concurrency');
  assert.deepEqual(model.rows.map((r) => axis?.x(r)), [4, 100000]);
  for (const row of model.rows) assert.equal(model.values.get(row.key)?.get('outputThroughput')?.n, 1);
  const file = await json('aiperf-0.8-sweep/concurrency_100000/profile_export_aiperf.json');
  const s = runs[1].result.summary;
  assert.equal(s.completed, (file['request_count'] as Block)['avg']);
  close(s.outputThroughput, (file['output_token_throughput'] as Block)['avg'] as number, 'output throughput');
  close(s.totalThroughput, (file['total_token_throughput'] as Block)['avg'] as number, 'total throughput');
  sameAiperfStats(s.ttftMs, file['time_to_first_token'] as Block, 'ttft');
});

test('AIPerf 0.8 phases: a default concurrency phase (no key) is concurrency 1, a rate phase gives its rate', () => {
  const base = { aiperf_version: '0.8.0', request_count: { unit: 'requests', avg: 1 } };
  const one = importText(JSON.stringify({ ...base, input_config: { phases: [{ name: 'profiling', type: 'concurrency', requests: 10 }] } }), 'a.json')[0];
  assert.equal(one.meta.step?.label, 'concurrency 1');
  const poisson = importText(JSON.stringify({ ...base, input_config: { phases: [{ name: 'main', kind: 'profiling', type: 'poisson', rate: 12.5, concurrency: 64 }] } }), 'b.json')[0];
  assert.equal(poisson.meta.step?.label, 'rate 12.5, concurrency 64');
  assert.equal(poisson.meta.step?.requestRate, 12.5);
});

test('AIPerf bad input names the place: a cut CSV row, a broken JSONL line', async () => {
  const csv = (await readFile(fixture('aiperf-0.1.1/profile_export_aiperf.csv'), 'utf8')).split('\n');
  csv[3] = csv[3].split(',').slice(0, 5).join(',');
  assert.throws(() => importText(csv.join('\n'), 'cut.csv'), (err: unknown) => err instanceof ImportFormatError && err.where.line === 4 && err.where.file === 'cut.csv');
  const lines = (await readFile(fixture('aiperf-0.1.1/profile_export.jsonl'), 'utf8')).split('\n').slice(0, 3);
  lines[2] = lines[2].slice(0, 40);
  assert.throws(() => importText(lines.join('\n'), 'p.jsonl', 'aiperf'), (err: unknown) => err instanceof ImportFormatError && err.where.line === 3);
});

test('vLLM benchmark_serving.py (@0049e29c writer): "request_goodput:" read, failed counted from errors[], per-request arrays become records', async () => {
  const file = await json('vllm-benchmark-serving-0049e29c.json');
  const [run] = await importFile(fixture('vllm-benchmark-serving-0049e29c.json'));
  const s = run.result.summary;
  assert.equal(s.requestGoodput, file['request_goodput:']);
  assert.equal(s.failed, 1);
  assert.equal(s.completed, file['completed']);
  for (const [ours, theirs] of [
    [s.totalInputTokens, 'total_input_tokens'],
    [s.totalOutputTokens, 'total_output_tokens'],
    [s.requestThroughput, 'request_throughput'],
    [s.outputThroughput, 'output_throughput'],
    [s.totalThroughput, 'total_token_throughput'],
    [s.durationSec, 'duration'],
    [s.ttftMs.mean, 'mean_ttft_ms'],
    [s.ttftMs.median, 'median_ttft_ms'],
    [s.ttftMs.std, 'std_ttft_ms'],
    [s.ttftMs.p['p99'], 'p99_ttft_ms'],
    [s.tpotMs.mean, 'mean_tpot_ms'],
    [s.tpotMs.p['p99'], 'p99_tpot_ms'],
    [s.itlMs.mean, 'mean_itl_ms'],
    [s.itlMs.p['p99'], 'p99_itl_ms'],
  ] as const) {
    assert.equal(ours, file[theirs], theirs);
  }
  assert.equal(run.records?.length, 6);
  const derived = (run.records ?? []).map((r) => deriveRequest(r, 'completions', 'vllm'));
  assert.deepEqual(
    derived.filter((d) => d.ok).map((d) => Math.round(d.ttftMs * 1000) / 1000),
    [120, 150, 110, 300, 140],
  );
  const err = run.result.validity.find((v) => v.id === 'error-rate');
  assert.match(err?.detail ?? '', /Bad Request: prompt too long/);
  // generated texts are there: the empty answer of a "successful" request is flagged
  assert.equal(run.result.validity.find((v) => v.id === 'outputs')?.text, 'empty outputs');
});

test('vllm bench serve --save-detailed (@009e6d4a writer): every summary field as written; start times and latencies kept per request', async () => {
  const file = await json('vllm-bench-serve-detailed.json');
  const [run] = await importFile(fixture('vllm-bench-serve-detailed.json'));
  const s = run.result.summary;
  assert.equal(run.meta.name, 'detailed');
  assert.equal(run.meta.target.api, 'chat');
  assert.equal(run.meta.step?.label, 'concurrency 4');
  assert.equal(s.failed, file['failed']);
  assert.equal(s.maxConcurrentRequests, file['max_concurrent_requests']);
  assert.equal(s.maxOutputTokensPerSec, file['max_output_tokens_per_s']);
  for (const metric of ['ttft', 'tpot', 'itl', 'e2el', 'client_queue_time'] as const) {
    const ours = { ttft: s.ttftMs, tpot: s.tpotMs, itl: s.itlMs, e2el: s.e2eMs, client_queue_time: s.clientQueueMs }[metric];
    assert.equal(ours.mean, file[`mean_${metric}_ms`], `mean ${metric}`);
    assert.equal(ours.median, file[`median_${metric}_ms`], `median ${metric}`);
    assert.equal(ours.std, file[`std_${metric}_ms`], `std ${metric}`);
    assert.equal(ours.p['p50'], file[`p50_${metric}_ms`], `p50 ${metric}`);
    assert.equal(ours.p['p99'], file[`p99_${metric}_ms`], `p99 ${metric}`);
  }
  const recs = run.records ?? [];
  assert.deepEqual(
    recs.map((r) => Math.round(r.startMs)),
    [0, 50, 110, 120, 300, 410],
  );
  close(recs[2].lastLineMs, (0.11 + 0.018 + 0.02 + 0.024 + 0.019) * 1000, 'latency of request 3');
});

test('SGLang bench_serving.py @50a61368 (no total_throughput, no date): total derived from its own definition; date from the file mtime, marked', async () => {
  const runs = await importFile(fixture('sglang-bench-serving-50a61368.jsonl'));
  const lines = (await readFile(fixture('sglang-bench-serving-50a61368.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
  assert.deepEqual(runs.map((r) => r.meta.step?.label), ['rate 2', 'rate 8']);
  runs.forEach((run, i) => {
    const s = run.result.summary;
    const o = lines[i];
    assert.equal(s.completed, o['completed']);
    assert.equal(s.totalInputTokens, o['total_input_tokens']);
    assert.equal(s.totalOutputTokens, o['total_output_tokens']);
    assert.equal(s.outputThroughput, o['output_throughput']);
    assert.equal(s.e2eMs.mean, o['mean_e2e_latency_ms']);
    assert.equal(s.ttftMs.median, o['median_ttft_ms']);
    assert.equal(s.itlMs.median, o['median_itl_ms']);
    close(s.totalThroughput, (o['total_input_tokens'] + o['total_output_tokens']) / o['duration'], 'total throughput');
  });
  const mtime = (await stat(fixture('sglang-bench-serving-50a61368.jsonl'))).mtime.toISOString();
  assert.equal(runs[0].meta.createdAt, mtime);
  assert.equal(runs[0].meta.tags?.['createdAtFrom'], 'file mtime');
  assert.ok(runs[0].meta.definitionNotes.some((n) => /modification time/.test(n)));
});

test('SGLang serving.py @6e48df33 (metrics dataclass keys, details nested): totals and per-request details read', async () => {
  // json.dumps writes float('inf') as the bare token Infinity
  const o = parsePythonJson((await readFile(fixture('sglang-serving-6e48df33.jsonl'), 'utf8')).trim()) as Record<string, number>;
  const [run] = await importFile(fixture('sglang-serving-6e48df33.jsonl'));
  const s = run.result.summary;
  assert.equal(run.meta.step?.label, 'concurrency 8');
  assert.equal(s.totalInputTokens, o['total_input']);
  assert.equal(s.totalOutputTokens, o['total_output']);
  for (const [ours, theirs] of [
    [s.requestThroughput, 'request_throughput'],
    [s.inputThroughput, 'input_throughput'],
    [s.outputThroughput, 'output_throughput'],
    [s.totalThroughput, 'total_throughput'],
    [s.concurrency, 'concurrency'],
    [s.ttftMs.mean, 'mean_ttft_ms'],
    [s.ttftMs.p['p99'], 'p99_ttft_ms'],
    [s.tpotMs.median, 'median_tpot_ms'],
    [s.itlMs.p['p95'], 'p95_itl_ms'],
    [s.itlMs.max, 'max_itl_ms'],
    [s.e2eMs.std, 'std_e2e_latency_ms'],
  ] as const) {
    assert.equal(ours, o[theirs], theirs);
  }
  assert.equal(run.meta.extras['total_output_tokens_retokenized'], o['total_output_retokenized']);
  assert.equal(s.failed, 1);
  assert.equal(run.records?.length, 6);
  const derived = (run.records ?? []).map((r) => deriveRequest(r, 'completions', 'vllm')).filter((d) => d.ok);
  // the records give back bench_serving's own E2E (ttft + Σ itl) per request
  close(summarize(derived.map((d) => d.latencyMs), [99]).mean, o['mean_e2e_latency_ms'], 'mean e2e from records');
});

test('GuideLLM 0.3 report (real, JSON and YAML): the same numbers from both; target from worker.backend_target', async () => {
  const file = await json('guidellm-0.3/benchmarks_stripped.json');
  const b = (file['benchmarks'] as Record<string, unknown>[])[0];
  const m = b['metrics'] as Record<string, { successful: Record<string, number> & { percentiles: Record<string, number> } }>;
  const [fromJson] = await importFile(fixture('guidellm-0.3/benchmarks_stripped.json'));
  const yamlText = await readFile(fixture('guidellm-0.3/benchmarks_stripped.yaml'), 'utf8');
  assert.equal(detectFormat(yamlText), 'guidellm');
  const [fromYaml] = await importFile(fixture('guidellm-0.3/benchmarks_stripped.yaml'));
  for (const run of [fromJson, fromYaml]) {
    const s = run.result.summary;
    assert.equal(run.meta.target.url, 'example_target');
    assert.equal(run.meta.target.model, 'example_model');
    assert.equal(run.meta.step?.label, 'synchronous (concurrency 1)');
    assert.equal(s.completed, 46);
    assert.equal(s.failed, 0);
    assert.equal(run.meta.extras['incomplete'], 1);
    close(s.durationSec, b['duration'] as number, 'duration');
    close(s.totalInputTokens, m['prompt_token_count'].successful.total_sum, 'input tokens');
    close(s.totalOutputTokens, m['output_token_count'].successful.total_sum, 'output tokens');
    close(s.requestThroughput, m['requests_per_second'].successful.mean, 'request rate');
    close(s.outputThroughput, m['output_tokens_per_second'].successful.mean, 'output tok/s');
    close(s.totalThroughput, m['tokens_per_second'].successful.mean, 'total tok/s');
    close(s.ttftMs.mean, m['time_to_first_token_ms'].successful.mean, 'ttft mean');
    close(s.ttftMs.p['p99.9'], m['time_to_first_token_ms'].successful.percentiles['p999'], 'ttft p99.9');
    close(s.tpotMs.median, m['inter_token_latency_ms'].successful.median, 'itl median');
    close(s.e2eMs.mean, m['request_latency'].successful.mean * 1000, 'latency mean (s -> ms)');
    close(s.e2eMs.p['p90'], m['request_latency'].successful.percentiles['p90'] * 1000, 'latency p90');
    assert.equal(run.meta.createdAt, new Date((b['start_time'] as number) * 1000).toISOString());
  }
  assert.equal(fromYaml.meta.name, 'guidellm · example_model');
});

test('GuideLLM ≥0.4 report with several strategies in one file: one run per strategy, a concurrency sweep in the report', async () => {
  const runs = await importFile(fixture('guidellm-benchmarks.json'));
  const model = buildReport(
    runs.map((r) => comparedFromImport(r)),
    { title: 'guidellm' },
  );
  const axis = sweepAxis(model);
  assert.equal(axis?.kind, 'concurrency');
  assert.deepEqual(model.rows.map((r) => axis?.x(r)), [1, 8]);
  assert.ok(runs.every((r) => r.meta.target.url === 'http://localhost:8000' && r.meta.target.api === 'chat'));
});

test('GuideLLM YAML that is broken names the line', () => {
  assert.throws(
    () => importText('benchmarks:\n  - type_: generative_benchmark\n    metrics: {a: [1, 2}\n', 'bad.yaml', 'guidellm'),
    (err: unknown) => err instanceof ImportFormatError && err.where.file === 'bad.yaml' && err.where.line === 3,
  );
});

test('every new fixture is told apart by content', async () => {
  const expect: [string, string][] = [
    ['aiperf-0.1.1/profile_export_aiperf.json', 'aiperf'],
    ['aiperf-0.8-sweep/concurrency_4/profile_export_aiperf.json', 'aiperf'],
    ['vllm-benchmark-serving-0049e29c.json', 'vllm-bench-serve'],
    ['vllm-bench-serve-detailed.json', 'vllm-bench-serve'],
    ['sglang-bench-serving-50a61368.jsonl', 'sglang-bench-serving'],
    ['sglang-serving-6e48df33.jsonl', 'sglang-bench-serving'],
    ['guidellm-0.3/benchmarks_stripped.json', 'guidellm'],
  ];
  for (const [file, kind] of expect) assert.equal(detectFormat(await readFile(fixture(file), 'utf8')), kind, file);
});

export type { ImportedRun };
