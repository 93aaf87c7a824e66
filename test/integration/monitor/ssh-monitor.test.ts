import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { BenchCellExecutor } from '../../../src/core/cells/bench';
import { DeployCellExecutor, stopDeployment } from '../../../src/core/cells/deploy';
import { MonitorCellExecutor, monitorDocId } from '../../../src/core/cells/monitor';
import { headlessHost } from '../../../src/core/host';
import type { CellContext } from '../../../src/core/exec/cell';
import type { SshCluster } from '../../../src/core/launch/ssh/ssh-cluster';
import { Deployment } from '../../../src/core/deploy';
import type { CellEvent } from '../../../src/core/exec/events';
import { Session } from '../../../src/core/exec/session';
import type { TableBlock } from '../../../src/core/output/doc';
import { parseTelemetryJsonl } from '../../../src/core/telemetry/recorder';
import type { GpuSample } from '../../../src/core/telemetry/schema';
import { startLab, type Lab } from '../../lab/lab';
import { emulatorBin, type EmulatorBin } from '../deploy/emulator';
import { cellContext, Events, freePort } from '../deploy/helpers';
import { labCluster, recordingHost } from '../ssh/helpers';
import { installLabSim } from './lab-sim';

// Issue 7's acceptance on real OpenSSH servers: one emulated SGLang server (tp 8) deployed on
// node1 through the deploy cell, a monitor cell watching node1 and node2 through one long-lived
// `nvidia-smi -lms` stream per node (the lab's nvidia-smi shim reads the emulator's GPU load),
// and the bench cell loading the deployment through the SSH-forwarded endpoint. node1's GPUs
// must read idle, then busy during the bench, then idle again; node2 (no server) stays idle.

let lab: Lab;
let emu: EmulatorBin;

before(async () => {
  lab = await startLab({ nodes: 2 });
  emu = await emulatorBin();
  await installLabSim(lab, emu.cliPath);
});
after(async () => {
  await lab?.stop();
  await emu?.dispose();
});

interface NodeProcess {
  pid: number;
  pgid: number;
  args: string;
}

/** live (non-zombie) processes on a lab node, from ps run on the node itself */
async function processesOn(cluster: SshCluster, node: string): Promise<NodeProcess[]> {
  const r = await cluster.exec(node, ['ps', '-e', '-o', 'pid=,pgid=,stat=,args=']);
  assert.equal(r.exitCode, 0, r.stderr);
  const out: NodeProcess[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (m && !m[3].startsWith('Z')) out.push({ pid: Number(m[1]), pgid: Number(m[2]), args: m[4] });
  }
  return out;
}

/** the fake nvidia-smi running as a sampling stream (`moebench sim nvidia-smi ... -lms N`) */
const isSmiStream = (p: NodeProcess): boolean => /\bsim nvidia-smi\b.*\s-lms\s/.test(p.args);
/** an emulated SGLang server or router */
const isEmulator = (p: NodeProcess): boolean => /\bsim (launch-server|router)\b/.test(p.args);

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** GPU samples of the monitor's run so far (telemetry.jsonl is appended about once a second) */
async function gpuSamples(runDir: string): Promise<GpuSample[]> {
  const text = await readFile(path.join(runDir, 'telemetry.jsonl'), 'utf8').catch(() => '');
  return parseTelemetryJsonl(text).records.filter((r): r is GpuSample => r.kind === 'gpu');
}

const utils = (samples: readonly GpuSample[]): number[] => samples.flatMap((s) => s.gpus.map((g) => g.utilGpuPct ?? NaN));
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

function monitorContext(session: Session, signal: AbortSignal, events: CellEvent[]): CellContext {
  return { session, cell: { index: 2, name: 'watch', language: 'moebench-monitor' }, emit: (e) => events.push(e), signal, host: headlessHost() };
}

