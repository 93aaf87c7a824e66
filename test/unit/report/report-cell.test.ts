import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ReportCellExecutor } from '../../../src/core/cells/report';
import { reportSpecSchema } from '../../../src/core/spec/report-spec';
import type { CellEvent } from '../../../src/core/exec/events';
import type { BadgesBlock, KeyValueBlock, OutputDoc, PlotBlock, TableBlock } from '../../../src/core/output/doc';
import { CellReferenceError, SpecValidationError } from '../../../src/core/util/errors';
import { FIXTURES, ReportLab } from './helpers';

const lab = new ReportLab();
let oursIds: string[] = [];

before(async () => {
  await lab.start();
  oursIds = await lab.bench('ours', 'sim-tp8', [2, 8]);
  await lab.bench('ours-tp4', 'sim-tp4', [2, 8]);
  await lab.addPower(oursIds[1], 500);
});
after(() => lab.stop());

function finalDoc(events: CellEvent[]): OutputDoc {
  const docs = events.filter((e): e is Extract<CellEvent, { kind: 'doc' }> => e.kind === 'doc');
  assert.equal(docs.length, 1, 'one persisted report doc');
  return docs[0].doc;
}
const table = (doc: OutputDoc): TableBlock => doc.blocks.find((b): b is TableBlock => b.type === 'table') as TableBlock;
const plots = (doc: OutputDoc): PlotBlock[] => doc.blocks.filter((b): b is PlotBlock => b.type === 'plot');
const badges = (doc: OutputDoc): BadgesBlock['items'] => (doc.blocks.find((b): b is BadgesBlock => b.type === 'badges') as BadgesBlock).items;
const col = (t: TableBlock, name: string): (string | number | null)[] => t.rows.map((r) => r[t.columns.findIndex((c) => c.startsWith(name))]);

