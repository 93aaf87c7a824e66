import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { benchSpecSchema } from '../../../src/core/spec/bench-spec';
import { parseSpec } from '../../../src/core/spec/yaml-spec';
import { analyzeFault, defaultStallMs, type InjectedFault } from '../../../src/core/faults/analyze';
import { faultBadges } from '../../../src/core/faults/doc';
import type { RequestRecord } from '../../../src/core/metrics/record';
import { SpecValidationError } from '../../../src/core/util/errors';

/** a request started at `startMs`: ok with tokens every `gapMs`, or failed after `failAfterMs` */
function rec(seq: number, startMs: number, o: { failAfterMs?: number; gapMs?: number; tokens?: number; stallAt?: number; stallMs?: number } = {}): RequestRecord {
  const tokens = o.tokens ?? 8;
  const gap = o.gapMs ?? 10;
  const chunkMs: number[] = [];
  let t = 20;
  for (let i = 0; i < tokens; i++) {
    if (o.stallAt === i) t += o.stallMs ?? 0;
    chunkMs.push(t);
    t += gap;
  }
  const failed = o.failAfterMs !== undefined;
  return {
    seq, row: seq, scheduledMs: startMs, dispatchedMs: startMs, startMs, promptLen: 10, maxTokens: tokens, ok: !failed,
    error: failed ? 'ECONNREFUSED' : undefined, lastLineMs: failed ? (o.failAfterMs ?? 0) : t, chunkMs: failed ? [] : chunkMs,
    chunkChars: failed ? [] : chunkMs.map(() => 3), chunkTokens: failed ? [] : chunkMs.map((_, i) => i + 1), outputTokens: failed ? null : tokens, promptTokens: 10, cachedTokens: 0, text: '',
  };
}

const fault = (atMs: number): InjectedFault => ({ index: 0, kind: 'kill', label: 'kill decode-0/rank-0 (SIGKILL)', plannedAtMs: atMs, atMs, endedAtMs: null, detail: [] });

describe('fault analysis', () => {
  test('a kill: detected at the first failure, the burst counted, recovered at the first of 5 good requests in a row', () => {
    const records: RequestRecord[] = [];
    for (let i = 0; i < 10; i++) records.push(rec(i, i * 100));
    // fault at 1000 ms: requests from 1000 to 1900 fail after 5 ms, then all succeed
    for (let i = 10; i < 20; i++) records.push(rec(i, i * 100, { failAfterMs: 5 }));
    for (let i = 20; i < 30; i++) records.push(rec(i, i * 100));
    const o = analyzeFault(records, fault(1000), { recoverAfter: 5 });
    assert.equal(o.detectMs, 5);
    assert.deepEqual(o.burst, { failed: 10, stalled: 0, startMs: 1005, endMs: 1905 });
    assert.equal(o.recovered, true);
    // request 20 starts at 2000 and ends at 2000 + 20 + 7*10 + 10
    assert.equal(o.recoverMs, 2100 - 1000);
    assert.match(o.text, /detected after 0\.01 s, 10 failed in 0\.90 s, recovered after 1\.10 s/);
  });

  test('failures mixed with successes to the end: no recovery', () => {
    const records: RequestRecord[] = [];
    for (let i = 0; i < 40; i++) records.push(i >= 10 && i % 2 === 0 ? rec(i, i * 100, { failAfterMs: 1 }) : rec(i, i * 100));
    const o = analyzeFault(records, fault(950), { recoverAfter: 5 });
    assert.equal(o.recovered, false);
    assert.equal(o.recoverMs, null);
    assert.equal(o.burst?.failed, 15);
    assert.equal(faultBadges([o])[0].level, 'error');
  });

  test('a stall (slow_down) shows as stalled requests, not failures', () => {
    const records: RequestRecord[] = [];
    for (let i = 0; i < 10; i++) records.push(rec(i, i * 100));
    for (let i = 10; i < 13; i++) records.push(rec(i, i * 100, { stallAt: 2, stallMs: 2000 }));
    for (let i = 13; i < 40; i++) records.push(rec(i, 3500 + i * 100));
    assert.equal(defaultStallMs(records, 1000), 500);
    const o = analyzeFault(records, fault(1000), { recoverAfter: 5 });
    assert.equal(o.burst?.failed, 0);
    assert.equal(o.burst?.stalled, 3);
    // the first stalled request (start 1000, last token before the gap at 30 ms) is noticed 500 ms into the gap
    assert.equal(o.detectMs, 30 + 500);
    assert.equal(o.recovered, true);
  });

  test('a fault with no visible effect is reported as such', () => {
    const records = Array.from({ length: 20 }, (_, i) => rec(i, i * 100));
    const o = analyzeFault(records, fault(500), { recoverAfter: 5 });
    assert.equal(o.detectMs, null);
    assert.match(o.text, /no failed or stalled request/);
    assert.equal(faultBadges([o])[0].text, 'kill decode-0/rank-0: no visible effect');
  });
});

describe('faults in the bench spec', () => {
  const parse = (lines: string[]) => parseSpec(benchSpecSchema, ['name: b', 'target: d', ...lines, ''].join('\n'), { kind: 'moebench-bench' }).spec;

  test('times are read as 10s / 500ms / seconds; defaults filled in', () => {
    const s = parse(['faults:', '  - { at: 10s, kill: { role: decode } }', '  - { at: 500ms, slowDown: { role: prefill, instance: 1 } }', '  - { at: 2, cutNode: node3 }']);
    assert.deepEqual(s.faults?.map((f) => f.at), [10, 0.5, 2]);
    assert.deepEqual(s.faults?.[0].kill, { role: 'decode', instance: 0, rank: 0, signal: 'KILL' });
    assert.deepEqual(s.faults?.[1].slowDown, { role: 'prefill', instance: 1, forSec: 5, sleepSec: 1 });
    assert.deepEqual(s.faults?.[2].cutNode, { node: 'node3', forSec: 10 });
  });

  test('a fault item must say exactly one thing to do, with the line', () => {
    assert.throws(
      () => parse(['faults:', '  - { at: 1s, kill: { role: decode }, cutNode: n1 }']),
      (e: unknown) => e instanceof SpecValidationError && /exactly one of kill, slowDown or cutNode/.test(e.message) && e.where.line === 4,
    );
    assert.throws(() => parse(['faults:', '  - { at: soon, kill: { role: decode } }']), /a time such as 10s/);
  });
});
