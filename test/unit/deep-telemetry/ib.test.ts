import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalCluster } from '../../../src/core/launch/local/local-cluster';
import type { Cluster } from '../../../src/core/launch/types';
import { execLocal } from '../../../src/core/launch/local/local-exec';
import { parseTopology } from '../../../src/core/telemetry/gpu/topology';
import { ibLoopArgv, parseCounterLine, portRates } from '../../../src/core/telemetry/deep/ib/counters';
import { NicCollector } from '../../../src/core/telemetry/deep/ib/collector';
import { nicGpuMap } from '../../../src/core/telemetry/deep/ib/nic-map';
import type { TelemetryNotice } from '../../../src/core/telemetry/notice';
import type { NicSample } from '../../../src/core/telemetry/schema';
import { SimIbCounters, nicBytesPerSec } from '../../../src/core/sim/deep/ib-sysfs';
import { fixture, until } from './helpers';

async function port(root: string, dev: string, n: number, xmit: string, rcv: string, ext?: [string, string]): Promise<void> {
  const dir = path.join(root, dev, 'ports', String(n), 'counters');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'port_xmit_data'), `${xmit}\n`);
  await writeFile(path.join(dir, 'port_rcv_data'), `${rcv}\n`);
  if (ext) {
    const e = path.join(root, dev, 'ports', String(n), 'counters_ext');
    await mkdir(e, { recursive: true });
    await writeFile(path.join(e, 'port_xmit_data_64'), `${ext[0]}\n`);
    await writeFile(path.join(e, 'port_rcv_data_64'), `${ext[1]}\n`);
  }
}

/** a local node whose environment points the sampler at a fake sysfs tree (the documented test seam) */
function withEnv(cluster: Cluster, env: Record<string, string>): Cluster {
  return { ...cluster, name: cluster.name, kind: cluster.kind, nodes: cluster.nodes, node: (n) => cluster.node(n), exec: (node, argv, o = {}) => cluster.exec(node, argv, { ...o, env: { ...o.env, ...env } }), httpEndpoint: (n, p) => cluster.httpEndpoint(n, p), connectionState: (n) => cluster.connectionState(n), dispose: () => cluster.dispose() };
}

test('counter lines and rates: 4-byte words to Gbit/s, resets give no rate, a pinned 32-bit counter is flagged', () => {
  assert.deepEqual(parseCounterLine('mlx5_0 1 1000 2000'), { device: 'mlx5_0', port: 1, xmitWords: 1000n, rcvWords: 2000n });
  assert.equal(parseCounterLine('mlx5_0 1 x x'), undefined);
  const prev = [{ device: 'mlx5_0', port: 1, xmitWords: 0n, rcvWords: 0n }, { device: 'mlx5_1', port: 1, xmitWords: 10n, rcvWords: 10n }];
  // 12.5e9 words × 4 B × 8 bit = 400 Gbit in 1 s
  const next = [{ device: 'mlx5_0', port: 1, xmitWords: 12_500_000_000n, rcvWords: 6_250_000_000n }, { device: 'mlx5_1', port: 1, xmitWords: 5n, rcvWords: 4294967295n }];
  const r = portRates(prev, next, 1);
  assert.deepEqual(r, [{ device: 'mlx5_0', port: 1, txGbps: 400, rxGbps: 200, saturated: false }]);
  const sat = portRates([{ device: 'mlx5_1', port: 1, xmitWords: 0n, rcvWords: 0n }], [{ device: 'mlx5_1', port: 1, xmitWords: 4294967295n, rcvWords: 0n }], 2);
  assert.equal(sat[0].saturated, true);
});

