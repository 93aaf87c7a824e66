import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readFile, readdir } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { startSimServer, type SimServer } from '../../../src/core/sim';
import { BenchCellExecutor } from '../../../src/core/cells/bench';
import { headlessHost } from '../../../src/core/host';
import type { CellContext } from '../../../src/core/exec/cell';
import { Session } from '../../../src/core/exec/session';
import type { CellEvent } from '../../../src/core/exec/events';
import type { DeploymentHandle } from '../../../src/core/exec/handles';
import type { OutputDoc, PlotBlock, TableBlock } from '../../../src/core/output/doc';
import { SpecValidationError, CancelledError } from '../../../src/core/util/errors';
import { benchCommand } from '../../../src/cli/commands/bench';

let sim: SimServer;
let dir: string;

before(async () => {
  sim = await startSimServer({ zeroCost: true, seed: 5, port: 0 });
  dir = await mkdtemp(path.join(os.tmpdir(), 'moebench-cell-'));
});
after(async () => {
  await sim.close();
  await rm(dir, { recursive: true, force: true });
});

/**
 * These tests check what a run produces, not the validity gate (test/integration/cli/run-contract
 * and the gate's unit tests do): a client-saturated badge is an honest error on a 2-core machine
 * running other test files beside this one, so the gate is set to report it and go on.
 */
function context(session: Session, signal = new AbortController().signal): { ctx: CellContext; events: CellEvent[] } {
  const events: CellEvent[] = [];
  return { ctx: { session, cell: { index: 0, name: 'decode', language: 'moebench-bench' }, emit: (e) => events.push(e), signal, host: headlessHost({ settings: { 'bench.allowInvalid': true } }) }, events };
}

function deployment(url: string): DeploymentHandle {
  return { name: 'ds-sim', clusterName: 'sim', engine: 'sglang', simulated: true, endpoint: async () => url, servers: async () => [{ role: 'unified', node: 'node1', url }], commands: [{ node: 'node1', argv: ['python3', '-m', 'sglang.launch_server'], env: {} }] };
}

test('a sweep over concurrency against a deployment: one run per step, one table, charts, badges, runs registered', async () => {
  const session = new Session({ notebookPath: path.join(dir, 'nb.moebench'), toolVersion: '9.9.9' });
  session.deployments.set('ds-sim', deployment(sim.url), 'deploy');
  const { ctx, events } = context(session);
  const source = [
    'name: decode-sweep',
    'target: ds-sim',
    'workload: { dataset: random, inputLen: 64, outputLen: 32, rangeRatio: 1, numPrompts: 30, seed: 1 }',
    'load: { maxConcurrency: [2, 8] }',
    'slo: { ttftMs: 5000 }',
    'percentiles: [50, 99]',
  ].join('\n');
  await new BenchCellExecutor().execute(source, ctx);

  const docs = events.filter((e): e is Extract<CellEvent, { kind: 'doc' }> => e.kind === 'doc');
  const finalDoc = docs.filter((d) => d.id === 'decode-sweep-result').pop()?.doc as OutputDoc;
  assert.ok(finalDoc, 'a result doc');
  assert.equal(finalDoc.simulated, true);
  assert.equal(finalDoc.runIds?.length, 2);
  assert.equal(finalDoc.blocks[0].type, 'badges');
  const table = finalDoc.blocks.find((b): b is TableBlock => b.type === 'table');
  assert.equal(table?.rows.length, 2);
  assert.ok(table?.columns.includes('Output token throughput (tok/s)'));
  assert.ok(table?.columns.includes('P99 TTFT (ms)'));
  assert.ok(table?.columns.includes('Request goodput (req/s)'));
  assert.deepEqual(table?.rows.map((r) => r[table.columns.indexOf('Successful requests')]), [30, 30]);
  const plots = finalDoc.blocks.filter((b): b is PlotBlock => b.type === 'plot').map((p) => p.id);
  assert.deepEqual(plots.slice(0, 3), ['throughput', 'latency', 'cdf']);
  assert.ok(plots.some((p) => p.startsWith('timeline')));
  // compact enough to live in the notebook
  assert.ok(JSON.stringify(finalDoc).length < 200_000, `doc is ${JSON.stringify(finalDoc).length} bytes`);
  // live progress is never persisted
  const progress = docs.filter((d) => d.id === 'decode-sweep-progress');
  assert.ok(progress.length >= 1);
  assert.ok(progress.every((d) => d.persist === false && d.doc.blocks[0].type === 'progress'));

  const runs = session.runs.get('decode-sweep');
  assert.equal(runs.runIds.length, 2);
  const stored = await readdir(session.runStoreDir);
  assert.deepEqual(stored.sort(), [...runs.runIds].sort());
  const meta = JSON.parse(await readFile(path.join(session.runStoreDir, runs.runIds[0], 'meta.json'), 'utf8')) as { target: { deployment: string }; provenance: { toolVersion: string; commands: unknown[] }; step: { of: number } };
  assert.equal(meta.target.deployment, 'ds-sim');
  assert.equal(meta.provenance.toolVersion, '9.9.9');
  assert.equal(meta.provenance.commands.length, 1);
  assert.equal(meta.step.of, 2);
});

