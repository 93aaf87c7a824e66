import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Cluster, ExecResult } from '../../../src/core/launch/types';
import { runDoctor } from '../../../src/core/doctor/doctor';
import { doctorDoc, doctorText } from '../../../src/core/doctor/doc';
import { parseDfPosix, parseIbstat, parseIbvDevinfo, parseListeningPorts, parseNvlinkStatus, peerMemModule, xidEvents } from '../../../src/core/doctor/parse';
import { noLauncher } from '../no-launcher';

const fx = (p: string): string => readFileSync(path.join(__dirname, '../../fixtures', p), 'utf8');

test('nvlink -s from a real H200: 18 links per GPU at 26.562 GB/s; an inactive link reads as null', () => {
  const gpus = parseNvlinkStatus(fx('nvidia-smi/h200x2/nvlink-s.txt'));
  assert.equal(gpus.length, 2);
  assert.equal(gpus[0].links.length, 18);
  assert.ok(gpus.every((g) => g.links.every((l) => l === 26.562)));
  const down = parseNvlinkStatus(fx('nvidia-smi/h200x4/nvlink-s-gpu0.txt').replace('Link 3: 26.562 GB/s', 'Link 3: <inactive>'));
  assert.equal(down[0].links[3], null);
});

test('ibstat and ibv_devinfo give the same ports: state, rate, link layer, firmware', () => {
  const ib = parseIbstat(fx('doctor/ibstat-port-down.txt'));
  assert.deepEqual(
    ib.map((p) => [p.ca, p.port, p.state, p.physicalState, p.rateGbps, p.linkLayer, p.firmware]),
    [
      ['mlx5_0', 1, 'Active', 'LinkUp', 400, 'InfiniBand', '28.39.1002'],
      ['mlx5_1', 1, 'Down', 'Polling', 10, 'InfiniBand', '28.39.1002'],
    ],
  );
  const ibv = parseIbvDevinfo(fx('doctor/ibv_devinfo.txt'));
  assert.deepEqual(ibv.map((p) => [p.ca, p.port, p.state, p.linkLayer]), [
    ['mlx5_0', 1, 'Active', 'InfiniBand'],
    ['mlx5_1', 1, 'Down', 'InfiniBand'],
  ]);
});

test('df, ss, /proc/modules and the kernel log parse to free space, listening ports, peermem and Xid codes', () => {
  assert.deepEqual(parseDfPosix(fx('doctor/df.txt')), { availKiB: 5428279296, mount: '/models' });
  assert.deepEqual([...parseListeningPorts(fx('doctor/ss-tln.txt'))].sort((a, b) => a - b), [22, 30000]);
  assert.equal(peerMemModule(fx('doctor/proc-modules.txt')), 'nvidia_peermem');
  assert.deepEqual(xidEvents(fx('doctor/dmesg-xid.txt')), { count: 2, codes: [79] });
});

