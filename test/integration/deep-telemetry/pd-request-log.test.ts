import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { BenchCellExecutor } from '../../../src/core/cells/bench';
import { DeployCellExecutor, stopDeployment } from '../../../src/core/cells/deploy';
import { Session } from '../../../src/core/exec/session';
import { createSimCluster } from '../../../src/core/sim/cluster';
import type { TableBlock } from '../../../src/core/output/doc';
import { readRequests } from '../../../src/core/results';
import { emulatorBin } from '../deploy/emulator';
import { cellContext, Events } from '../deploy/helpers';

// One prefill and one decode server (emulated SGLang processes on two sim nodes) behind the
// router, both launched with --enable-request-time-stats-logging; a bench cell collects
// schedLogs, so the deployment's logs are followed for the run and each request's prefill and
// decode lines are joined with the client's request by rid.
const deploySpec = (flag: boolean): string => `name: pd-log
cluster: test
engine: { kind: sglang, version: "0.5.15" }
model: /models/DeepSeek-V3
servedModelName: deepseek-v3
modelHint: deepseek-v3
moe: { a2a: deepep }
memory: { fraction: 0.8 }
server: { enableMetrics: true }
prefill:
  nodes: [node1]
  parallel: { tp: 8, dp: 8, dpAttention: true, moeDenseTp: 1 }
  ports: { bootstrap: 8998 }
decode:
  nodes: [node2]
  parallel: { tp: 8, dp: 8, dpAttention: true, moeDenseTp: 1 }
transfer: { backend: mooncake }
router: { policy: round_robin, port: 8000 }
${flag ? 'extraArgs: [--enable-request-time-stats-logging]\n' : ''}`;

const benchCell = ['name: b', 'target: pd-log', 'workload: { dataset: random, numPrompts: 16, inputLen: 512, outputLen: 8, rangeRatio: 1, seed: 1 }', 'load: { maxConcurrency: 4 }', 'collect: [schedLogs]', ''].join('\n');

async function deployAndBench(flag: boolean): Promise<{ tables: TableBlock[]; notes: string; runDir: string; dispose: () => Promise<void> }> {
  const emu = await emulatorBin();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'moebench-pd-log-'));
  const cluster = await createSimCluster({ name: 'test', nodes: ['node1', 'node2'], gpusPerNode: 8, cliPath: emu.cliPath, timeScale: 0.05, seed: 5 });
  const session = new Session({ notebookPath: path.join(dir, 'exp.moebench'), toolVersion: 'test' });
  session.clusters.set('test', cluster, 'cluster');
  session.store.add(cluster);
  const dispose = async (): Promise<void> => {
    await stopDeployment(session, 'pd-log').catch(() => undefined);
    await session.dispose();
    await emu.dispose();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const deployEvents = new Events();
    await new DeployCellExecutor({ remoteDir: path.join(dir, 'nodes'), graceMs: 3000 }).execute(deploySpec(flag), cellContext(session, deployEvents));
    assert.equal(/--enable-request-time-stats-logging/.test(deployEvents.docText('deploy-preview')), flag, 'the flag is in the launch commands exactly when asked for');
    const bench = new Events();
    await new BenchCellExecutor().execute(benchCell, { ...cellContext(session, bench, undefined, 'b'), cell: { index: 2, name: 'b', language: 'moebench-bench' } });
    const doc = bench.doc('b-result');
    assert.ok(doc, 'the bench result');
    const tables = doc.blocks.filter((b): b is TableBlock => b.type === 'table');
    const notes = doc.blocks.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('\n');
    return { tables, notes, runDir: path.join(session.runStoreDir, session.runs.get('b').runIds[0]), dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

test('PD emulator processes with --enable-request-time-stats-logging: every completed request is joined with its prefill and decode lines, and the per-request KV transfer is the emulator\'s model', async () => {
  const r = await deployAndBench(true);
  try {
    const main = r.tables.find((t) => (t.title ?? '').startsWith('TTFT decomposition'));
    assert.ok(main, 'the TTFT decomposition table');
    assert.equal(main.rows[0][main.columns.indexOf('requests in the server log')], '16/16');
    const log = r.tables.find((t) => (t.title ?? '').startsWith('PD time per request'));
    assert.ok(log, `the per-request table (notes: ${r.notes})`);
    assert.match(log.title ?? '', /server log, --enable-request-time-stats-logging/);
    const col = (name: string) => log.columns.indexOf(name);
    const stage = (label: string) => log.rows.find((row) => row[col('stage')] === label);
    for (const label of ['prefill bootstrap queue', 'bootstrap', 'alloc wait', 'prefill queue', 'prefill forward (compute + KV send)', 'KV transfer', 'decode prealloc queue', 'decode waiting for KV', 'decode queue']) {
      const row = stage(label);
      assert.ok(row, `stage ${label}`);
      // every completed request had both its lines, on both servers
      assert.equal(row[col('requests')], '16/16', label);
      for (const c of ['mean', 'p50', 'p99']) assert.ok(typeof row[col(c)] === 'number' && (row[col(c)] as number) >= 0, `${label} ${c}`);
    }
    // the emulator's model: the KV moves at 0.0015 ms per prompt token (scheduler.ts transferMsPerToken)
    // and the prefill has no bootstrap handshake and never waits for the decode's allocation
    const records = (await readRequests(r.runDir)).filter((x) => x.ok && !x.warmup);
    assert.equal(records.length, 16);
    assert.ok(records.every((x) => typeof x.rid === 'string' && x.rid.length > 0), 'each request kept the rid the decode server returned');
    const promptMean = records.reduce((a, x) => a + (x.promptTokens ?? 0), 0) / records.length;
    const transfer = stage('KV transfer')?.[col('mean')] as number;
    assert.ok(transfer > 0);
    assert.ok(Math.abs(transfer - 0.0015 * promptMean) < 0.01, `KV transfer ${transfer} ms, model ${0.0015 * promptMean} ms`);
    assert.equal(stage('bootstrap')?.[col('mean')], 0);
    assert.equal(stage('alloc wait')?.[col('mean')], 0);
    // the decode server waits for the prefill's queue, compute and transfer: more than the transfer
    assert.ok((stage('decode waiting for KV')?.[col('mean')] as number) > 0);
    assert.equal(stage('decode queue')?.[col('mean')], 0, 'the KV goes into the running batch at once');
    assert.doesNotMatch(r.notes, /flag is absent/);
  } finally {
    await r.dispose();
  }
});

test('without the flag the decomposition says so and shows no per-request table', async () => {
  const r = await deployAndBench(false);
  try {
    assert.ok(!r.tables.some((t) => (t.title ?? '').startsWith('PD time per request')));
    assert.match(r.notes, /the flag is absent; launch prefill and decode with --enable-request-time-stats-logging/);
  } finally {
    await r.dispose();
  }
});
