import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { nvidiaSmiCommand } from '../../../src/core/sim/nvidia-smi/cli';
import type { GpuProcessState } from '../../../src/core/sim/telemetry/gpu-state';

const FIX = join(__dirname, '../../fixtures/nvidia-smi');
const fixture = (p: string): string => readFileSync(join(FIX, p), 'utf8');

async function smi(argv: string[], env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<{ code: number; out: string }> {
  let out = '';
  const sink = { write: (s: string) => ((out += s), true) };
  const code = await nvidiaSmiCommand(argv, sink, sink, { env, signal });
  return { code, out };
}

/** a node whose GPU 0 runs this test process under full load (like the matmul capture) */
function loadedNode(gpus: number): { env: NodeJS.ProcessEnv; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'smi-test-'));
  mkdirSync(join(dir, 'n1'));
  const state: GpuProcessState = { pid: process.pid, processName: 'python3', updatedAtMs: Date.now(), gpus: [{ index: 0, utilPct: 100, memUtilPct: 24, processMemMiB: 42090, load: 1 }] };
  writeFileSync(join(dir, 'n1', `gpu-${process.pid}-1.json`), JSON.stringify(state));
  return { env: { NODE_NAME: 'n1', MOEBENCH_SIM_GPUS: String(gpus), MOEBENCH_SIM_STATE_DIR: dir }, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** a value's shape: digits collapse, UUIDs and spacing kept out of the comparison */
function shape(v: string): string {
  return v.replace(/GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'GPU-UUID').replace(/\d+(\.\d+)?/g, (m) => (m.includes('.') ? 'F' : 'N'));
}

function csvShapes(text: string): string[][] {
  return text.trim().split('\n').map((l) => l.split(', ').map(shape));
}

test('--query-gpu with units prints the same header and value shapes as the real idle capture', async () => {
  const capture = fixture('h200x2/query-idle.csv');
  const fields = capture.split('\n')[0].split(', ').map((h) => h.replace(/ \[.*\]$/, ''));
  const { code, out } = await smi([`--query-gpu=${fields.join(',')}`, '--format=csv'], { NODE_NAME: 'n1', MOEBENCH_SIM_GPUS: '2' });
  assert.equal(code, 0);
  assert.equal(out.split('\n')[0], capture.split('\n')[0]);
  assert.deepEqual(csvShapes(out), csvShapes(capture));
});

test('csv,noheader,nounits matches the nounits capture value for value in shape', async () => {
  const header = fixture('h200x2/query-idle.csv').split('\n')[0];
  const fields = header.split(', ').map((h) => h.replace(/ \[.*\]$/, ''));
  const { out } = await smi(['--query-gpu', fields.join(','), '--format=csv,noheader,nounits'], { NODE_NAME: 'n1', MOEBENCH_SIM_GPUS: '2' });
  assert.deepEqual(csvShapes(out), csvShapes(fixture('h200x2/query-idle-nounits.csv')));
});

test('clocks_throttle_reasons.* are answered under the clocks_event_reasons.* names, as this driver does', async () => {
  const capture = fixture('h200x4/query-idle.csv');
  const fields = capture.split('\n')[0].split(', ').map((h) => h.replace(/ \[.*\]$/, '').replace('clocks_event_reasons', 'clocks_throttle_reasons'));
  const { out } = await smi([`--query-gpu=${fields.join(',')}`, '--format=csv'], { NODE_NAME: 'n1', MOEBENCH_SIM_GPUS: '4' });
  assert.equal(out.split('\n')[0], capture.split('\n')[0]);
  assert.deepEqual(csvShapes(out), csvShapes(capture));
});

test('under load the query shows the busy GPU: 100 %, the process memory, power near the cap, throttled clocks', async () => {
  const node = loadedNode(2);
  try {
    const { out } = await smi(['--query-gpu=index,memory.used,utilization.gpu,power.draw,clocks.current.sm', '--format=csv,noheader,nounits'], node.env);
    const [g0, g1] = out.trim().split('\n').map((l) => l.split(', '));
    assert.equal(g0[1], '42099');
    assert.equal(g0[2], '100');
    assert.ok(Number(g0[3]) > 650 && Number(g0[3]) <= 700, g0[3]);
    assert.ok(Number(g0[4]) < 1600, g0[4]);
    assert.deepEqual([g1[1], g1[2]], ['0', '0']);
  } finally {
    node.cleanup();
  }
});

test('the default table is laid out exactly like the real one (same widths and skeleton)', async () => {
  const node = loadedNode(2);
  try {
    const { out } = await smi([], node.env);
    const ours = out.split('\n');
    const real = fixture('h200x2/default-load.txt').split('\n');
    assert.equal(ours.length, real.length);
    const skeleton = (l: string): string => l.replace(/\d/g, 'N').replace(/N+/g, 'N').replace(/ +/g, ' ');
    for (let i = 1; i < real.length; i++) {
      assert.equal(ours[i].length, real[i].length, `line ${i}: ${ours[i]}`);
      assert.equal(skeleton(ours[i]), skeleton(real[i]), `line ${i}`);
    }
    assert.match(ours[0], /^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4} {7}$/);
  } finally {
    node.cleanup();
  }
});

