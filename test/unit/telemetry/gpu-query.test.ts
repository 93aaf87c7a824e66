import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseGpuQueryCsv } from '../../../src/core/telemetry/gpu/query-csv';
import { GpuStreamAssembler } from '../../../src/core/telemetry/gpu/stream';
import { clockEventReasons, isThrottled } from '../../../src/core/telemetry/gpu/throttle';
import type { GpuSample } from '../../../src/core/telemetry/schema';
import { chunk, fixture } from './helpers';

// Field order of the h200x2 captures (the header of query-idle.csv).
const X2_FIELDS = [
  'index', 'uuid', 'name', 'pci.bus_id', 'driver_version', 'memory.total', 'memory.used', 'memory.free',
  'utilization.gpu', 'utilization.memory', 'temperature.gpu', 'power.draw', 'power.limit', 'clocks.current.sm',
  'clocks.max.sm', 'clocks.current.memory', 'pcie.link.gen.current', 'pcie.link.width.current', 'fan.speed', 'pstate',
  'ecc.errors.uncorrected.volatile.total',
];
// Field order of the h200x4 captures, as requested (the driver prints clocks_event_reasons.* headers).
const X4_FIELDS = [
  'index', 'uuid', 'name', 'pci.bus_id', 'memory.total', 'memory.used', 'utilization.gpu', 'utilization.memory',
  'temperature.gpu', 'temperature.memory', 'power.draw', 'power.limit', 'enforced.power.limit', 'clocks.current.sm',
  'clocks.current.memory', 'clocks_throttle_reasons.active', 'clocks_throttle_reasons.sw_power_cap',
  'clocks_throttle_reasons.hw_slowdown', 'pcie.link.gen.current', 'pcie.link.width.current', 'pstate',
  'ecc.errors.uncorrected.volatile.total', 'retired_pages.pending',
];

function assemble(text: string, fields: string[], pieces: string[]): GpuSample[] {
  const out: GpuSample[] = [];
  let t = 0;
  const a = new GpuStreamAssembler({ node: 'n1', fields, onSample: (s) => out.push(s), now: () => ++t });
  for (const p of pieces) a.push(p);
  a.end();
  return out;
}

test('H200 idle query with header and units reads memory, power, clocks and leaves [N/A] fan out', () => {
  const { readings, problems } = parseGpuQueryCsv(fixture('nvidia-smi/h200x2/query-idle.csv'), X2_FIELDS);
  assert.deepEqual(problems, []);
  assert.equal(readings.length, 2);
  const g0 = readings[0];
  assert.equal(g0.index, 0);
  assert.equal(g0.uuid, 'GPU-17bf24af-627d-c5b7-ad4f-c1d7e3b2638b');
  assert.equal(g0.memTotalMiB, 143771);
  assert.equal(g0.memUsedMiB, 0);
  assert.equal(g0.powerW, 123.95);
  assert.equal(g0.powerLimitW, 700);
  assert.equal(g0.smClockMHz, 510);
  assert.equal(g0.memClockMHz, 3201);
  assert.equal(g0.pcieGen, 5);
  assert.equal(g0.pcieWidth, 16);
  assert.equal(g0.pstate, 'P0');
  assert.equal(g0.eccUncorrectedVolatile, 0);
  assert.equal('fanPct' in g0, false, '[N/A] fan speed must be absent, not 0');
  assert.equal(readings[1].smClockMHz, 1980);
});

test('H200 under matmul load (no units) shows GPU 0 at 100 % and ~691 W with throttled SM clock', () => {
  const { readings } = parseGpuQueryCsv(fixture('nvidia-smi/h200x2/query-after-nounits.csv'), X2_FIELDS);
  assert.equal(readings[0].utilGpuPct, 100);
  assert.equal(readings[0].powerW, 691.21);
  assert.equal(readings[0].smClockMHz, 1440);
  assert.equal(readings[0].memUsedMiB, 42099);
  assert.equal(readings[1].utilGpuPct, 0);
});

test('renamed clocks_event_reasons header maps to the throttle mask; Not Active / [N/A] columns do not break the row', () => {
  const { readings, problems } = parseGpuQueryCsv(fixture('nvidia-smi/h200x4/query-idle.csv'), X4_FIELDS);
  assert.deepEqual(problems, []);
  assert.equal(readings.length, 4);
  assert.deepEqual(readings.map((r) => r.index), [0, 1, 2, 3]);
  assert.equal(readings[0].clockEventMask, 1);
  assert.deepEqual(clockEventReasons(1), ['gpu_idle']);
  assert.equal(isThrottled(readings[0].clockEventMask), false);
  assert.equal(readings[0].memTempC, 36);
  assert.equal(readings[2].powerW, 95.69);
});

