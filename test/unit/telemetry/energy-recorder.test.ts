import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gpuEnergy, phaseWindow, runEfficiency } from '../../../src/core/telemetry/energy';
import { GpuStreamAssembler } from '../../../src/core/telemetry/gpu/stream';
import { parseTelemetryJsonl, readTelemetryFile, runDirSink, TelemetryRecorder } from '../../../src/core/telemetry/recorder';
import type { GpuSample, TelemetryRecord } from '../../../src/core/telemetry/schema';
import { fixture } from './helpers';

const close = (a: number | null | undefined, e: number, eps = 1e-6) => assert.ok(a !== null && a !== undefined && Math.abs(a - e) < eps, `${a} ≉ ${e}`);

const tick = (tsMs: number, ...powerW: number[]): GpuSample => ({ kind: 'gpu', tsMs, node: 'n', gpus: powerW.map((w, index) => ({ index, powerW: w })) });

test('energy is the trapezoid over power samples, per GPU, clipped to the window', () => {
  const samples = [tick(0, 100, 100), tick(1000, 200, 100), tick(2000, 300, 100)];
  const all = gpuEnergy(samples);
  close(all.perGpuJoules.get('n/0'), 400);
  close(all.perGpuJoules.get('n/1'), 200);
  close(all.joules, 600);
  assert.equal(all.gpuCount, 2);
  close(all.avgPowerW, 300);
  const clipped = gpuEnergy(samples, { startMs: 500, endMs: 1500 });
  close(clipped.perGpuJoules.get('n/0'), 200);
  close(clipped.durationSec, 1);
});

test('a collector gap longer than maxGapSec is not integrated and shows as less coverage', () => {
  const e = gpuEnergy([tick(0, 100), tick(1000, 100), tick(20_000, 100), tick(21_000, 100)], { maxGapSec: 10 });
  close(e.joules, 200);
  close(e.coveredSec, 2);
  close(e.durationSec, 21);
});

test('real H200 stream: energy of each GPU lies between its lowest and highest power × 9.5 s; the matmul GPU used far more', () => {
  const fields = fixture('nvidia-smi/h200x2/query-idle.csv').split('\n')[0].split(',').map((h) => h.trim().replace(/\s*\[.*\]$/, ''));
  const samples: GpuSample[] = [];
  let t = 0;
  const a = new GpuStreamAssembler({ node: 'h200', fields, onSample: (s) => samples.push(s), now: () => (t += 250) - 250 });
  a.push(fixture('nvidia-smi/h200x2/query-load-stream.csv'));
  a.end();
  assert.equal(samples.length, 39);
  const e = gpuEnergy(samples);
  const j1 = e.perGpuJoules.get('h200/1') ?? 0;
  const w1 = samples.map((s) => s.gpus[1].powerW ?? NaN);
  assert.ok(j1 >= Math.min(...w1) * 9.5 && j1 <= Math.max(...w1) * 9.5, `GPU 1 energy ${j1}`);
  close(e.durationSec, 9.5);
  assert.ok((e.perGpuJoules.get('h200/0') ?? 0) > 3 * j1, 'GPU 0 ran the matmul');
});

test('energy per output token and cost per 1M output tokens', () => {
  const samples = Array.from({ length: 11 }, (_, i) => tick(i * 1000, 50, 50));
  const r = runEfficiency(samples, { outputTokens: 5000, usdPerGpuHour: 2.5 });
  close(r.joules, 1000);
  close(r.joulesPerOutputToken, 0.2);
  close(r.kWhPer1MOutputTokens, 0.2e6 / 3.6e6);
  close(r.usdPer1MOutputTokens, ((2 * (10 / 3600) * 2.5) / 5000) * 1e6);
  assert.equal(runEfficiency(samples, { outputTokens: 0 }).joulesPerOutputToken, null);
  assert.equal(runEfficiency(samples, { outputTokens: 10 }).usdPer1MOutputTokens, null, 'no price, no cost');
});

test('recorder writes batched records and phase markers to telemetry.jsonl; phase windows read back', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moebench-tel-'));
  try {
    let now = 1000;
    const rec = new TelemetryRecorder(runDirSink(dir), { flushIntervalMs: 10_000, now: () => now });
    rec.phase('warmup', 'start');
    rec.record(tick(1500, 100));
    now = 2000;
    rec.phase('warmup', 'end');
    rec.phase('step', 'start', { step: 0, label: 'concurrency=8' });
    rec.record(tick(2500, 300));
    now = 4000;
    rec.phase('step', 'end', { step: 0 });
    assert.equal(fs.existsSync(path.join(dir, 'telemetry.jsonl')), false, 'batched: nothing written before a flush');
    await rec.dispose();
    const file = await readTelemetryFile(path.join(dir, 'telemetry.jsonl'));
    assert.equal(file.records.length, 6);
    assert.deepEqual(phaseWindow(file.records, 'step', 0), { startMs: 2000, endMs: 4000 });
    assert.deepEqual(phaseWindow(file.records, 'warmup'), { startMs: 1000, endMs: 2000 });
    const marker = file.records[3];
    assert.deepEqual(marker, { kind: 'phase', tsMs: 2000, phase: 'step', edge: 'start', step: 0, label: 'concurrency=8' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('reading telemetry.jsonl skips kinds from newer versions and a torn last line', () => {
  const lines: string[] = [
    JSON.stringify({ kind: 'phase', tsMs: 1, phase: 'run', edge: 'start' } satisfies TelemetryRecord),
    JSON.stringify({ kind: 'from-a-newer-moebench', tsMs: 2, node: 'a', value: 3 }),
    '{"kind":"gpu","tsMs":3,"node":"a","gpus":[{"ind',
  ];
  const f = parseTelemetryJsonl(lines.join('\n'));
  assert.equal(f.records.length, 1);
  assert.equal(f.skippedUnknown, 1);
  assert.equal(f.badLines, 1);
});
