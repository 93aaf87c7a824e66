import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import { aggregate, buildReport, gpuCountFromCommands, paretoFrontier, reportCsv, reportDoc, type ComparedRun } from '../../../src/core/report';
import { summarize } from '../../../src/core/metrics/stats';
import type { RunSummary } from '../../../src/core/metrics/summary';
import type { TableBlock } from '../../../src/core/output/doc';
import { reportCommand } from '../../../src/cli/commands/report';
import { FIXTURES } from './helpers';

function run(series: string, point: string, concurrency: number | null, outTokS: number, tpotMs: number, extra: Partial<ComparedRun> = {}): ComparedRun {
  const stats = (x: number) => summarize([x], [50, 99]);
  const summary = {
    schemaVersion: 1,
    definition: 'sglang',
    api: 'generate',
    percentiles: [50, 99],
    completed: 100,
    failed: 0,
    outputThroughput: outTokS,
    requestThroughput: outTokS / 100,
    ttftMs: stats(100),
    tpotMs: stats(tpotMs),
    itlMs: stats(tpotMs),
    e2eMs: stats(1000),
  } as unknown as RunSummary;
  return { id: `${series}-${point}-${outTokS}`, series, point, load: { maxConcurrency: concurrency, requestRate: 'inf' }, source: 'moebench', simulated: false, status: 'completed', createdAt: '', summary, validity: [], gpus: { count: 8, from: 'report spec' }, energy: null, definitionNotes: [], location: '', ...extra };
}

test('GPU count from launch commands: SGLang tp over nnodes, DP attention inside tp, routers ignored, vLLM dp-local, CUDA_VISIBLE_DEVICES wins', () => {
  const sg = (node: string, ...flags: string[]) => ({ node, argv: ['python3', '-m', 'sglang.launch_server', '--model-path', '/m', ...flags], env: {} });
  // 2 prefill nodes (tp 16 over 2 nodes) + 3 decode nodes (tp 24 over 3) + router
  const pd = [sg('a', '--tp', '16', '--nnodes', '2', '--dp', '16', '--enable-dp-attention'), sg('b', '--tp', '16', '--nnodes', '2', '--dp', '16', '--enable-dp-attention'), ...['c', 'd', 'e'].map((n) => sg(n, '--tp-size=24', '--nnodes', '3')), { node: 'a', argv: ['python3', '-m', 'sglang_router.launch_router', '--pd-disaggregation'], env: {} }];
  assert.equal(gpuCountFromCommands(pd), 40);
  assert.equal(gpuCountFromCommands([sg('a', '--tp', '2', '--dp', '4')]), 8, 'plain DP replicates tp');
  assert.equal(gpuCountFromCommands([{ node: 'a', argv: ['vllm', 'serve', '/m', '--tensor-parallel-size', '4', '--data-parallel-size', '2'], env: {} }]), 8);
  assert.equal(gpuCountFromCommands([{ node: 'a', argv: ['vllm', 'serve', '/m', '-tp', '8'], env: { CUDA_VISIBLE_DEVICES: '0,1' } }]), 2);
  assert.equal(gpuCountFromCommands([{ node: 'a', argv: ['bash', '-c', 'sleep 1'], env: {} }]), null);
  assert.equal(gpuCountFromCommands(undefined), null);
});

test('Pareto frontier keeps only undominated points', () => {
  const pts = [
    { x: 10, y: 100 },
    { x: 20, y: 80 },
    { x: 15, y: 70 },
    { x: 30, y: 20 },
    { x: 5, y: 90 },
  ];
  assert.deepEqual(paretoFrontier(pts), [
    { x: 10, y: 100 },
    { x: 20, y: 80 },
    { x: 30, y: 20 },
  ]);
});

test('repeats aggregate to mean, range and sample spread', () => {
  const a = aggregate([10, 12, 14, null]);
  assert.equal(a.mean, 12);
  assert.equal(a.min, 10);
  assert.equal(a.max, 14);
  assert.equal(a.std, 2);
  assert.equal(a.n, 3);
  assert.equal(aggregate([5]).std, null);
});

