import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ExpertDumpError, parseExpertDump } from '../../../src/core/telemetry/experts/dump';
import { expertDumpConverterArgv } from '../../../src/core/telemetry/experts/dump-converter';
import { balancedness, compareEplb, expertSnapshot, gpuLoadFromPhysical, layerBalancedness, perPassBalancedness } from '../../../src/core/telemetry/experts/load';
import { callExpertRecorder } from '../../../src/core/telemetry/experts/recorder';

const close = (a: number | null | undefined, e: number, eps = 1e-6) => assert.ok(a !== null && a !== undefined && Math.abs(a - e) < eps, `${a} ≉ ${e}`);

test('balancedness is (mean+1e-5)/(max+1e-5) over GPUs, like SGLang: even = 1, all on one of 4 GPUs = 1/4', () => {
  close(layerBalancedness([10, 10, 10, 10]), 1);
  close(layerBalancedness([40, 0, 0, 0]), 0.25, 1e-6);
  close(layerBalancedness([30, 10, 20, 20]), 20 / 30, 1e-6);
  close(layerBalancedness([0, 0, 0, 0]), 1, 1e-9); // an idle layer counts as balanced
  const b = balancedness([[10, 10, 10, 10], [40, 10, 20, 10]]);
  close(b.perLayer[1], 0.5);
  close(b.mean, 0.75);
});

test('a dump with no recorded passes (recorder started after the traffic) is an error that says so', () => {
  const dump = parseExpertDump({ rank: 0, logical_count: [], average_utilization_rate_over_window: null });
  assert.throws(() => expertSnapshot(dump, { epSize: 8, label: 'x', endpoint: 'd', tsMs: 0 }), /no recorded forward passes/);
});

test('per-GPU load groups contiguous physical experts per EP rank', () => {
  assert.deepEqual(gpuLoadFromPhysical([[1, 2, 3, 4, 5, 6]], 3), [[3, 7, 11]]);
  assert.throws(() => gpuLoadFromPhysical([[1, 2, 3]], 2), ExpertDumpError);
});

// 8 logical experts, EP 4. Layer 0 uniform; layer 1 has a hot expert 0.
const LOGICAL = [
  [5, 5, 5, 5, 5, 5, 5, 5],
  [30, 10, 5, 5, 10, 10, 0, 10],
];

test('stat dump in SGLang shape: zero buffer slots are not passes; trivial layout gives 1.0 and 0.5 per layer', () => {
  const raw = { rank: 0, logical_count: [LOGICAL, LOGICAL.map((r) => r.map(() => 0)), LOGICAL], average_utilization_rate_over_window: null };
  const dump = parseExpertDump(raw);
  assert.equal(dump.numPasses, 2);
  const snap = expertSnapshot(dump, { epSize: 4, label: 'before-eplb', endpoint: 'decode', tsMs: 1 });
  assert.deepEqual(snap.logicalCount[1], LOGICAL[1].map((v) => v * 2));
  assert.deepEqual(snap.gpuLoad, [[20, 20, 20, 20], [80, 20, 40, 20]]);
  close(snap.balancednessPerLayer[0], 1);
  close(snap.balancednessPerLayer[1], 0.5);
  close(snap.balancednessMean, 0.75);
  assert.equal(snap.layoutApproximate, true, 'no map: the trivial layout was assumed');
});

test('EPLB before/after: replicas split their expert load; the comparison shows the gain and the layer that got worse', () => {
  const before = expertSnapshot({ mode: 'stat', logicalCount: LOGICAL }, { epSize: 4, label: 'before', endpoint: 'd', tsMs: 1 });
  // 12 physical slots (4 redundant), 3 per GPU
  const map = [
    [0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3],
    [0, 6, 1, 0, 1, 2, 3, 4, 7, 4, 5, 5],
  ];
  const after = expertSnapshot({ mode: 'stat', logicalCount: LOGICAL, physicalToLogicalMap: map }, { epSize: 4, label: 'after', endpoint: 'd', tsMs: 2 });
  assert.deepEqual(after.gpuLoad, [[7.5, 12.5, 12.5, 7.5], [20, 25, 20, 15]]);
  close(after.balancednessPerLayer[0], 0.8);
  close(after.balancednessPerLayer[1], 0.8);
  const cmp = compareEplb(before, after);
  close(cmp.before, 0.75);
  close(cmp.after, 0.8);
  close(cmp.gain, 0.05);
  assert.deepEqual(cmp.regressedLayers, [0]);
  close(cmp.hottestGpuShareBefore, (0.25 + 0.5) / 2);
  close(cmp.hottestGpuShareAfter, (12.5 / 40 + 25 / 80) / 2);
});

test('per_pass dump: physical counts of all ranks are summed and mapped back to logical experts', () => {
  const dump = parseExpertDump({
    records: [
      { forward_pass_id: 1, rank: 0, global_physical_count: [[3, 1, 0, 0]] },
      { forward_pass_id: 1, rank: 1, global_physical_count: [[0, 0, 2, 2]] },
      { forward_pass_id: 2, rank: 0, global_physical_count: [[1, 1, 0, 0]] },
    ],
    last_physical_to_logical_map: [[0, 1, 2, 0]],
  });
  assert.equal(dump.numPasses, 2);
  const s = expertSnapshot(dump, { epSize: 2, label: 'x', endpoint: 'd', tsMs: 0 });
  assert.deepEqual(s.gpuLoad, [[6, 4]]);
  assert.deepEqual(s.logicalCount, [[6, 2, 2]]);
  assert.equal(s.layoutApproximate, false);
  close(s.balancednessMean, 5 / 6, 1e-5);
});

