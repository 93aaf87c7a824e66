import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { createSimCluster } from '../../../src/core/sim/cluster';
import { cliDcgmiCommand, writeDeepShims } from '../../../src/core/sim/deep/shims';
import { startRemoteProcess, stopRemoteProcess, type RemoteProcessState } from '../../../src/core/launch/shell';
import { startRunTelemetry } from '../../../src/core/telemetry/run-telemetry';
import { parseTelemetryJsonl } from '../../../src/core/telemetry/recorder';
import type { TelemetryNotice } from '../../../src/core/telemetry/notice';
import { deepEmulator } from './emulator';

async function waitHealthy(url: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > end) throw new Error(`${url} not healthy`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function load(url: string, requests: number, concurrency: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < requests) {
      const i = next++;
      const res = await fetch(`${url}/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: `request ${i} `.repeat(200), sampling_params: { max_new_tokens: 400, ignore_eos: true } }) });
      await res.text();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

test('a bench-style run on a two-node EP16 sim deployment: NIC bandwidth, NVLink, SM activity and per-rank queue series land in telemetry.jsonl and the charts', async () => {
  const emu = await deepEmulator();
  const work = await mkdtemp(path.join(os.tmpdir(), 'moebench-deep-run-'));
  const cluster = await createSimCluster({ name: 'deep', nodes: ['node1', 'node2'], gpusPerNode: 8, cliPath: emu.cliPath, timeScale: 0.05, seed: 7 });
  const states: RemoteProcessState[] = [];
  try {
    const binDir = (cluster as unknown as { binDir: string }).binDir;
    await writeDeepShims(binDir, { dcgmiCommand: cliDcgmiCommand(emu.cliPath) });
    const dist = `${cluster.node('node1').address}:5858`;
    for (const [i, node] of ['node1', 'node2'].entries()) {
      const argv = ['python3', '-m', 'sglang.launch_server', '--model-path', '/models/DeepSeek-V3', '--tp', '16', '--dp', '16', '--enable-dp-attention', '--moe-a2a-backend', 'deepep', '--nnodes', '2', '--node-rank', String(i), '--dist-init-addr', dist, '--host', '0.0.0.0', '--port', '30000', '--decode-log-interval', '20', '--enable-metrics'];
      states.push(await startRemoteProcess(cluster, node, { deploymentId: 'deeprun', name: `rank-${i}`, argv, baseDir: path.join(work, 'nodes') }));
    }
    const url = await cluster.httpEndpoint('node1', 30000);
    await waitHealthy(url);
    const runDir = path.join(work, 'run');
    await mkdir(runDir);

    const notices: TelemetryNotice[] = [];
    // one set-up path: the run's /metrics and the deep collectors start together
    const tel = await startRunTelemetry({
      cluster,
      serverUrls: [{ name: 'ep16', url }],
      collect: ['serverMetrics', 'gpuDeep', 'nic', 'schedLogs'],
      intervalMs: 250,
      logProcesses: states.map((s) => ({ id: `ep16/${s.name}`, remote: s })),
      runDir,
      epSize: 16,
      onNotice: (n) => notices.push(n),
    });
    tel.phase('step', { step: 0, label: 'concurrency 48' });
    await load(url, 96, 48);
    tel.endPhase();
    await new Promise((r) => setTimeout(r, 600));
    const telResult = await tel.stop();
    const result = telResult.deep;
    assert.ok(result, 'deep results');

    assert.deepEqual(notices.filter((n) => n.level !== 'info'), [], 'no warnings');
    assert.equal(tel.deepState?.sources.get('node1'), 'dcgm');
    assert.equal(tel.deepState?.sources.get('node2'), 'dcgm');
    const ids = result.charts.map((c) => c.id);
    assert.deepEqual(ids, ['deep-nic-nodes', 'deep-nic-heat', 'deep-nvlink-heat', 'deep-rank-queues', 'deep-rank-kv', 'deep-activity']);

    // the NIC heatmap: 8 rails per node, traffic while the step ran (EP spans both nodes)
    const heat = result.charts[1].data[0] as { y: string[]; z: (number | null)[][] };
    assert.equal(heat.y.length, 16);
    assert.ok(heat.y[0].startsWith('node1/mlx5_0:1'));
    const peak = Math.max(...heat.z.flat().filter((v): v is number => v !== null));
    assert.ok(peak > 10, `peak NIC TX+RX ${peak} Gbit/s`);
    assert.match(result.charts[0].title ?? '', /EP16/);
    assert.ok(((result.charts[0].layout?.shapes ?? []) as unknown[]).length >= 1, 'the step is drawn on the network chart');

    // per-rank queues from the scheduler log: all 16 DP ranks of the server
    const queues = result.charts[3];
    const panels = ((queues.layout?.annotations ?? []) as { text: string }[]).map((a) => a.text);
    assert.equal(panels.length, 16);
    assert.ok(panels.includes('ep16/rank-0 DP15'), panels.join(', '));
    const running = queues.data.filter((d) => d.name === 'running') as { y: number[] }[];
    assert.ok(running.some((d) => d.y.some((v) => v > 0)), 'ranks ran requests');

    // everything is in telemetry.jsonl beside the /metrics samples and phases
    const file = parseTelemetryJsonl(await readFile(path.join(runDir, 'telemetry.jsonl'), 'utf8'));
    const kinds = new Set(file.records.map((r) => r.kind));
    for (const k of ['phase', 'server', 'gpu-deep', 'nic', 'sched']) assert.ok(kinds.has(k as never), `telemetry.jsonl has ${k}`);
    assert.equal(file.badLines, 0);
    assert.ok(result.overhead.every((o) => o.bytesPerSec > 0));
  } finally {
    for (const s of states) await stopRemoteProcess(cluster, s, { graceMs: 2000 }).catch(() => undefined);
    await cluster.dispose();
    await emu.dispose();
    await rm(work, { recursive: true, force: true });
  }
});