test('mixed comparison: our sweeps and imported bench_serving / vLLM / AIPerf runs render in one doc', async () => {
  const { ctx, events } = lab.context('cmp', 'moebench-report');
  const source = [
    'name: cmp',
    'compare: [ours, ours-tp4]',
    'import:',
    `  - ${path.join(FIXTURES, 'sglang-bench-serving.jsonl')}`,
    `  - { path: ${path.join(FIXTURES, 'vllm-bench-serve-append.jsonl')}, label: vllm }`,
    `  - ${path.join(FIXTURES, 'aiperf-c8/profile_export_aiperf.json')}`,
    `  - ${path.join(FIXTURES, 'aiperf-c32/profile_export_aiperf.json')}`,
    'baseline: ours',
    'gpus: { sglang-eplb: 16, vllm: 16 }',
  ].join('\n');
  await new ReportCellExecutor().execute(source, ctx);
  const doc = finalDoc(events);

  assert.equal(doc.simulated, true, 'our emulator runs make the report simulated');
  const t = table(doc);
  assert.deepEqual(col(t, 'Run'), [
    'ours · concurrency 2 (baseline)',
    'ours · concurrency 8 (baseline)',
    'ours-tp4 · concurrency 2',
    'ours-tp4 · concurrency 8',
    'sglang-eplb · concurrency 16',
    'sglang-eplb · concurrency 64',
    'sglang-eplb · concurrency 128',
    'vllm · concurrency 16',
    'vllm · concurrency 128',
    'aiperf · Qwen/Qwen3-0.6B · concurrency 8',
    'aiperf · Qwen/Qwen3-0.6B · concurrency 32',
  ]);
  assert.deepEqual(col(t, 'Source').slice(0, 2), ['MoE Bench (simulated)', 'MoE Bench (simulated)']);
  assert.equal(col(t, 'Source')[4], 'SGLang bench_serving');
  assert.equal(col(t, 'Source')[7], 'vLLM bench serve');
  assert.equal(col(t, 'Source')[9], 'NVIDIA AIPerf');
  // GPUs from launch commands (tp) for ours, from the report for the imports
  assert.deepEqual(col(t, 'GPUs').slice(0, 9), [8, 8, 4, 4, 16, 16, 16, 16, 16]);
  assert.equal(col(t, 'GPUs')[9], null);
  // deltas against the baseline at the same sweep point, none for the baseline itself
  const out = col(t, 'Output tok/s');
  assert.doesNotMatch(String(out[0]), /%\)/);
  assert.match(String(out[2]), /\([+-]\d/);
  // per-GPU throughput follows the GPU counts: ours-tp4 has half the GPUs of ours
  const perGpu = col(t, 'Output tok/s/GPU');
  assert.match(String(perGpu[5]), /^[\d,.]+$/);
  assert.equal(perGpu[9], '—');
  // imported numbers are shown as the tool reported them
  assert.match(String(col(t, 'TTFT p50')[4]), /^163\.8/);

  const ids = plots(doc).map((p) => p.id);
  assert.deepEqual(ids.slice(0, 3), ['report-throughput', 'report-latency', 'report-pareto']);
  assert.ok(ids.includes('report-energy'), 'energy chart from telemetry power samples');
  const tp = plots(doc).find((p) => p.id === 'report-throughput');
  assert.match(tp?.title ?? '', /vs max concurrency/);
  assert.deepEqual(tp?.data.map((d) => d['name']), ['ours', 'ours-tp4', 'sglang-eplb', 'vllm', 'aiperf · Qwen/Qwen3-0.6B']);
  assert.deepEqual(tp?.data[2]['x'], [16, 64, 128]);
  const pareto = plots(doc).find((p) => p.id === 'report-pareto');
  const paretoNames = pareto?.data.map((d) => d['name']);
  assert.deepEqual(paretoNames, ['ours', 'ours-tp4', 'sglang-eplb', 'vllm', 'Pareto frontier'], 'AIPerf has no GPU count, so it is left off the Pareto chart');

  const b = badges(doc);
  assert.ok(b.some((x) => x.level === 'info' && /mixed sources: MoE Bench, SGLang bench_serving, vLLM bench serve, NVIDIA AIPerf/.test(x.text)));
  assert.ok(b.some((x) => /simulated: 4 of 11 rows/.test(x.text)));
  const defs = doc.blocks.find((x): x is KeyValueBlock => x.type === 'kv' && x.title === 'Metric definitions');
  assert.ok(defs?.items.some(([k, v]) => k === 'NVIDIA AIPerf' && /TPOT/.test(String(v))));
  assert.ok(JSON.stringify(doc).length < 60_000, `compact doc (${JSON.stringify(doc).length} bytes)`);
  assert.equal(doc.runIds?.length, 11);
});

test('energy per output token comes from the telemetry power samples of the run', async () => {
  const { ctx, events } = lab.context('energy', 'moebench-report');
  await new ReportCellExecutor().execute('runs: [' + oursIds[1] + ']', ctx);
  const t = table(finalDoc(events));
  const joules = String(col(t, 'J/output tok')[0]);
  // 4 GPUs × 500 W × 10 s over the run's output tokens (12 requests × 16 tokens)
  assert.equal(joules, (20_000 / (12 * 16)).toFixed(3));
});

test('an invalid run is flagged in the comparison and in the badges; the flagged baseline is called out', async () => {
  const { ctx, events } = lab.context('flags', 'moebench-report');
  const source = ['compare: ours', 'import:', `  - { path: ${path.join(FIXTURES, 'sglang-bench-serving-details.jsonl')}, label: broken }`, 'baseline: broken'].join('\n');
  await new ReportCellExecutor().execute(source, ctx);
  const doc = finalDoc(events);
  const t = table(doc);
  const row = t.rows.findIndex((r) => String(r[0]).startsWith('broken'));
  assert.equal(col(t, 'Validity')[row], '✖ 33.3% errors');
  assert.equal(col(t, 'Errors')[row], '33.33');
  const b = badges(doc);
  assert.equal(b[0].level, 'error');
  assert.match(b[0].text, /^broken · rate 4: 33\.3% errors/);
  assert.ok(b.some((x) => x.text === 'baseline flagged'));
});