test('topo -m is byte-identical to the real 2- and 4-GPU captures', async () => {
  assert.equal((await smi(['topo', '-m'], { NODE_NAME: 'n1', MOEBENCH_SIM_GPUS: '2' })).out, fixture('h200x2/topo.txt'));
  assert.equal((await smi(['topo', '-m'], { NODE_NAME: 'n1', MOEBENCH_SIM_GPUS: '4' })).out, fixture('h200x4/topo.txt'));
});

test('-L lists GPUs like the real capture', async () => {
  const { out } = await smi(['-L'], { NODE_NAME: 'n1', MOEBENCH_SIM_GPUS: '2' });
  assert.deepEqual(out.split('\n').map(shape), fixture('h200x2/list.txt').split('\n').map(shape));
});

test('-q -x has the real XML structure, tag for tag, and lists the compute process', async () => {
  const tags = (xml: string): string[] => [...xml.matchAll(/<\/?([A-Za-z_][\w]*)/g)].map((m) => m[0]);
  const idle = await smi(['-q', '-x'], { NODE_NAME: 'n1', MOEBENCH_SIM_GPUS: '2' });
  assert.deepEqual(tags(idle.out), tags(fixture('h200x2/q.xml')));
  const node = loadedNode(2);
  try {
    const { out } = await smi(['-q', '-x'], node.env);
    assert.match(out, /<process_info>\n\t\t\t\t<gpu_instance_id>N\/A<\/gpu_instance_id>\n\t\t\t\t<compute_instance_id>N\/A<\/compute_instance_id>\n\t\t\t\t<pid>\d+<\/pid>\n\t\t\t\t<type>C<\/type>\n\t\t\t\t<process_name>python3<\/process_name>\n\t\t\t\t<used_memory>42090 MiB<\/used_memory>\n\t\t\t<\/process_info>/);
    assert.match(out, /<gpu_util>100 %<\/gpu_util>/);
  } finally {
    node.cleanup();
  }
});

test('--query-compute-apps lists the server process per GPU like the real capture', async () => {
  const node = loadedNode(2);
  try {
    const { out } = await smi(['--query-compute-apps=gpu_uuid,pid,process_name,used_gpu_memory', '--format=csv'], node.env);
    assert.deepEqual(csvShapes(out), csvShapes(fixture('h200x2/apps.csv')));
    assert.equal(out.split('\n')[1].split(', ')[1], String(process.pid));
  } finally {
    node.cleanup();
  }
});

test('a server that died leaves its GPUs free: no process, no memory', async () => {
  const node = loadedNode(2);
  try {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid ?? 999_999;
    const dir = node.env.MOEBENCH_SIM_STATE_DIR ?? '';
    rmSync(join(dir, 'n1'), { recursive: true });
    mkdirSync(join(dir, 'n1'));
    writeFileSync(join(dir, 'n1', `gpu-${dead}-1.json`), JSON.stringify({ pid: dead, processName: 'python3', updatedAtMs: Date.now(), gpus: [{ index: 0, utilPct: 100, memUtilPct: 20, processMemMiB: 1000, load: 1 }] }));
    const { out } = await smi(['--query-compute-apps=pid', '--format=csv,noheader'], node.env);
    assert.equal(out, '');
  } finally {
    node.cleanup();
  }
});

test('-lms streams one header and then a row per GPU per interval until stopped', async () => {
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 650);
  const { code, out } = await smi(['--query-gpu=index,utilization.gpu', '--format=csv', '-lms', '200'], { NODE_NAME: 'n1', MOEBENCH_SIM_GPUS: '2' }, ac.signal);
  assert.equal(code, 0);
  const lines = out.trim().split('\n');
  assert.equal(lines.filter((l) => l.startsWith('index')).length, 1);
  assert.ok(lines.length >= 1 + 2 * 3, `${lines.length} lines`);
  assert.equal((lines.length - 1) % 2, 0);
});

test('an unknown field is refused before anything is printed, with exit status 2', async () => {
  const { code, out } = await smi(['--query-gpu=index,bogus.field', '--format=csv'], { NODE_NAME: 'n1' });
  assert.equal(code, 2);
  assert.equal(out, 'Field "bogus.field" is not a valid field to query.\n\n');
});

test('nvlink -s prints the real H200 layout (18 links at 26.562 GB/s per GPU) and nothing for a lone GPU', async () => {
  const { parseNvlinkStatus } = await import('../../../src/core/doctor/parse');
  const real = parseNvlinkStatus(readFileSync(join(__dirname, '../../fixtures/nvidia-smi/h200x2/nvlink-s.txt'), 'utf8'));
  const two = await smi(['nvlink', '-s'], { NODE_NAME: 'n1', MOEBENCH_SIM_GPUS: '2' });
  assert.equal(two.code, 0);
  assert.deepEqual(parseNvlinkStatus(two.out).map((g) => g.links), real.map((g) => g.links));
  assert.match(two.out, /^GPU 0: NVIDIA H200 \(UUID: GPU-[0-9a-f-]+\)\n\t Link 0: 26\.562 GB\/s\n/);
  const one = await smi(['nvlink', '--status'], { NODE_NAME: 'n1', MOEBENCH_SIM_GPUS: '1' });
  assert.deepEqual(one, { code: 0, out: '' });
});