test('the sampler script reads every port, prefers the 64-bit counters_ext, and honours MOEBENCH_IB_SYSFS_ROOT', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'moebench-ib-'));
  try {
    await port(root, 'mlx5_0', 1, '100', '200');
    await port(root, 'mlx5_1', 1, '4294967295', '5', ['123456789012', '42']);
    await port(root, 'mlx5 evil;$(touch x)', 1, '7', '8');
    const ac = new AbortController();
    let out = '';
    await execLocal(ibLoopArgv('0.1'), { cwd: root, env: { MOEBENCH_IB_SYSFS_ROOT: root }, signal: ac.signal, onStdout: (c) => {
      out += c;
      if ((out.match(/@moebench-tick/g) ?? []).length >= 2) ac.abort();
    } }).catch(() => undefined);
    const first = out.split('@moebench-tick')[1].split('\n').slice(1).filter((l) => l !== '');
    assert.deepEqual(first.map(parseCounterLine).filter(Boolean).map((c) => c && [c.device, c.xmitWords, c.rcvWords]), [['mlx5_0', 100n, 200n], ['mlx5_1', 123456789012n, 42n]]);
    // a device name with spaces is read (not executed) and cannot be parsed as a counter line
    assert.ok(first.some((l) => l.startsWith('mlx5 evil')));
    await assert.rejects(import('node:fs/promises').then((fs) => fs.access(path.join(root, 'x'))));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('NICs map to their nearest GPUs from topo -m', () => {
  const map = nicGpuMap(parseTopology(fixture('ib/topo-4gpu-2nic.txt')));
  assert.deepEqual([...map], [['mlx5_0', ['GPU0', 'GPU1']], ['mlx5_1', ['GPU2', 'GPU3']]]);
  assert.equal(nicGpuMap(parseTopology(fixture('h200x4/topo.txt'))).size, 0, 'the H200 capture has no NICs');
});

test('a node without IB ports gets one notice and no restarts', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'moebench-ib-none-'));
  const cluster = withEnv(new LocalCluster('local', 0), { MOEBENCH_IB_SYSFS_ROOT: root });
  const notices: TelemetryNotice[] = [];
  const c = new NicCollector({ cluster, nodes: ['local'], intervalMs: 100, topology: false, onSample: () => undefined, onNotice: (n) => notices.push(n), restartDelayMs: 10 });
  try {
    c.start();
    await until(() => notices.length > 0);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(notices.map((n) => n.message), ['no InfiniBand/RoCE ports on local; no NIC bandwidth from this node']);
  } finally {
    await c.dispose();
    await rm(root, { recursive: true, force: true });
  }
});

test('counters advanced by the emulated load come out as Gbit/s per NIC and per node', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'moebench-ib-sim-'));
  const shape = { role: 'decode' as const, epSize: 16, nnodes: 2, gpusOnNode: 8 };
  const sim = new SimIbCounters(root, [0, 1], shape);
  let t = Date.now();
  await sim.advance(1, t);
  let stop = false;
  // a busy server: counters move every 50 ms of emulated time at full load
  const driver = (async () => {
    while (!stop) {
      await new Promise((r) => setTimeout(r, 50));
      t += 50;
      await sim.advance(1, Date.now());
    }
  })();
  const cluster = withEnv(new LocalCluster('local', 0), { MOEBENCH_IB_SYSFS_ROOT: root });
  const samples: NicSample[] = [];
  const c = new NicCollector({ cluster, nodes: ['local'], intervalMs: 200, topology: false, onSample: (s) => samples.push(s) });
  try {
    c.start();
    await until(() => samples.length >= 3, 8000);
  } finally {
    await c.dispose();
    stop = true;
    await driver;
    await rm(root, { recursive: true, force: true });
  }
  const expected = nicBytesPerSec(shape, 1);
  const s = samples[samples.length - 1];
  assert.deepEqual(s.nics.map((n) => `${n.device}:${n.port}`), ['mlx5_0:1', 'mlx5_1:1']);
  const expectTx = (expected.tx * 8) / 1e9;
  const meanTx = samples.slice(1).reduce((a, x) => a + x.nics[0].txGbps, 0) / (samples.length - 1);
  // sampling and advancing are not aligned: averaged over samples, the rate is the modelled one
  assert.ok(Math.abs(meanTx - expectTx) / expectTx < 0.5, `tx ${meanTx} vs ${expectTx}`);
  assert.ok(s.rxGbps > s.txGbps, 'a PD decode node receives the KV it decodes');
  assert.equal(Math.round(s.txGbps * 1000), Math.round((s.nics[0].txGbps + s.nics[1].txGbps) * 1000));
});