test('monitor over ssh: node1 GPU utilisation idle, rising during a bench run, falling after; no stream or server left', { timeout: 300_000 }, async (t) => {
  const cluster = await labCluster(lab, ['node1', 'node2'], recordingHost(), { gpusPerNode: 8 });
  const session = new Session({ notebookPath: path.join(lab.dir, 'nb', 'exp.moebench'), toolVersion: 'test' });
  session.clusters.set('lab', cluster, 'cluster');
  session.store.add(cluster);
  let deploymentStopped = false;
  try {
    // lab nodes share one network namespace: a port nothing else here uses
    const port = await freePort('127.0.0.1', 300);
    const deploySource = [
      'name: util-lab',
      'cluster: lab',
      'engine: { kind: sglang, version: "0.5.15" }',
      'model: /models/DeepSeek-V3',
      'servedModelName: deepseek-v3',
      'modelHint: deepseek-v3',
      'server: { enableMetrics: true }',
      'unified:',
      '  nodes: [node1]',
      '  parallel: { tp: 8 }',
      `  ports: { server: ${port} }`,
    ].join('\n');
    await new DeployCellExecutor({ graceMs: 3000 }).execute(deploySource, cellContext(session, new Events()));
    const deployment = session.deployments.get('util-lab');
    assert.ok(deployment instanceof Deployment);
    const pgids = deployment.remoteStates().map((s) => s.remote.pgid);

    const monitorEvents: CellEvent[] = [];
    const stopMonitor = new AbortController();
    const monitorSource = 'name: watch\ntarget: util-lab\ncluster: lab\nnodes: [node1, node2]\nwatch: [gpus, serverMetrics]\nintervalMs: 300\n';
    const monitor = new MonitorCellExecutor().execute(monitorSource, monitorContext(session, stopMonitor.signal, monitorEvents));
    let monitorSettled = false;
    void monitor.then(
      () => (monitorSettled = true),
      () => (monitorSettled = true),
    );
    try {
      const runId = await until(async () => session.runs.tryGet('watch')?.runIds[0], 'the monitor run');
      const runDir = path.join(session.runStoreDir, runId);

      // idle phase: the deploy cell's own one-token check generate may still show in the first
      // samples, so wait until node1's newest three samples read idle (they never would if the
      // shim reported load without any)
      await until(async () => {
        const s = await gpuSamples(runDir);
        const n1 = s.filter((x) => x.node === 'node1');
        return n1.length >= 4 && s.some((x) => x.node === 'node2') && Math.max(...utils(n1.slice(-3))) < 5 ? true : undefined;
      }, 'idle samples of both nodes');
      const streams = await Promise.all(['node1', 'node2'].map(async (n) => (await processesOn(cluster, n)).filter(isSmiStream).length));
      assert.deepEqual(streams, [1, 1], 'one nvidia-smi stream per node while watching');

      const loadStartMs = Date.now();
      const benchSource = [
        'name: lab-load',
        'target: util-lab',
        'workload: { dataset: random, inputLen: 256, outputLen: 64, numPrompts: 64, seed: 3 }',
        'load: { maxConcurrency: 16 }',
      ].join('\n');
      const benchEvents = new Events();
      await new BenchCellExecutor().execute(benchSource, { ...cellContext(session, benchEvents), cell: { index: 3, name: 'lab-load', language: 'moebench-bench' } });
      const loadEndMs = Date.now();

      // after phase: samples that started at least a second after the last request finished
      await until(async () => ((await gpuSamples(runDir)).filter((x) => x.node === 'node1' && x.tsMs >= loadEndMs + 1000).length >= 4 ? true : undefined), 'samples after the load');
      assert.equal(monitorSettled, false, 'the monitor watches until it is stopped');
      stopMonitor.abort();
      await monitor;
      monitorSettled = true;

      // nothing of the monitor is left on the nodes once the cell has ended
      for (const n of ['node1', 'node2']) assert.deepEqual((await processesOn(cluster, n)).filter(isSmiStream), [], `no nvidia-smi stream left on ${n}`);

      const all = await gpuSamples(runDir);
      const node1 = all.filter((s) => s.node === 'node1');
      const preLoad = node1.filter((s) => s.tsMs < loadStartMs);
      const before = preLoad.slice(-3);
      const during = node1.filter((s) => s.tsMs >= loadStartMs && s.tsMs <= loadEndMs);
      const afterLoad = node1.filter((s) => s.tsMs >= loadEndMs + 1000);
      const [b, d, a] = [utils(before), utils(during), utils(afterLoad)];
      const benchSeconds = ((loadEndMs - loadStartMs) / 1000).toFixed(1);
      const msg = `node1 GPU util: before ${mean(b).toFixed(1)} % (max ${Math.max(...b)}; all ${preLoad.length} pre-load samples max ${Math.max(...utils(preLoad))}), during ${mean(d).toFixed(1)} % (max ${Math.max(...d)}, ${during.length} samples over ${benchSeconds} s), after ${mean(a).toFixed(1)} % (max ${Math.max(...a)}, ${afterLoad.length} samples)`;
      t.diagnostic(msg);
      assert.ok(node1.every((s) => s.gpus.length === 8), 'eight GPUs per node1 sample');
      assert.ok(before.length >= 3 && during.length >= 3 && afterLoad.length >= 3, msg);
      assert.ok(Math.max(...b) < 5, `idle before the load: ${msg}`);
      // (modelled GPU time over wall time: a starved CPU stretches the wall time, so not ~100 %)
      assert.ok(mean(d) > 30 && Math.max(...d) >= 80, `busy during the load: ${msg}`);
      assert.ok(Math.max(...a) < 5, `idle again after the load: ${msg}`);
      // the server holds its weights and KV pool, load or not (the first samples may catch the
      // emulated allocation still growing, as right after a real start)
      const memGiB = (ss: readonly GpuSample[]) => Math.min(...ss.flatMap((s) => s.gpus.map((g) => (g.memUsedMiB ?? 0) / 1024)));
      t.diagnostic(`node1 min GPU memory used: first sample ${memGiB(node1.slice(0, 1)).toFixed(1)} GiB, during ${memGiB(during).toFixed(1)} GiB, after ${memGiB(afterLoad).toFixed(1)} GiB`);
      assert.ok(memGiB(node1) > 1 && memGiB(afterLoad) > 50, 'node1 memory held by the server');
      const node2 = all.filter((s) => s.node === 'node2');
      assert.ok(node2.length >= 3);
      assert.deepEqual([...new Set(utils(node2))], [0], 'node2 (no server) stays idle');
      assert.ok(node2.every((s) => s.gpus.every((g) => (g.memUsedMiB ?? 0) < 100)), 'node2 memory free');

      // what the user saw: the live "GPUs now" table went from idle to busy, the final doc is the stopped one
      const docs = monitorEvents.filter((e): e is Extract<CellEvent, { kind: 'doc' }> => e.kind === 'doc');
      assert.ok(docs.every((e) => e.id === monitorDocId('watch')), 'one output, replaced in place');
      const node1Now = docs.flatMap((e) => e.doc.blocks.filter((bl): bl is TableBlock => bl.type === 'table' && bl.title === 'GPUs now').flatMap((tb) => tb.rows.filter((r) => r[0] === 'node1').map((r) => Number(r[tb.columns.indexOf('util')]))));
      assert.ok(node1Now.some((u) => u === 0) && node1Now.some((u) => u > 50), `live node1 util readings: ${node1Now.join(', ')}`);
      assert.match(docs[docs.length - 1]?.doc.title ?? '', /\(stopped\)/);
      const result = benchEvents.doc('lab-load-result')?.blocks.find((bl): bl is TableBlock => bl.type === 'table');
      assert.ok(result, 'the bench result table');
      assert.deepEqual(result.rows.map((r) => r[result.columns.indexOf('Successful requests')]), [64], 'every bench request went through the SSH forward');
    } finally {
      stopMonitor.abort();
      await monitor.catch(() => undefined);
    }

    // stop the deployment: no process of it (nor any emulator or nvidia-smi) is left on either node
    const report = await stopDeployment(session, 'util-lab', { graceMs: 3000 });
    deploymentStopped = true;
    assert.deepEqual(report.processes.map((p) => p.outcome), ['terminated']);
    assert.deepEqual(report.gpuChecks.map((c) => [c.node, c.result]), [['node1', 'clean']], 'the nvidia-smi leak check sees the GPUs released');
    const left1 = await processesOn(cluster, 'node1');
    assert.deepEqual(left1.filter((p) => pgids.includes(p.pgid) || isEmulator(p) || isSmiStream(p)), []);
    const left2 = await processesOn(cluster, 'node2');
    assert.deepEqual(left2.filter((p) => isEmulator(p) || isSmiStream(p)), []);
    // and the fake nvidia-smi reads node1 idle and empty again
    const smi = await cluster.exec('node1', ['nvidia-smi', '--query-gpu=index,utilization.gpu,memory.used', '--format=csv,noheader,nounits']);
    assert.equal(smi.exitCode, 0, smi.stderr);
    assert.deepEqual(smi.stdout.trim().split('\n').map((l) => l.split(',').slice(1).map((x) => Number(x.trim()))), Array.from({ length: 8 }, () => [0, 0]));
  } finally {
    // after a failure above: the deployment still has one owner that ends it (a no-op once stopped)
    const d = session.deployments.tryGet('util-lab');
    if (!deploymentStopped && d instanceof Deployment) await d.stop({ graceMs: 3000 }).catch(() => undefined);
    await session.dispose();
  }
});