test('deltas pair rows by load even when the tools label the steps differently', () => {
  const runs = [run('eplb-off', 'concurrency 64', 64, 1000, 40), run('eplb-off', 'concurrency 128', 128, 1500, 50), run('theirs', 'c=64', 64, 1100, 44), run('theirs', 'c=128', 128, 1200, 60)];
  const model = buildReport(runs, { title: 't', baseline: 'eplb-off' });
  assert.ok(Math.abs((model.deltas.get('theirs · c=64')?.get('outputThroughput') ?? 0) - 0.1) < 1e-9);
  assert.ok(Math.abs((model.deltas.get('theirs · c=128')?.get('outputThroughput') ?? 0) + 0.2) < 1e-9);
  assert.equal(model.baselineOf.get('theirs · c=128'), 'eplb-off · concurrency 128');
  const t = reportDoc(model).blocks.find((b): b is TableBlock => b.type === 'table') as TableBlock;
  assert.equal(t.rows[3][t.columns.indexOf('Output tok/s')], '1,200.0 (-20%)');
  assert.equal(t.rows[3][t.columns.indexOf('TPOT p50 (ms)')], '60.00 (+20%)');
  // the Energy column is dropped: no run has telemetry
  assert.ok(!t.columns.some((c) => c.startsWith('J/')));
  const csv = reportCsv(model).trim().split('\n');
  const header = csv[0].split(',');
  assert.equal(Number(csv[4].split(',')[header.indexOf('outputThroughput_delta_pct')]), -20);
});

test('a lone baseline run is the reference for another lone run, not for every point of a sweep; rows follow the sweep order', () => {
  const runs = [run('base', '', null, 1000, 40), run('other', '', null, 1500, 40), run('sweep', 'concurrency 8', 8, 900, 30), run('sweep', 'concurrency 2', 2, 500, 20)];
  const model = buildReport(runs, { title: 't' });
  assert.deepEqual(model.rows.map((r) => r.key), ['base', 'other', 'sweep · concurrency 2', 'sweep · concurrency 8']);
  assert.equal(model.deltas.get('other')?.get('outputThroughput'), 0.5);
  assert.equal(model.deltas.get('sweep · concurrency 2'), undefined);
});

test('moebench report CLI: imports alone, csv to a file; usage errors exit 2', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'moebench-report-cli-'));
  const out = path.join(dir, 'r.csv');
  const writes: string[] = [];
  const orig = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    writes.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await reportCommand(['--runs', path.join(dir, 'none'), '--import', path.join(FIXTURES, 'vllm-bench-serve.json')]);
    assert.equal(code, 2, 'an explicit --runs that does not exist');
    assert.equal(await reportCommand(['--import', path.join(FIXTURES, 'vllm-bench-serve.json'), '--format', 'pdf']), 2);
    const code2 = await reportCommand(['--import', path.join(FIXTURES, 'guidellm-benchmarks.json'), '--import', `${path.join(FIXTURES, 'vllm-bench-serve.json')}=vllm`, '--baseline', 'vllm', '--format', 'csv', '-o', out]);
    assert.equal(code2, 0);
    const csv = (await readFile(out, 'utf8')).trim().split('\n');
    assert.equal(csv.length, 4);
    assert.match(csv[1], /^guidellm · Qwen\/Qwen3-0\.6B,synchronous \(concurrency 1\),GuideLLM,1,/);
    assert.equal(await reportCommand(['--import', path.join(FIXTURES, 'README.md')]), 1, 'an unrecognised file');
    assert.ok(writes.some((w) => /Cannot tell which tool wrote this file/.test(w)));
  } finally {
    process.stderr.write = orig;
    await rm(dir, { recursive: true, force: true });
  }
});

test('GPU counts: a named override wins, launch commands beat a global number, which beats nothing', async () => {
  const { ReportLab } = await import('./helpers');
  const { loadStoredRun } = await import('../../../src/core/report');
  const lab = new ReportLab();
  await lab.start();
  try {
    const [id] = await lab.bench('g', 'sim-tp4', [2]);
    const dir = path.join(lab.session.runStoreDir, id);
    const got = async (gpus?: number | Record<string, number>) => {
      const r = await loadStoredRun(dir, { gpus });
      assert.ok('run' in r);
      return r.run.gpus;
    };
    assert.deepEqual(await got(), { count: 4, from: 'launch commands' });
    assert.deepEqual(await got(16), { count: 4, from: 'launch commands' });
    assert.deepEqual(await got({ g: 16 }), { count: 16, from: 'report spec' });
    assert.deepEqual(await got({ other: 16 }), { count: 4, from: 'launch commands' });
  } finally {
    await lab.stop();
  }
});