test('repeats of a run show their spread (history: every stored run with the name)', async () => {
  await lab.bench('rep', 'sim-tp8', [4]);
  await lab.bench('rep', 'sim-tp8', [4]);
  await lab.bench('rep', 'sim-tp8', [4]);
  const { ctx, events } = lab.context('rep-report', 'moebench-report');
  await new ReportCellExecutor().execute('compare: [rep]\nhistory: true', ctx);
  const t = table(finalDoc(events));
  assert.equal(t.rows.length, 1);
  assert.equal(col(t, 'n')[0], 3);
  assert.match(String(col(t, 'Output tok/s')[0]), /±\d+\.\d%/);
  // without history: only this session's latest run of the cell
  const again = lab.context('rep-report', 'moebench-report');
  await new ReportCellExecutor().execute('compare: [rep]', again.ctx);
  assert.equal(col(table(finalDoc(again.events)), 'n')[0], 1);
});

test('exports land next to the notebook and are listed in the output', async () => {
  const { ctx, events } = lab.context('exp', 'moebench-report');
  await new ReportCellExecutor().execute(['name: ablation', 'compare: [ours, ours-tp4]', 'export: [md, csv, html]'].join('\n'), ctx);
  const doc = finalDoc(events);
  const exports = doc.blocks.find((b): b is KeyValueBlock => b.type === 'kv' && b.title === 'Exports');
  const dir = path.join(lab.dir, '.moebench', 'reports');
  assert.deepEqual(exports?.items, [
    ['md', path.join(dir, 'ablation.md')],
    ['csv', path.join(dir, 'ablation.csv')],
    ['html', path.join(dir, 'ablation.html')],
  ]);
  const md = await readFile(path.join(dir, 'ablation.md'), 'utf8');
  assert.match(md, /^# Comparison: ours vs ours-tp4/);
  assert.match(md, /\| ours · concurrency 2 \(baseline\) \| MoE Bench \(simulated\) \| 1 \| 8 \|/);
  const csv = (await readFile(path.join(dir, 'ablation.csv'), 'utf8')).trim().split('\n');
  assert.equal(csv.length, 5);
  const header = csv[0].split(',');
  assert.ok(header.includes('outputThroughput_delta_pct'));
  const tp4c8 = csv[4].split(',');
  assert.equal(tp4c8[0], 'ours-tp4');
  assert.equal(tp4c8[header.indexOf('baseline')], 'ours · concurrency 8');
  assert.ok(Number.isFinite(Number(tp4c8[header.indexOf('outputThroughput')])));
  const html = await readFile(path.join(dir, 'ablation.html'), 'utf8');
  assert.ok(html.length > 3_000_000, 'Plotly is inlined');
  assert.doesNotMatch(html, /<script[^>]+src=/);
  assert.ok(events.some((e) => e.kind === 'log' && /wrote html report/.test(e.text)));
});

test('spec mistakes are reported at their line; unknown names and baselines name the choices', async () => {
  const exec = new ReportCellExecutor();
  await assert.rejects(exec.execute('compare: [ours]\nexport: [pdf]', lab.context('bad', 'moebench-report').ctx), (err: unknown) => err instanceof SpecValidationError && err.where.line === 2);
  await assert.rejects(exec.execute('compare: [ours]\nbaselin: ours', lab.context('bad', 'moebench-report').ctx), (err: unknown) => err instanceof SpecValidationError && err.where.line === 2);
  await assert.rejects(exec.execute('compare: [nope]', lab.context('bad', 'moebench-report').ctx), (err: unknown) => err instanceof CellReferenceError && /No runs named "nope"/.test(err.message) && /ours/.test(err.hint ?? ''));
  await assert.rejects(exec.execute('compare: [ours]\nbaseline: other', lab.context('bad', 'moebench-report').ctx), (err: unknown) => err instanceof CellReferenceError && /Baseline "other"/.test(err.message));
  assert.equal(reportSpecSchema.safeParse({ compare: 'ours', gpus: 0 }).success, false);
});
