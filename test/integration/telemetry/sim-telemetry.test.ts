import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { LocalCluster } from '../../../src/core/launch/local/local-cluster';
import { startSimServer } from '../../../src/core/sim';
import { expertSnapshot } from '../../../src/core/telemetry/experts/load';
import { dumpExpertRecord, fetchExpertDump, startExpertRecord, stopExpertRecord } from '../../../src/core/telemetry/experts/recorder';
import type { TelemetryNotice } from '../../../src/core/telemetry/notice';
import type { ServerSample } from '../../../src/core/telemetry/schema';
import { ServerMetricsCollector } from '../../../src/core/telemetry/server/collector';

async function generate(url: string, n: number): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      fetch(`${url}/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: `hello ${i} `.repeat(20), sampling_params: { max_new_tokens: 64, ignore_eos: true } }) }).then((r) => r.text()),
    ),
  );
}

test('the emulator over real loopback HTTP: scraped metrics show the traffic; expert dump round-trips through the node-side converter', async () => {
  const dumpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'moebench-sim-dump-'));
  const sim = await startSimServer({ timeScale: 0.01, seed: 3, expertDumpDir: dumpDir, shape: { tpSize: 8, epSize: 8 } });
  const samples: ServerSample[] = [];
  const collector = new ServerMetricsCollector({ endpoints: [{ name: 'sim', url: sim.url }], intervalMs: 50, onSample: (s) => samples.push(s) });
  try {
    await startExpertRecord(sim.url);
    collector.start();
    while (samples.length < 1) await new Promise((r) => setTimeout(r, 20));
    await generate(sim.url, 16);
    const before = samples.length;
    while (samples.length < before + 2) await new Promise((r) => setTimeout(r, 20));
    await collector.dispose();
    const last = samples[samples.length - 1];
    assert.equal(last.backend, 'sglang');
    const totalGen = samples.reduce((a, s) => a + (s.genTokensPerSec ?? 0) * s.windowSec, 0);
    assert.ok(Math.abs(totalGen - 16 * 64) < 1e-6, `generated tokens seen through /metrics: ${totalGen}`);
    assert.ok(samples.some((s) => (s.ttftMs?.count ?? 0) > 0), 'TTFT histogram moved');

    await stopExpertRecord(sim.url);
    await dumpExpertRecord(sim.url);
    const cluster = new LocalCluster('local', 0);
    const dump = await fetchExpertDump(cluster, 'local', { dir: dumpDir, epSize: 8, maxPerPass: 50, maxAgeSec: 600 });
    assert.equal(dump.mode, 'stat');
    assert.ok((dump.numPasses ?? 0) > 0);
    const snap = expertSnapshot(dump, { epSize: 8, label: 'sim', endpoint: 'sim', tsMs: Date.now() });
    assert.equal(snap.gpuLoad[0].length, 8);
    assert.ok(snap.balancednessMean > 1 / 8 && snap.balancednessMean <= 1, `balancedness ${snap.balancednessMean}`);
    const routed = snap.logicalCount[0].reduce((a, b) => a + b, 0);
    assert.ok(routed > 0, 'the recorded passes routed tokens to experts');
  } finally {
    await collector.dispose();
    await sim.close();
    fs.rmSync(dumpDir, { recursive: true, force: true });
  }
});

test('a server that answers 500 gives one notice per failure streak, then recovers', async () => {
  let fail = true;
  const server = http.createServer((_req, res) => {
    if (fail) {
      res.writeHead(500).end('boom');
    } else {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('sglang:num_running_reqs{dp_rank="0"} 3\n');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const notices: TelemetryNotice[] = [];
  const samples: ServerSample[] = [];
  const collector = new ServerMetricsCollector({ endpoints: [{ name: 'x', url }], intervalMs: 10, onSample: (s) => samples.push(s), onNotice: (n) => notices.push(n) });
  try {
    collector.start();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(notices.length, 1);
    assert.match(notices[0].message, /HTTP 500.*--enable-metrics/);
    fail = false;
    while (samples.length === 0) await new Promise((r) => setTimeout(r, 10));
    assert.equal(samples[0].runningReqs, 3);
    assert.equal(notices[1]?.level, 'info');
  } finally {
    await collector.dispose();
    await new Promise((r) => server.close(r));
  }
});