test('a URL target on the OpenAI chat API with a Poisson rate', async () => {
  const session = new Session({ notebookPath: path.join(dir, 'nb2.moebench'), toolVersion: '1' });
  const { ctx, events } = context(session);
  await new BenchCellExecutor().execute(`name: chat-rate\ntarget: ${sim.url}\napi: chat\nworkload: { numPrompts: 20, inputLen: 32, outputLen: 8 }\nload: { requestRate: 100 }\n`, ctx);
  const doc = events.filter((e): e is Extract<CellEvent, { kind: 'doc' }> => e.kind === 'doc' && e.id === 'chat-rate-result').pop()?.doc;
  const table = doc?.blocks.find((b): b is TableBlock => b.type === 'table');
  assert.equal(table?.rows[0][table.columns.indexOf('Backend')], 'sglang-oai-chat');
  assert.equal(table?.rows[0][table.columns.indexOf('Traffic request rate')], 100);
  assert.equal(doc?.simulated, true);
});

test('typos in the cell are reported with their line', async () => {
  const session = new Session({ notebookPath: path.join(dir, 'nb3.moebench'), toolVersion: '1' });
  const { ctx } = context(session);
  await assert.rejects(new BenchCellExecutor().execute('name: x\ntarget: ds\nload:\n  requestRat: 5\n', ctx), (e: unknown) => e instanceof SpecValidationError && e.where.line === 4);
  await assert.rejects(new BenchCellExecutor().execute('name: x\ntarget: nowhere\n', ctx), /No deployment named "nowhere"/);
});

test('cancelling the cell keeps the finished requests and says so', async () => {
  const session = new Session({ notebookPath: path.join(dir, 'nb4.moebench'), toolVersion: '1' });
  const ac = new AbortController();
  const { ctx, events } = context(session, ac.signal);
  // cancel once the live progress shows finished requests, whatever the machine's speed
  const emit = ctx.emit;
  ctx.emit = (e) => {
    emit(e);
    if (e.kind === 'doc' && e.id === 'long-progress' && e.doc.blocks.some((b) => b.type === 'progress' && /^[1-9]\d*(\/\d+)? done/.test(b.detail ?? ''))) ac.abort();
  };
  await assert.rejects(new BenchCellExecutor().execute(`name: long\ntarget: ${sim.url}\nworkload: { numPrompts: 1000000, inputLen: 8, outputLen: 100 }\nload: { maxConcurrency: 4 }\n`, ctx), (e: unknown) => e instanceof CancelledError);
  const doc = events.filter((e): e is Extract<CellEvent, { kind: 'doc' }> => e.kind === 'doc' && e.id === 'long-result').pop()?.doc;
  assert.ok(doc?.blocks.some((b) => b.type === 'text' && /Cancelled/.test(b.text)));
  assert.equal(session.runs.get('long').runIds.length, 1);
});

test('moebench bench: several rates and concurrencies give one JSON document with per-run summaries', async () => {
  const out = path.join(dir, 'bench.json');
  const code = await benchCommand(['--base-url', sim.url, '--backend', 'sglang-oai', '--dataset-name', 'random', '--num-prompts', '12', '--random-input-len', '32', '--random-output-len', '8', '--random-range-ratio', '1', '--request-rate', 'inf', '--max-concurrency', '2', '--max-concurrency', '4', '--format', 'json', '--output-file', out, '--run-store', path.join(dir, 'cli-runs'), '--quiet']);
  assert.equal(code, 0);
  const json = JSON.parse(await readFile(out, 'utf8')) as { runs: { backend: string; max_concurrency: number; summary: { completed: number; total_output_tokens: number; p99_ttft_ms: number } }[] };
  assert.equal(json.runs.length, 2);
  assert.deepEqual(json.runs.map((r) => r.max_concurrency), [2, 4]);
  assert.ok(json.runs.every((r) => r.backend === 'sglang-oai' && r.summary.completed === 12 && r.summary.total_output_tokens === 96));
  assert.ok(json.runs.every((r) => typeof r.summary.p99_ttft_ms === 'number'));
  const md = path.join(dir, 'bench.md');
  assert.equal(await benchCommand(['--url', sim.url, '--num-prompts', '5', '--random-input-len', '16', '--random-output-len', '4', '--request-rate', '50', '--request-rate', '100', '--format', 'md', '--output-file', md, '--no-store', '--quiet']), 0);
  const lines = (await readFile(md, 'utf8')).trim().split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[0], /^\| Step \| Backend \| Traffic request rate/);
  assert.match(lines[2], /^\| rate 50 \| sglang \| 50 /);
  assert.equal(await benchCommand(['--backend', 'nope']), 2);
});
