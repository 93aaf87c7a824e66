import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { dcgmDmonArgv, dcgmUnavailableReason, DCGM_FIELD_IDS } from '../../../src/core/telemetry/deep/dcgm/fields';
import { DcgmDmonParser } from '../../../src/core/telemetry/deep/dcgm/parse';
import { GpuDeepCollector } from '../../../src/core/telemetry/deep/gpu-deep-collector';
import type { GpuDeepReading, GpuDeepSample } from '../../../src/core/telemetry/schema';
import type { TelemetryNotice } from '../../../src/core/telemetry/notice';
import { TickAssembler } from '../../../src/core/telemetry/deep/tick';
import { fakeCluster, fixture, streamThenWait, until } from './helpers';

test('dcgmi dmon asks for SM active/occupancy, tensor, DRAM, PCIe and NVLink fields at the interval', () => {
  assert.deepEqual(dcgmDmonArgv(500), ['dcgmi', 'dmon', '-e', '1002,1003,1004,1005,1009,1010,1011,1012', '-d', '500']);
  assert.equal(dcgmDmonArgv(10)[5], '100', 'DCGM refuses delays under 100 ms');
});

test('dmon rows become per-GPU percentages and GB/s; N/A fields are left out', () => {
  const p = new DcgmDmonParser(DCGM_FIELD_IDS);
  const readings: GpuDeepReading[] = [];
  for (const line of fixture('dcgm/dmon-4gpu.txt').split('\n')) {
    const r = p.parseLine(line);
    if (r.type === 'reading') readings.push(r.reading);
  }
  assert.equal(readings.length, 9);
  const gpu0 = readings[0];
  assert.equal(gpu0.smActivePct, 71.2);
  assert.equal(gpu0.tensorActivePct, 45.5);
  assert.equal(gpu0.pcieTxGBps, 1.234);
  assert.equal(gpu0.nvlinkTxGBps, 150);
  assert.deepEqual(readings[2], { index: 2 }, 'a GPU reporting N/A has no values, not zeros');
  assert.equal(readings[3].pcieRxGBps, 0.043183017);
  assert.equal(readings[8].nvlinkRxGBps, 160, 'a repeated header is read again');
});

test('columns follow the header, not the requested order', () => {
  const p = new DcgmDmonParser([1002, 1004]);
  p.parseLine('#Entity   TENSO   SMACT');
  const r = p.parseLine('GPU 5     0.250   0.900');
  assert.ok(r.type === 'reading');
  assert.equal(r.reading.index, 5);
  assert.equal(r.reading.tensorActivePct, 25);
  assert.equal(r.reading.smActivePct, 90);
});

test('host-engine and profiling-module errors are recognised as "DCGM not available"', () => {
  assert.match(dcgmUnavailableReason(fixture('dcgm/no-hostengine.txt'), 255) ?? '', /Unable to connect to host engine/);
  assert.match(dcgmUnavailableReason(fixture('dcgm/no-profiling.txt'), 1) ?? '', /Error setting watches/);
  assert.equal(dcgmUnavailableReason('sh: 1: dcgmi: not found', 127), 'dcgmi is not installed');
  // the real H200 machine had neither DCGM nor IB devices: the capture is empty
  assert.equal(fixture('h200x4/ib-dcgm.txt'), '');
});

test('tick assembler groups rows per interval and emits a full tick without waiting', () => {
  const ticks: number[][] = [];
  const t = new TickAssembler<{ index: number }>((rows) => ticks.push(rows.map((r) => r.index)));
  for (const i of [0, 1, 2, 0, 1, 2, 0]) t.push({ index: i });
  assert.deepEqual(ticks, [[0, 1, 2], [0, 1, 2]]);
  t.flush();
  assert.deepEqual(ticks[2], [0]);
});

test('a node with DCGM streams dcgm samples; a node without says so and falls back to nvidia-smi', async () => {
  const cluster = fakeCluster(['gpu1', 'gpu2'], async (node, argv, options) => {
    if (argv[0] === 'dcgmi') {
      if (node === 'gpu1') return streamThenWait(fixture('dcgm/dmon-4gpu.txt'), options);
      options.onStdout?.(fixture('dcgm/no-hostengine.txt'));
      return { exitCode: 255, signal: null, stdout: '', stderr: '' };
    }
    if (argv[0] === 'sh') {
      // the NVLink loop: two reads of the real H200 counters, 2 s apart on the node clock
      return streamThenWait(`@moebench-tick 1700000000000000000\n${fixture('h200x4/nvlink-gt-d-load1.txt')}@moebench-tick 1700000002000000000\n${fixture('h200x4/nvlink-gt-d-load2.txt')}@moebench-tick 1700000004000000000\n`, options);
    }
    if (argv[0] === 'nvidia-smi' && argv[1] === 'dmon') return streamThenWait(fixture('h200x4/dmon.txt'), options);
    return { exitCode: 1, signal: null, stdout: '', stderr: 'unexpected' };
  });
  const samples: GpuDeepSample[] = [];
  const notices: TelemetryNotice[] = [];
  const c = new GpuDeepCollector({ cluster, nodes: ['gpu1', 'gpu2'], intervalMs: 1000, onSample: (s) => samples.push(s), onNotice: (n) => notices.push(n), restartDelayMs: 5 });
  c.start();
  await until(() => samples.some((s) => s.node === 'gpu2' && s.gpus.some((g) => g.nvlinkTxGBps !== undefined)) && samples.some((s) => s.node === 'gpu2' && s.gpus.some((g) => g.pcieRxGBps !== undefined)));
  await c.dispose();
  assert.equal(c.source('gpu1'), 'dcgm');
  assert.equal(c.source('gpu2'), 'nvidia-smi');
  assert.ok(samples.filter((s) => s.node === 'gpu1').every((s) => s.source === 'dcgm'));
  assert.deepEqual(notices.map((n) => n.message), ['DCGM not available on gpu2 (Unable to connect to host engine. Host engine connection invalid/disconnected.), using nvidia-smi']);
  const nv = samples.find((s) => s.node === 'gpu2' && s.gpus.some((g) => g.nvlinkTxGBps !== undefined));
  const gpu0 = nv?.gpus.find((g) => g.index === 0);
  // 18 links x ~30.9 GB of KiB counters moved in 2 s: GPU0 sends ~284 GB/s, GPU1 receives it
  assert.ok(gpu0 && gpu0.nvlinkTxGBps !== undefined && gpu0.nvlinkTxGBps > 280 && gpu0.nvlinkTxGBps < 290, `tx ${gpu0?.nvlinkTxGBps}`);
  assert.ok((nv?.gpus.find((g) => g.index === 1)?.nvlinkRxGBps ?? 0) > 280);
  assert.equal(nv?.gpus.find((g) => g.index === 2)?.nvlinkTxGBps, 0);
});