test('h200x4 -lms stream cut at arbitrary points gives the same 19 ticks of 4 GPUs as reading it whole', () => {
  const text = fixture('nvidia-smi/h200x4/query-load-stream.csv');
  const whole = assemble(text, X4_FIELDS, [text]);
  assert.equal(whole.length, 19);
  for (const s of whole) assert.deepEqual(s.gpus.map((g) => g.index), [0, 1, 2, 3]);
  for (const seed of [1, 2, 3, 42]) {
    const cut = assemble(text, X4_FIELDS, chunk(text, seed, 37));
    assert.deepEqual(cut.map((s) => s.gpus), whole.map((s) => s.gpus), `seed ${seed}`);
  }
  // GPU 3 ran a second process at 100 % and hit the software power cap (mask 0x4).
  const last = whole[whole.length - 1].gpus[3];
  assert.equal(last.utilGpuPct, 100);
  assert.equal(isThrottled(last.clockEventMask), true);
  assert.deepEqual(clockEventReasons(last.clockEventMask ?? 0), ['sw_power_cap']);
});

test('stream with header and units, fed one character at a time, learns the GPU count and shows GPU 0 ramping up', () => {
  const text = fixture('nvidia-smi/h200x2/query-load-stream.csv');
  const ticks = assemble(text, X2_FIELDS, text.split(''));
  assert.equal(ticks.length, 39);
  assert.ok(ticks.every((t) => t.gpus.length === 2));
  const util0 = ticks.map((t) => t.gpus[0].utilGpuPct);
  assert.equal(util0[0], 0);
  assert.ok(util0.includes(100));
  const peakW = Math.max(...ticks.map((t) => t.gpus[0].powerW ?? 0));
  assert.ok(peakW > 680 && peakW <= 700, `peak ${peakW}`);
  // tick times are when the first line of each tick arrived, strictly increasing
  for (let i = 1; i < ticks.length; i++) assert.ok(ticks[i].tsMs > ticks[i - 1].tsMs);
});

test('crafted driver quirks: CRLF, [Not Supported], [Unknown Error], an error line, and a header that reorders columns', () => {
  const fields = ['index', 'utilization.gpu', 'power.draw', 'temperature.gpu'];
  const text = [
    '0, 12, [Not Supported], 40\r',
    '1, [Unknown Error], 300.5, [N/A]\r',
    'Unable to determine the device handle for GPU 0000:07:00.0: GPU is lost.  Reboot the system to recover this GPU',
    'temperature.gpu, index, power.draw [W], utilization.gpu [%]',
    '55, 0, 250.00 W, 99 %',
    '',
  ].join('\n');
  const problems: string[] = [];
  const out: GpuSample[] = [];
  const a = new GpuStreamAssembler({ node: 'n', fields, onSample: (s) => out.push(s), onProblem: (p) => problems.push(p) });
  a.push(text);
  a.end();
  assert.equal(out.length, 2);
  assert.deepEqual(out[0].gpus, [{ index: 0, utilGpuPct: 12, tempC: 40 }, { index: 1, powerW: 300.5 }]);
  assert.deepEqual(out[1].gpus, [{ index: 0, tempC: 55, powerW: 250, utilGpuPct: 99 }]);
  assert.equal(problems.length, 1);
  assert.match(problems[0], /GPU is lost/);
});

test('after the first tick the GPU count is known and each tick is emitted as soon as it is complete', () => {
  const out: GpuSample[] = [];
  const a = new GpuStreamAssembler({ node: 'n', fields: ['index', 'utilization.gpu'], onSample: (s) => out.push(s) });
  a.push('0, 1\n1, 2\n2, 3\n');
  assert.equal(out.length, 0, 'the first tick cannot be known complete until the index goes back');
  a.push('0, 4\n');
  assert.deepEqual(out.map((t) => t.gpus.length), [3]);
  a.push('1, 5\n2, 6\n');
  assert.deepEqual(out.map((t) => t.gpus.map((g) => g.utilGpuPct)), [[1, 2, 3], [4, 5, 6]], 'second tick emitted without waiting for a third');
});