/** nodes answering from fixtures; `odd` answers with the broken variants */
function fixtureCluster(nodes: { name: string; gpus: number; odd?: boolean }[]): Cluster {
  const res = (stdout: string, exitCode = 0, stderr = ''): ExecResult => ({ exitCode, signal: null, stdout, stderr });
  return {
    name: 'fx',
    kind: 'ssh',
    launcher: noLauncher,
    nodes: nodes.map((n) => ({ name: n.name, address: n.name, gpus: n.gpus })),
    node: (name) => {
      const n = nodes.find((x) => x.name === name);
      if (!n) throw new Error(name);
      return { name, address: name, gpus: n.gpus };
    },
    exec: async (node, argv) => {
      const odd = nodes.find((n) => n.name === node)?.odd ?? false;
      const cmd = argv.join(' ');
      if (cmd === 'nvidia-smi -q -x') return res(fx('nvidia-smi/h200x2/q.xml'));
      if (cmd === 'nvidia-smi topo -m') return res(fx('nvidia-smi/h200x2/topo.txt'));
      if (cmd === 'nvidia-smi nvlink -s') return res(odd ? fx('nvidia-smi/h200x2/nvlink-s.txt').replace('Link 5: 26.562 GB/s', 'Link 5: <inactive>') : fx('nvidia-smi/h200x2/nvlink-s.txt'));
      if (cmd === 'ibstat') return res(fx(odd ? 'doctor/ibstat-port-down.txt' : 'doctor/ibstat-2x400.txt'));
      if (cmd === 'cat /proc/modules') return res(fx('doctor/proc-modules.txt'));
      if (argv[0] === 'sh' && argv[2]?.includes('dmesg')) return res(odd ? fx('doctor/dmesg-xid.txt').split('\n').filter((l) => l.includes('Xid')).join('\n') : '');
      if (argv[0] === 'sh') return res('mlx5_0 0\nmlx5_1 0\n');
      if (argv[0] === 'df') return res(fx('doctor/df.txt'));
      if (argv[0] === 'python3') return res(odd ? '0.5.14\n' : '0.5.15\n');
      if (argv[0] === 'ss') return res(fx('doctor/ss-tln.txt'));
      return res('', 127, `${argv[0]}: not found`);
    },
    httpEndpoint: async () => 'http://127.0.0.1:1',
    connectionState: () => ({ state: 'connected' }),
    dispose: async () => undefined,
  };
}

test('three nodes, one mismatched: the odd node is named per fact, its errors are on top, the others agree', async () => {
  const cluster = fixtureCluster([
    { name: 'gpu-a', gpus: 2 },
    { name: 'gpu-b', gpus: 2 },
    { name: 'gpu-c', gpus: 2, odd: true },
  ]);
  const report = await runDoctor(cluster, { modelPath: '/models/DeepSeek-V3', modelSizeGB: 700, ports: [30000, 8000] });
  assert.equal(report.level, 'error');
  const diff = report.mismatches.map((m) => `${m.node}:${m.key}:${m.value}`);
  assert.deepEqual(diff.sort(), ['gpu-c:engine:0.5.14', 'gpu-c:ibPorts:1/2', 'gpu-c:ibRate:400 Gb/s, 10 Gb/s', 'gpu-c:nvlink:35/36 (26.562 GB/s)'].sort());
  const c = report.nodes.find((n) => n.node === 'gpu-c');
  const row = (k: string) => c?.rows.find((r) => r.key === k);
  assert.equal(row('xid')?.level, 'error');
  assert.match(row('xid')?.value ?? '', /codes 79/);
  assert.equal(row('gpus')?.value, '2');
  assert.equal(row('driver')?.value, '580.159.04');
  assert.equal(row('cuda')?.value, '13.0');
  assert.equal(row('gdr')?.value, 'yes (nvidia_peermem)');
  assert.match(row('disk')?.value ?? '', /5176\.\d GiB on \/models/);
  // 30000 is taken on every node (ss fixture): an error, but not a difference between nodes
  assert.equal(row('ports')?.value, 'in use: 30000');
  assert.match(row('hcaAffinity')?.value ?? '', /GPU0→mlx5_0\/mlx5_1 \(NUMA 0\)/);

  const doc = doctorDoc('fx', report);
  assert.equal(doc.blocks[0].type, 'badges');
  assert.equal(doc.blocks[1].type === 'table' && doc.blocks[1].title, 'Differences between nodes');
  assert.deepEqual(doc.blocks.filter((b) => b.type === 'table').map((b) => (b.type === 'table' ? b.title : '')), ['Differences between nodes', 'Node gpu-a', 'Node gpu-b', 'Node gpu-c']);
  const nodeC = doc.blocks.find((b) => b.type === 'table' && b.title === 'Node gpu-c');
  assert.ok(nodeC && nodeC.type === 'table' && String(nodeC.rows[0][2]).includes('differs'), 'the node table starts with what differs');
  assert.match(doctorText('fx', report), /gpu-c: SGLang|gpu-c: sglang version = 0\.5\.14/);
});

