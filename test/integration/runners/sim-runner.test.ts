import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BenchCellExecutor } from '../../../src/core/cells/bench';
import { DeployCellExecutor, stopDeployment } from '../../../src/core/cells/deploy';
import type { Cluster } from '../../../src/core/launch/types';
import { Session } from '../../../src/core/exec/session';
import { loadStoredRun } from '../../../src/core/report';
import { createSimCluster } from '../../../src/core/sim/cluster';
import { emulatorBin, type EmulatorBin } from '../deploy/emulator';
import { cellContext, Events } from '../deploy/helpers';
import { installStandin } from './standin';

// SGLang's own benchmark (a stand-in with its flags and JSONL) run on a sim cluster node against
// a deployment, through the remote supervisor, its file fetched, imported and stored as a run.

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'runners');
let emu: EmulatorBin;
let root: string;
let session: Session;
let cluster: Cluster & { binDir: string };

before(async () => {
  emu = await emulatorBin();
  root = await mkdtemp(path.join(os.tmpdir(), 'moebench-runner-'));
  cluster = (await createSimCluster({ name: 'test', nodes: ['node1', 'node2', 'node3'], gpusPerNode: 8, cliPath: emu.cliPath, zeroCost: true })) as Cluster & { binDir: string };
  session = new Session({ notebookPath: path.join(root, 'exp.moebench'), toolVersion: 'test' });
  session.clusters.set('test', cluster, 'cluster');
  session.store.add(cluster);
  await new DeployCellExecutor({ graceMs: 3000 }).execute(readFileSync(path.join(FIXTURES, 'deploy-unified-sim.yaml'), 'utf8'), cellContext(session, new Events()));
});
after(async () => {
  await stopDeployment(session, 'solo').catch(() => undefined);
  await session.dispose();
  await emu.dispose();
  await rm(root, { recursive: true, force: true });
});

async function bench(lines: string[], name: string): Promise<Events> {
  const events = new Events();
  await new BenchCellExecutor().execute([`name: ${name}`, 'target: solo', ...lines, ''].join('\n'), { ...cellContext(session, events, undefined, name), cell: { index: 2, name, language: 'moebench-bench' } });
  return events;
}

async function metaOf(runId: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path.join(session.runStoreDir, runId, 'meta.json'), 'utf8')) as Record<string, unknown>;
}

describe('runner: sglang on a sim cluster', () => {
  test('bench_serving runs on node2 against the in-cluster address; its JSONL becomes a run with the same metric schema', async () => {
    await installStandin(cluster.binDir, ['sglang.bench_serving']);
    const events = await bench(['runner: sglang', 'runnerNode: node2', 'workload: { dataset: random, numPrompts: 24, inputLen: 64, outputLen: 16, rangeRatio: 1, seed: 3 }', 'load: { maxConcurrency: 6 }'], 'remote-one');
    const runIds = session.runs.get('remote-one').runIds;
    assert.equal(runIds.length, 1);
    const meta = await metaOf(runIds[0]);
    assert.equal(meta['source'], 'sglang-bench-serving');
    const runner = meta['runner'] as { module: string; nodes: { node: string; argv: string[] }[] };
    assert.equal(runner.module, 'sglang.bench_serving');
    const argv = runner.nodes[0].argv;
    assert.equal(runner.nodes[0].node, 'node2');
    // the tool talks to node1's own address (the deployment as seen from the cluster)
    assert.equal(argv[argv.indexOf('--base-url') + 1], `http://${cluster.node('node1').address}:30000`);
    assert.deepEqual([argv[argv.indexOf('--num-prompts') + 1], argv[argv.indexOf('--max-concurrency') + 1], argv[argv.indexOf('--backend') + 1]], ['24', '6', 'sglang']);
    // what a report sees: a comparable run with bench_serving's numbers
    const loaded = await loadStoredRun(path.join(session.runStoreDir, runIds[0]));
    assert.ok('run' in loaded);
    assert.equal(loaded.run.summary.completed, 24);
    assert.equal(loaded.run.summary.totalOutputTokens, 24 * 16);
    assert.ok(loaded.run.summary.outputThroughput > 0);
    assert.ok((loaded.run.summary.ttftMs.mean ?? 0) > 0);
    assert.equal(loaded.run.simulated, true);
    // the tool's console output streamed into the cell, with the node as source; progress went to a doc
    assert.ok(events.all.some((e) => e.kind === 'log' && e.source === 'node2' && /Serving Benchmark Result/.test(e.text)));
    assert.ok(events.all.some((e) => e.kind === 'doc' && e.id === 'remote-one-progress' && JSON.stringify(e.doc).includes('/24 requests')));
    assert.match(events.docText('remote-one-result'), /measured by SGLang bench_serving/);
  });

  test('a node without the old module: the newer sglang.benchmark.serving is tried next', async () => {
    await installStandin(cluster.binDir, ['sglang.benchmark.serving']);
    const events = await bench(['runner: sglang', 'runnerNode: node3', 'workload: { dataset: random, numPrompts: 8, inputLen: 32, outputLen: 8, rangeRatio: 1 }'], 'remote-fallback');
    const meta = await metaOf(session.runs.get('remote-fallback').runIds[0]);
    assert.equal((meta['runner'] as { module: string }).module, 'sglang.benchmark.serving');
    assert.match(events.logText(), /sglang\.bench_serving is not available on node3; trying python3 -m sglang\.benchmark\.serving/);
  });

  test('two runner nodes split the workload; the run merges both per request', async () => {
    await installStandin(cluster.binDir, ['sglang.bench_serving', 'sglang.benchmark.serving']);
    await bench(['runner: sglang', 'runnerNodes: [node2, node3]', 'workload: { dataset: random, numPrompts: 30, inputLen: 48, outputLen: 12, rangeRatio: 1, seed: 9 }', 'load: { maxConcurrency: 8 }'], 'remote-two');
    const id = session.runs.get('remote-two').runIds[0];
    const meta = await metaOf(id);
    const nodes = (meta['runner'] as { nodes: { node: string; argv: string[] }[] }).nodes;
    const flag = (argv: string[], f: string): string => argv[argv.indexOf(f) + 1];
    assert.deepEqual(nodes.map((n) => [n.node, flag(n.argv, '--num-prompts'), flag(n.argv, '--max-concurrency'), flag(n.argv, '--seed')]), [['node2', '15', '4', '9'], ['node3', '15', '4', '10']]);
    const loaded = await loadStoredRun(path.join(session.runStoreDir, id));
    assert.ok('run' in loaded);
    assert.equal(loaded.run.summary.completed, 30);
    assert.equal(loaded.run.summary.totalOutputTokens, 30 * 12);
    // TTFT over every request of both nodes, not an average of averages
    assert.equal(loaded.run.summary.ttftMs.count, 30);
    assert.ok(loaded.run.definitionNotes.some((n) => /Merged from 2 load-generating nodes/.test(n)));
  });

  test('a runner without runnerNode says which field to add', async () => {
    await assert.rejects(bench(['runner: sglang', 'workload: { dataset: random, numPrompts: 2, inputLen: 8, outputLen: 2 }'], 'remote-bad'), /runner: sglang needs runnerNode/);
  });
});
