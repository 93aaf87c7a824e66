import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { startSimServer } from '../../../src/core/sim/server';
import { startSimRouter } from '../../../src/core/sim/router';
import { BenchCellExecutor } from '../../../src/core/cells/bench';
import { headlessHost } from '../../../src/core/host';
import type { CellContext } from '../../../src/core/exec/cell';
import { Session } from '../../../src/core/exec/session';
import type { CellEvent } from '../../../src/core/exec/events';
import type { DeploymentHandle } from '../../../src/core/exec/handles';
import type { OutputDoc, PlotBlock, TableBlock } from '../../../src/core/output/doc';
import { RunInvalidError } from '../../../src/core/util/errors';
import { buildReport, loadStoredRun } from '../../../src/core/report';

async function pd(options: { brokenBootstrap?: boolean } = {}) {
  const prefill = await startSimServer({ role: 'prefill', seed: 4, timeScale: 0.05 });
  const decode = await startSimServer({ role: 'decode', seed: 4, timeScale: 0.05 });
  // a closed port as the prefill's bootstrap port: every decode-side KV wait fails to connect
  const router = await startSimRouter({ prefill: [prefill.url], decode: [decode.url], ...(options.brokenBootstrap ? { prefillBootstrapPorts: [1] } : {}) });
  const handle: DeploymentHandle = {
    name: 'pd',
    clusterName: 'sim',
    engine: 'sglang',
    simulated: true,
    endpoint: async () => router.url,
    servers: async () => [
      { role: 'prefill', node: 'node1', url: prefill.url },
      { role: 'decode', node: 'node2', url: decode.url },
      { role: 'router', node: 'node1', url: router.url },
    ],
    commands: [],
  };
  return { handle, close: async () => (await router.close(), await prefill.close(), await decode.close()) };
}

async function runCell(handle: DeploymentHandle, dir: string, extra: string[] = []): Promise<{ doc: OutputDoc; session: Session; error?: unknown }> {
  const session = new Session({ notebookPath: path.join(dir, 'nb.moebench'), toolVersion: '9.9.9' });
  session.deployments.set('pd', handle, 'deploy');
  const events: CellEvent[] = [];
  const ctx: CellContext = { session, cell: { index: 0, name: 'b', language: 'moebench-bench' }, emit: (e) => events.push(e), signal: new AbortController().signal, host: headlessHost() };
  const source = ['name: b', 'target: pd', 'workload: { dataset: random, inputLen: 512, outputLen: 8, rangeRatio: 1, numPrompts: 16, seed: 1 }', 'load: { maxConcurrency: [4] }', ...extra].join('\n');
  let error: unknown;
  await new BenchCellExecutor().execute(source, ctx).catch((e: unknown) => (error = e));
  const doc = events.filter((e): e is Extract<CellEvent, { kind: 'doc' }> => e.kind === 'doc' && e.id === 'b-result').pop()?.doc as OutputDoc;
  return { doc, session, error };
}

test('a bench cell on a PD deployment draws the TTFT decomposition beside client TTFT, the cache panel, and stores a valid gate', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'moebench-pd-'));
  const d = await pd();
  try {
    const { doc, session, error } = await runCell(d.handle, dir);
    assert.equal(error, undefined, String(error));
    const plot = doc.blocks.find((b): b is PlotBlock => b.type === 'plot' && b.id === 'ttft-decomposition');
    assert.ok(plot, 'the decomposition chart');
    assert.deepEqual(
      plot.data.map((t) => t.name),
      ['router + network + client', 'prefill queue', 'prefill compute', 'KV transfer', 'decode queue', 'first decode step', 'unexplained', 'client TTFT'],
    );
    const table = doc.blocks.find((b): b is TableBlock => b.type === 'table' && (b.title ?? '').startsWith('TTFT decomposition'));
    assert.equal(table?.rows.length, 1);
    assert.equal(table?.rows[0][table.columns.indexOf('KV metric type')], 'histogram');
    assert.ok(doc.blocks.some((b) => b.type === 'table' && (b.title ?? '').startsWith('Prefix cache')));
    const runId = session.runs.get('b').runIds[0];
    const gate = JSON.parse(await readFile(path.join(session.runStoreDir, runId, 'gate.json'), 'utf8')) as { valid: boolean; facts: { serverOutputTokens: number; clientOutputTokens: number } };
    assert.equal(gate.valid, true);
    // the server also counted the warmup request (1 x 8 tokens), which the client keeps apart
    assert.equal(gate.facts.serverOutputTokens - gate.facts.clientOutputTokens, 8);
    // the compare report gets the stored figures as extra columns
    const loaded = await loadStoredRun(path.join(session.runStoreDir, runId));
    assert.ok('run' in loaded && loaded.run.serverViews);
    assert.ok((loaded.run.serverViews.ttftSegmentsMs?.kvTransfer ?? 0) > 0);
    assert.equal(loaded.run.serverViews.kvMetricType, 'histogram');
    const model = buildReport([loaded.run], { title: 'pd' });
    const ids = model.metrics.map((m) => m.id);
    assert.ok(ids.includes('kvTransferMs') && ids.includes('prefixCacheHit') && ids.includes('ttftUnexplained'), ids.join(','));
    assert.ok(!ids.includes('ttfatP50'), 'no reasoning model, no TTFAT column');
  } finally {
    await d.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('KV transfers that fail make the run invalid: the badge says why, the cell fails, gate.json says so', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'moebench-pd-'));
  const d = await pd({ brokenBootstrap: true });
  try {
    // no warmup: a failing warmup stops the cell before the run (that path has its own error)
    const { doc, session, error } = await runCell(d.handle, dir, ['warmup: 0']);
    assert.ok(error instanceof RunInvalidError, `cell fails with RunInvalidError (got ${String(error)})`);
    assert.match((error as Error).message, /KV transfer failed/);
    const badges = doc.blocks[0];
    assert.ok(badges.type === 'badges' && badges.items.some((i) => i.level === 'error' && /^INVALID: KV transfer failed/.test(i.text)), JSON.stringify(badges));
    const runId = session.runs.get('b').runIds[0];
    const gate = JSON.parse(await readFile(path.join(session.runStoreDir, runId, 'gate.json'), 'utf8')) as { valid: boolean; reasons: { id: string }[] };
    assert.equal(gate.valid, false);
    assert.ok(gate.reasons.some((r) => r.id === 'kv-transfer-failures'));
    // and reports mark it
    const loaded = await loadStoredRun(path.join(session.runStoreDir, runId));
    assert.ok('run' in loaded && loaded.run.validity.some((v) => v.id === 'server-gate' && v.level === 'error' && /^INVALID: KV transfer failed/.test(v.text)));
  } finally {
    await d.close();
    await rm(dir, { recursive: true, force: true });
  }
});