test('a node with fewer GPUs than the cluster cell says is an error; no IB tools is a warning, not a crash', async () => {
  const cluster = fixtureCluster([{ name: 'solo', gpus: 8 }]);
  const base = cluster.exec;
  cluster.exec = async (node, argv, o) => (argv[0] === 'ibstat' || argv[0] === 'ibv_devinfo' ? { exitCode: 127, signal: null, stdout: '', stderr: 'not found' } : base(node, argv, o));
  const r = await runDoctor(cluster, {});
  const rows = r.nodes[0].rows;
  assert.equal(rows.find((x) => x.key === 'gpus')?.level, 'error');
  assert.match(rows.find((x) => x.key === 'gpus')?.note ?? '', /says 8/);
  assert.equal(rows.find((x) => x.key === 'ibPorts')?.value, 'none found');
  assert.equal(rows.find((x) => x.key === 'ibPorts')?.level, 'warn');
});

/** replays what the doctor's probes printed on a real single-H200 VM (test/fixtures/doctor/live-h200x1) */
function liveCluster(): Cluster {
  const dir = 'doctor/live-h200x1';
  const probe = (name: string): ExecResult => ({ exitCode: Number(fx(`${dir}/${name}.rc`).trim()), signal: null, stdout: fx(`${dir}/${name}.out`), stderr: fx(`${dir}/${name}.err`) });
  const byArgv = (argv: readonly string[]): string => {
    const cmd = argv.join(' ');
    if (cmd === 'nvidia-smi -q -x') return 'gpu';
    if (cmd === 'nvidia-smi topo -m') return 'topo';
    if (cmd === 'nvidia-smi nvlink -s') return 'nvlink';
    if (cmd === 'ibstat') return 'ibstat';
    if (cmd === 'ibv_devinfo') return 'ibvDevinfo';
    if (cmd === 'cat /proc/modules') return 'modules';
    if (argv[0] === 'sh') return argv[2].includes('dmesg') ? 'xid' : 'hcaNuma';
    if (argv[0] === 'df') return 'disk';
    if (argv[0] === 'python3') return 'engine';
    return 'ports';
  };
  return { ...fixtureCluster([{ name: 'h200-vm', gpus: 1 }]), exec: async (_node, argv) => probe(byArgv(argv)) };
}

test('live outputs of the probes on a real H200 VM: 1 GPU, driver 580.159.04, CUDA 13.0, no IB/ss/sglang handled as findings, not crashes', async () => {
  const r = await runDoctor(liveCluster(), { modelPath: '/', ports: [30000] });
  const row = (k: string) => r.nodes[0].rows.find((x) => x.key === k);
  assert.equal(row('gpus')?.value, '1');
  assert.equal(row('gpus')?.level, 'ok');
  assert.equal(row('gpuModel')?.value, 'NVIDIA H200');
  assert.equal(row('driver')?.value, '580.159.04');
  assert.equal(row('cuda')?.value, '13.0');
  assert.equal(row('powerLimit')?.value, '700 W');
  assert.equal(row('ecc')?.value, 'enabled');
  assert.equal(row('eccErrors')?.value, '0');
  assert.equal(row('nvlink')?.value, 'no NVLink');
  assert.equal(row('ibPorts')?.value, 'none found');
  assert.equal(row('gdr')?.value, 'no');
  assert.equal(row('gdr')?.level, 'ok', 'no RDMA devices: no peermem is not a problem');
  assert.match(row('disk')?.value ?? '', /^6\d\.\d GiB on \/$/);
  assert.equal(row('engine')?.value, 'not installed');
  assert.equal(row('ports')?.value, 'unknown');
  assert.equal(row('xid')?.value, '0');
});
