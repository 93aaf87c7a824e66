import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { BenchTelemetry } from '../../../src/core/cells/bench-telemetry';
import { MonitorCellExecutor } from '../../../src/core/cells/monitor';
import { headlessHost } from '../../../src/core/host';
import type { CellContext } from '../../../src/core/exec/cell';
import type { Cluster } from '../../../src/core/launch/types';
import type { CellEvent } from '../../../src/core/exec/events';
import type { DeploymentHandle } from '../../../src/core/exec/handles';
import { Session } from '../../../src/core/exec/session';
import type { OutputDoc, PlotBlock } from '../../../src/core/output/doc';
import { createSimCluster } from '../../../src/core/sim/cluster';
import { parseTelemetryJsonl } from '../../../src/core/telemetry/recorder';
import { startRunTelemetry } from '../../../src/core/telemetry/run-telemetry';
import type { GpuSample, ServerSample } from '../../../src/core/telemetry/schema';
import { GpuTreeData } from '../../../src/extension/views/gpu-tree-data';

// An emulated 2-node cluster (8 GPUs each); one emulated SGLang server launched on n1 through the
// node's own `python3 -m sglang.launch_server` shim. The node's `nvidia-smi` shim reads the
// server's emulated GPU load, so n1's GPUs go busy under load and n2's stay idle.
let dir: string;
let cliPath: string;
let cluster: Cluster;
let url: string;
const dumpDir = () => join(dir, 'expert-dumps');
const serverAc = new AbortController();
let server: Promise<unknown>;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'moebench-monitor-'));
  // the shims call `node <cli> sim ...`: bundle just the sim command (no dependency on `npm run build`)
  const entry = join(dir, 'entry.ts');
  writeFileSync(entry, `import { simCommand } from ${JSON.stringify(resolve(__dirname, '../../../src/cli/commands/sim'))};\nconst argv = process.argv.slice(2);\nif (argv[0] !== 'sim') process.exit(2);\nsimCommand(argv.slice(1)).then((c) => process.exit(c));\n`);
  cliPath = join(dir, 'cli.js');
  await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: cliPath, logLevel: 'error' });
  cluster = await createSimCluster({ name: 'simmon', nodes: ['n1', 'n2'], gpusPerNode: 8, cliPath, seed: 7 });
  const argv = ['python3', '-m', 'sglang.launch_server', '--model-path', '/models/DeepSeek-V3', '--tp', '8', '--ep-size', '8', '--host', '0.0.0.0', '--port', '30000', '--enable-metrics', '--expert-distribution-recorder-mode', 'stat'];
  server = cluster.exec('n1', argv, { signal: serverAc.signal, env: { SGLANG_EXPERT_DISTRIBUTION_RECORDER_DIR: dumpDir() } }).catch(() => undefined);
  url = await cluster.httpEndpoint('n1', 30000);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = await fetch(url + '/health').then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error('the emulated server never became healthy');
    await new Promise((r) => setTimeout(r, 100));
  }
});

