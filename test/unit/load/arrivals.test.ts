import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { arrivalForRate, arrivalOffsets } from '../../../src/core/load/arrivals';
import { createRng } from '../../../src/core/load/rng';
import { loadTrace, traceRows } from '../../../src/core/load/trace';

function take(it: Iterator<number>, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

function gaps(offsets: number[]): number[] {
  return offsets.slice(1).map((t, i) => t - offsets[i]);
}

const meanOf = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const cvOf = (xs: number[]): number => {
  const m = meanOf(xs);
  return Math.sqrt(meanOf(xs.map((x) => (x - m) ** 2))) / m;
};

test('Poisson arrivals: the first request at 0, exponential gaps averaging 1/rate (CV 1)', () => {
  const offsets = take(arrivalOffsets({ kind: 'poisson', ratePerSec: 50 }, createRng(1)), 20001);
  assert.equal(offsets[0], 0);
  const g = gaps(offsets);
  assert.ok(Math.abs(meanOf(g) - 20) < 0.5, `mean gap ${meanOf(g)}`);
  assert.ok(Math.abs(cvOf(g) - 1) < 0.03, `cv ${cvOf(g)}`);
});

test('burstiness is the gamma shape: CV = 1/sqrt(burstiness), same mean rate', () => {
  for (const b of [0.25, 4]) {
    const g = gaps(take(arrivalOffsets({ kind: 'poisson', ratePerSec: 100, burstiness: b }, createRng(2)), 20001));
    assert.ok(Math.abs(meanOf(g) - 10) < 0.4, `mean ${meanOf(g)} at burstiness ${b}`);
    assert.ok(Math.abs(cvOf(g) - 1 / Math.sqrt(b)) < 0.08, `cv ${cvOf(g)} at burstiness ${b}`);
  }
});

test('constant, all-at-once and vLLM-style rescaled schedules', () => {
  assert.deepEqual(take(arrivalOffsets({ kind: 'constant', ratePerSec: 4 }, createRng(1)), 4), [0, 250, 500, 750]);
  assert.deepEqual(take(arrivalOffsets({ kind: 'all-at-once' }, createRng(1)), 3), [0, 0, 0]);
  const scaled = take(arrivalOffsets({ kind: 'poisson', ratePerSec: 10 }, createRng(3), { rescaleToCount: 100 }), 1000);
  assert.equal(scaled.length, 100);
  assert.ok(Math.abs(scaled[99] - 10000) < 1e-6, `last at ${scaled[99]}`);
  assert.deepEqual(arrivalForRate(Infinity), { kind: 'all-at-once' });
  assert.deepEqual(arrivalForRate(5, Infinity), { kind: 'constant', ratePerSec: 5 });
});

test('the same seed gives the same schedule', () => {
  const a = take(arrivalOffsets({ kind: 'poisson', ratePerSec: 7 }, createRng(42)), 50);
  const b = take(arrivalOffsets({ kind: 'poisson', ratePerSec: 7 }, createRng(42)), 50);
  assert.deepEqual(a, b);
});

test('trace replay: sorted, relative to the first entry, scaled, with per-request sizes', async () => {
  const entries = await loadTrace(path.resolve(__dirname, '../../fixtures/datasets/trace-sample.jsonl'));
  assert.deepEqual(take(arrivalOffsets({ kind: 'trace', offsetsMs: entries.map((e) => e.offsetMs), timeScale: 2 }, createRng(1)), 10), [0, 100, 240]);
  const rows = traceRows(entries, createRng(1), 16);
  assert.deepEqual(rows?.map((r) => [r.promptLen, r.outputLen]), [
    [40, 8],
    [20, 6],
    [12, 4],
  ]);
});