test('per-pass balancedness averages single passes (SGLang window figure)', () => {
  const r = perPassBalancedness([
    [[10, 10], [20, 0]],
    [[5, 15], [10, 10]],
  ]);
  close(r.perPass[0], 0.75, 1e-5);
  close(r.perPass[1], (10 / 15 + 1) / 2, 1e-5);
  close(r.mean, (0.75 + (10 / 15 + 1) / 2) / 2, 1e-5);
});

test('node-side converter (run with real python3 on JSON dumps): picks the newest dump, sums passes, sends per-pass GPU loads', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moebench-dump-'));
  try {
    const run = (ep: number, maxPerPass: number) => {
      const argv = expertDumpConverterArgv({ dir, epSize: ep, maxPerPass });
      try {
        return JSON.parse(execFileSync(argv[0], argv.slice(1), { encoding: 'utf8' })) as unknown;
      } catch (err) {
        const out = (err as { stdout?: string }).stdout ?? '';
        return JSON.parse(out) as unknown;
      }
    };
    assert.throws(() => parseExpertDump(run(0, 0)), ExpertDumpError, 'empty dir: a clear error');
    const zeros = LOGICAL.map((r) => r.map(() => 0));
    fs.writeFileSync(path.join(dir, 'expert_distribution_recorder_1700000000.5.json'), JSON.stringify({ rank: 0, logical_count: [zeros] }));
    fs.writeFileSync(path.join(dir, 'expert_distribution_recorder_1700000500.25.json'), JSON.stringify({ rank: 0, logical_count: [LOGICAL, zeros, LOGICAL], average_utilization_rate_over_window: 0.7 }));
    const stat = parseExpertDump(run(4, 10));
    assert.equal(stat.mode, 'stat');
    assert.equal(stat.numPasses, 2);
    assert.deepEqual(stat.logicalCount, LOGICAL.map((r) => r.map((v) => v * 2)));
    assert.equal(stat.averageUtilizationRateOverWindow, 0.7);
    assert.deepEqual(stat.perPassGpuLoad, [[[10, 10, 10, 10], [40, 10, 20, 10]], [[10, 10, 10, 10], [40, 10, 20, 10]]]);
    assert.ok(stat.files?.[0].endsWith('1700000500.25.json'));
    // a newer per_pass dump: one file per rank
    fs.writeFileSync(path.join(dir, 'expert_distribution_recorder_1700000900.1_0.json'), JSON.stringify({ records: [{ forward_pass_id: 7, rank: 0, global_physical_count: [[3, 1, 0, 0]] }], last_physical_to_logical_map: [[0, 1, 2, 3]] }));
    fs.writeFileSync(path.join(dir, 'expert_distribution_recorder_1700000900.2_1.json'), JSON.stringify({ records: [{ forward_pass_id: 7, rank: 1, global_physical_count: [[0, 0, 2, 2]] }], last_physical_to_logical_map: [[0, 1, 2, 3]] }));
    const pp = parseExpertDump(run(2, 10));
    assert.equal(pp.mode, 'per_pass');
    assert.deepEqual(pp.physicalCount, [[3, 1, 2, 2]]);
    assert.deepEqual(pp.perPassGpuLoad, [[[4, 4]]]);
    assert.equal(pp.files?.length, 2);
    // the emulator's stat dump carries the layout it used; per-pass loads then follow the replicas
    const map = [
      [0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3],
      [0, 6, 1, 0, 1, 2, 3, 4, 7, 4, 5, 5],
    ];
    fs.writeFileSync(path.join(dir, 'expert_distribution_recorder_1700001000.000000.json'), JSON.stringify({ rank: 0, logical_count: [LOGICAL], physical_to_logical_map: map, simulated: true }));
    const sim = parseExpertDump(run(4, 10));
    assert.deepEqual(sim.physicalToLogicalMap, map);
    assert.deepEqual(sim.perPassGpuLoad, [[[7.5, 12.5, 12.5, 7.5], [20, 25, 20, 15]]]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('converter argv carries the directory as an argument, never inside the script', () => {
  const argv = expertDumpConverterArgv({ dir: "/tmp/it's; rm -rf ~", epSize: 8 });
  assert.equal(argv[0], 'python3');
  assert.equal(argv[1], '-c');
  assert.ok(!argv[2].includes('rm -rf'));
  assert.deepEqual(argv.slice(3), ["/tmp/it's; rm -rf ~", '8', '0']);
});

test('recorder calls POST the SGLang endpoints and explain a server started without a recorder mode', async () => {
  const calls: string[] = [];
  const fake: typeof fetch = async (input, init) => {
    calls.push(`${init?.method} ${String(input)}`);
    if (String(input).endsWith('/dump_expert_distribution_record')) {
      return new Response('Please set ServerArgs.expert_distribution_recorder_mode to use ExpertDistributionRecorder.', { status: 500 });
    }
    return new Response('Start recording the expert distribution.\n', { status: 200 });
  };
  assert.match(await callExpertRecorder('http://127.0.0.1:30000/', 'start', { fetchImpl: fake }), /Start recording/);
  await assert.rejects(callExpertRecorder('http://127.0.0.1:30000', 'dump', { fetchImpl: fake }), (err: unknown) => {
    assert.ok(err instanceof ExpertDumpError);
    assert.match(err.hint ?? '', /--expert-distribution-recorder-mode stat/);
    return true;
  });
  assert.deepEqual(calls, ['POST http://127.0.0.1:30000/start_expert_distribution_record', 'POST http://127.0.0.1:30000/dump_expert_distribution_record']);
});