after(async () => {
  serverAc.abort();
  await server;
  await cluster.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function deployment(): DeploymentHandle {
  return { name: 'ds-sim', clusterName: 'simmon', engine: 'sglang', simulated: true, endpoint: async () => url, servers: async () => [{ role: 'unified', node: 'n1', url }], commands: [] };
}

function newSession(): Session {
  const s = new Session({ notebookPath: join(dir, `nb-${Math.random().toString(36).slice(2)}.moebench`), toolVersion: 'test' });
  s.clusters.set('simmon', cluster, 'cluster');
  s.deployments.set('ds-sim', deployment(), 'deploy');
  return s;
}

function context(session: Session, signal: AbortSignal): { ctx: CellContext; events: CellEvent[] } {
  const events: CellEvent[] = [];
  return { ctx: { session, cell: { index: 1, name: 'monitor', language: 'moebench-monitor' }, emit: (e) => events.push(e), signal, host: headlessHost() }, events };
}

/** `workers` clients sending /generate back to back until `ms` have passed */
async function load(ms: number, workers: number): Promise<{ startMs: number; endMs: number; requests: number }> {
  const startMs = Date.now();
  const end = startMs + ms;
  let requests = 0;
  const worker = async () => {
    while (Date.now() < end) {
      const r = await fetch(`${url}/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'tell me about mixture of experts '.repeat(20), sampling_params: { max_new_tokens: 48, ignore_eos: true } }) });
      await r.text();
      requests++;
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return { startMs, endMs: Date.now(), requests };
}

const docsOf = (events: CellEvent[]) => events.filter((e): e is Extract<CellEvent, { kind: 'doc' }> => e.kind === 'doc');

async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function meanUtil(samples: GpuSample[], node: string, fromMs: number, toMs: number): number {
  const vals = samples.filter((s) => s.node === node && s.tsMs >= fromMs && s.tsMs <= toMs).flatMap((s) => s.gpus.map((g) => g.utilGpuPct ?? NaN));
  assert.ok(vals.length > 0, `samples of ${node} between ${fromMs} and ${toMs}`);
  return vals.reduce((a, b) => a + b, 0) / vals.length;
}

/** processes of this test's shims still running `nvidia-smi` (the collectors must leave none) */
function smiProcesses(): number {
  let n = 0;
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
      if (cmd.includes(cliPath) && cmd.includes('nvidia-smi')) n++;
    } catch {
      // gone
    }
  }
  return n;
}

test('until stopped: utilisation rises on the loaded node during a load and falls after; the live doc updates in place, ≤ 1/s', async () => {
  const session = newSession();
  const ac = new AbortController();
  const { ctx, events } = context(session, ac.signal);
  const source = 'name: watch-load\ntarget: ds-sim\ncluster: simmon\nintervalMs: 250\n';
  const startedMs = Date.now();
  const run = new MonitorCellExecutor().execute(source, ctx);
  // first paint: both nodes in the "GPUs now" table
  await until(() => docsOf(events).some((d) => d.doc.blocks.some((b) => b.type === 'table' && b.title === 'GPUs now' && b.rows.length === 2)), 'GPU rows of both nodes');
  await new Promise((r) => setTimeout(r, 1000));
  const l = await load(3000, 16);
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(smiProcesses(), 2, 'one nvidia-smi stream per node while watching');
  ac.abort();
  await run;
  const elapsedSec = (Date.now() - startedMs) / 1000;

  const docs = docsOf(events);
  assert.ok(docs.every((d) => d.id === 'watch-load-monitor'), 'one output, replaced in place');
  assert.ok(docs.length >= 4, `live updates: ${docs.length}`);
  assert.ok(docs.length <= Math.ceil(elapsedSec) + 2, `${docs.length} updates in ${elapsedSec.toFixed(1)} s`);
  const final = docs[docs.length - 1].doc;
  assert.match(final.title ?? '', /\(stopped\)/);
  assert.equal(final.simulated, true);
  const plots = final.blocks.filter((b): b is PlotBlock => b.type === 'plot');
  assert.deepEqual(plots.map((p) => p.id), ['watch-load-monitor-gpus', 'watch-load-monitor-kv-queues', 'watch-load-monitor-server-latency']);
  const liveIds = docs[docs.length - 2].doc.blocks.filter((b): b is PlotBlock => b.type === 'plot').map((p) => p.id);
  assert.deepEqual(liveIds, plots.map((p) => p.id), 'the final charts replace the live ones by id');
  const n1Util = plots[0].data.find((t) => t.name === 'n1/0' && t.yaxis === 'y') as { y: number[] };
  assert.ok(Math.max(...n1Util.y) >= 50, 'the chart shows the busy period');
  assert.ok(n1Util.y[n1Util.y.length - 1] < 5, 'and the idle end');
  assert.ok(JSON.stringify(final).length < 150_000, `final doc ${JSON.stringify(final).length} bytes`);

  const runId = final.runIds?.[0] ?? '';
  const runDir = join(session.runStoreDir, runId);
  const meta = JSON.parse(readFileSync(join(runDir, 'meta.json'), 'utf8')) as { status: string; tags: Record<string, string> };
  assert.equal(meta.status, 'cancelled');
  assert.equal(meta.tags.kind, 'monitor');
  const records = parseTelemetryJsonl(readFileSync(join(runDir, 'telemetry.jsonl'), 'utf8')).records;
  const gpu = records.filter((r): r is GpuSample => r.kind === 'gpu');
  const srv = records.filter((r): r is ServerSample => r.kind === 'server');
  const before = meanUtil(gpu, 'n1', 0, l.startMs - 200);
  const during = meanUtil(gpu, 'n1', l.startMs + 700, l.endMs);
  const afterLoad = meanUtil(gpu, 'n1', l.endMs + 1000, Infinity);
  console.log(`n1 GPU util: before ${before.toFixed(1)} %, during ${during.toFixed(1)} %, after ${afterLoad.toFixed(1)} % (${l.requests} requests in ${l.endMs - l.startMs} ms; ${gpu.length} GPU samples, ${srv.length} scrapes, ${docs.length} docs)`);
  assert.ok(before < 5, `idle before: ${before}`);
  assert.ok(during > 50, `busy during the load: ${during}`);
  assert.ok(afterLoad < 5, `idle after: ${afterLoad}`);
  assert.equal(meanUtil(gpu, 'n2', 0, Infinity), 0, 'the node without a server stays idle');
  assert.ok(gpu.every((s) => s.gpus.length === 8));
  assert.ok(srv.some((s) => s.tsMs > l.startMs && s.tsMs < l.endMs && (s.runningReqs ?? 0) > 0), 'running requests seen in /metrics during the load');
  assert.equal(srv[srv.length - 1].runningReqs, 0);
  await until(() => smiProcesses() === 0, 'nvidia-smi streams to end');
});

test('for a duration, with expert load: the final doc has the expert heatmap and balancedness, telemetry.jsonl the snapshot', async () => {
  const session = newSession();
  const { ctx, events } = context(session, new AbortController().signal);
  const source = `name: watch-experts\ntarget: ds-sim\nwatch: [serverMetrics, experts]\nintervalMs: 300\ndurationSec: 4\nexperts: { dir: ${JSON.stringify(dumpDir())} }\n`;
  const run = new MonitorCellExecutor().execute(source, ctx);
  await new Promise((r) => setTimeout(r, 500));
  await load(1500, 8);
  await run;
  const final = docsOf(events).pop()?.doc as OutputDoc;
  assert.doesNotMatch(final.title ?? '', /stopped/);
  const plots = final.blocks.filter((b): b is PlotBlock => b.type === 'plot').map((p) => p.id);
  assert.deepEqual(plots, ['watch-experts-monitor-kv-queues', 'watch-experts-monitor-server-latency', 'watch-experts-monitor-experts-heat', 'watch-experts-monitor-experts-gpu', 'watch-experts-monitor-experts-balance']);
  const kv = final.blocks.find((b) => b.type === 'kv');
  const bal = kv?.type === 'kv' ? kv.items.find(([k]) => k === 'expert balancedness')?.[1] : undefined;
  assert.ok(typeof bal === 'number' && bal > 1 / 8 && bal <= 1, `balancedness ${String(bal)}`);
  const runDir = join(session.runStoreDir, final.runIds?.[0] ?? '');
  assert.equal((JSON.parse(readFileSync(join(runDir, 'meta.json'), 'utf8')) as { status: string }).status, 'completed');
  const snaps = parseTelemetryJsonl(readFileSync(join(runDir, 'telemetry.jsonl'), 'utf8')).records.filter((r) => r.kind === 'experts');
  assert.equal(snaps.length, 1);
  assert.ok(snaps[0].kind === 'experts' && snaps[0].epSize === 8 && snaps[0].numLayers > 0);
  assert.equal(events.filter((e) => e.kind === 'log' && e.stream === 'stderr').length, 0, 'no warnings');
});

test('around a bench run: per-step energy, EPLB-style before/after expert snapshots, phases in telemetry.jsonl', async () => {
  const runDir = mkdtempSync(join(dir, 'run-'));
  const tel = await startRunTelemetry({
    cluster,
    nodes: ['n1'],
    serverUrls: [{ name: 'unified-0', url, node: 'n1' }],
    runDir,
    intervalMs: 250,
    collect: ['gpus', 'serverMetrics', 'experts'],
    experts: { dir: dumpDir() },
  });
  await new Promise((r) => setTimeout(r, 1500));
  tel.phase('warmup');
  await load(300, 1);
  tel.phase('step', { step: 0, label: 'concurrency=2' });
  const s0 = await load(1500, 2);
  const before = await tel.snapshotExperts('before-eplb');
  tel.phase('step', { step: 1, label: 'concurrency=16' });
  const s1 = await load(1500, 16);
  tel.endPhase();
  const live = tel.liveCharts('bench');
  assert.ok(live.some((p) => p.id === 'bench-gpus'));
  const result = await tel.stop({ outputTokens: (s0.requests + s1.requests) * 48, stepOutputTokens: [s0.requests * 48, s1.requests * 48], usdPerGpuHour: 3 });

  assert.equal(before.length, 1);
  assert.equal(result.expertsBefore?.label, 'before-eplb');
  assert.equal(result.expertsAfter?.label, 'run');
  assert.ok(result.eplb && result.eplb.before > 0 && result.eplb.after > 0);
  assert.equal(result.steps.length, 2);
  const [e0, e1] = result.steps.map((s) => s.efficiency);
  console.log(`step 0: ${e0.avgPowerW.toFixed(0)} W, ${e0.joulesPerOutputToken?.toFixed(2)} J/token; step 1: ${e1.avgPowerW.toFixed(0)} W, ${e1.joulesPerOutputToken?.toFixed(2)} J/token; run ${(result.energy.joules / 1000).toFixed(1)} kJ, $${result.energy.usdPer1MOutputTokens?.toFixed(2)}/1M tokens`);
  assert.ok(e0.joules > 0 && e1.joules > 0);
  assert.ok(e1.joulesPerOutputToken !== null && e0.joulesPerOutputToken !== null && e1.joulesPerOutputToken < e0.joulesPerOutputToken, 'more concurrency, less energy per token');
  assert.ok((result.energy.usdPer1MOutputTokens ?? 0) > 0);
  assert.equal(result.gpuCount, 8);
  const phases = parseTelemetryJsonl(readFileSync(join(runDir, 'telemetry.jsonl'), 'utf8')).records.filter((r) => r.kind === 'phase').map((p) => (p.kind === 'phase' ? `${p.phase}${p.step ?? ''}:${p.edge}` : ''));
  assert.deepEqual(phases, ['run:start', 'warmup:start', 'warmup:end', 'step0:start', 'step0:end', 'step1:start', 'step1:end', 'run:end']);
  assert.ok(result.charts.some((p) => p.id === 'telemetry-experts-balance'));
});

test('on an emulated node, the Cluster view, a monitor cell and a bench collect run one nvidia-smi between them; none once they have stopped', async () => {
  const session = newSession();
  const onN1: DeploymentHandle = { ...deployment(), commands: [{ node: 'n1', argv: ['python3', '-m', 'sglang.launch_server'], env: {} }] };
  const tree = new GpuTreeData({ cluster, nodes: ['n1'], streams: session.gpuStreams });
  const monitorStop = new AbortController();
  try {
    tree.setVisible(true);
    // rows, named from the inventory (`nvidia-smi -q -x`, a one-off that has ended by then)
    await until(() => tree.rows('n1').length === 8 && tree.rows('n1')[0].name !== 'GPU', 'the Cluster view shows n1\'s GPUs');
    assert.equal(smiProcesses(), 1);

    const mon = context(session, monitorStop.signal);
    const run = new MonitorCellExecutor().execute('name: watch-shared\ncluster: simmon\nnodes: [n1]\nwatch: [gpus]\n', mon.ctx);
    await until(() => docsOf(mon.events).some((d) => d.doc.blocks.some((b) => b.type === 'table' && b.title === 'GPUs now' && b.rows.length === 1)), 'the monitor shows n1');
    const bench = context(session, new AbortController().signal);
    const tel = await BenchTelemetry.start(['gpus'], onN1, bench.ctx);
    tel.stepStarted(0, 'concurrency=1', undefined);
    assert.equal(smiProcesses(), 1, 'one nvidia-smi on n1 for the view, the monitor and the bench');
    // a tick after the bench joined reaches every watcher at once; the view shows when it came
    const joinedMs = Date.now();
    await until(() => {
      const st = tree.status('n1');
      return st.state === 'live' && st.updatedAtMs > joinedMs;
    }, 'a tick after the bench joined');

    tree.setVisible(false);
    monitorStop.abort();
    await run;
    assert.equal(smiProcesses(), 1, 'the bench still collects');
    const result = await tel.stop([0], 0, undefined);
    assert.ok(result.gpuSamples > 0, 'the bench got ticks from the shared stream');
    assert.equal(result.gpuCount, 8);
    await until(() => smiProcesses() === 0, 'nvidia-smi to end when the last watcher left');
  } finally {
    monitorStop.abort();
    await tree.dispose();
    await session.dispose();
  }
});
