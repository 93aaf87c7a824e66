import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseReqTimeStatsLine, ReqTimeStatsStore, transferMsOf, type ReqTimeStatsLine } from '../../../src/core/telemetry/deep/sglang-log/req-time-stats';
import { SchedulerLogConsumer } from '../../../src/core/telemetry/deep/sglang-log/consumer';
import type { SchedLogSample } from '../../../src/core/telemetry/schema';
import { reqTimeStatsLine, schedulerPrefix } from '../../../src/core/sim/deep/sched-log';
import { fixture } from './helpers';

function fixtureLines(): string[] {
  return fixture('sglang/req-time-stats.log').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

test('every generation of the request time-stats line parses into the per-request PD figures', () => {
  const parsed = fixtureLines().map(parseReqTimeStatsLine);
  assert.equal(parsed.length, 10);
  // gen C: bootstrap queue split into bootstrap + alloc wait; the KV transfer from size ÷ speed
  assert.deepEqual(parsed[0], {
    rid: '5f1c0a9e2b7d4c3a8e6f1b2c3d4e5f60',
    type: 'prefill',
    logTime: '2026-03-02 10:15:01',
    bootstrapRoom: '7205759403792793601',
    inputLen: 2048,
    cachedInputLen: 512,
    outputLen: 1,
    firstQueueMs: 12.5,
    bootstrapMs: 10.25,
    allocWaitMs: 2.25,
    queueMs: 3.1,
    forwardMs: 85.4,
    transferSpeedGbS: 21.37,
    transferTotalMb: 137.25,
    retries: 0,
  });
  assert.ok(Math.abs((transferMsOf(parsed[0] as ReqTimeStatsLine) ?? 0) - 6.272) < 0.001);
  assert.deepEqual(parsed[1], {
    rid: '9a8b7c6d5e4f30211203948576abcdef',
    type: 'decode',
    logTime: '2026-03-02 10:15:03',
    bootstrapRoom: '7205759403792793601',
    inputLen: 2048,
    cachedInputLen: 0,
    outputLen: 256,
    firstQueueMs: 4,
    bootstrapMs: 1.5,
    allocWaitMs: 2.5,
    transferWaitMs: 96.2,
    queueMs: 0.8,
    forwardMs: 2500,
  });
  // gen B: no breakdown; a speed of 0.00 is no transfer time
  assert.equal(parsed[2]?.firstQueueMs, 7);
  assert.equal(parsed[2]?.bootstrapMs, undefined);
  assert.equal(parsed[2]?.retries, 1);
  assert.equal(transferMsOf(parsed[2] as ReqTimeStatsLine), undefined);
  assert.equal(parsed[3]?.transferWaitMs, 45);
  // gen A: the old head; its never-set sub-phases are not taken for measurements
  assert.equal(parsed[4]?.rid, 'a-1');
  assert.equal(parsed[4]?.inputLen, 100);
  assert.equal(parsed[4]?.firstQueueMs, 5);
  assert.equal(parsed[4]?.bootstrapMs, undefined);
  assert.equal(parsed[4]?.allocWaitMs, undefined);
  assert.equal(parsed[5]?.transferWaitMs, 20);
  assert.equal(parsed[5]?.outputLen, 16);
  // unified: queue and forward only, no room
  assert.deepEqual(parsed[6], { rid: 'u-1', type: 'unified', logTime: '2026-03-02 10:16:00', inputLen: 10, cachedInputLen: 0, outputLen: 5, queueMs: 1, forwardMs: 20 });
  // a span whose stamps were never set is dropped, the rest kept
  assert.equal(parsed[7]?.firstQueueMs, undefined);
  assert.equal(parsed[7]?.forwardMs, 0);
  // an access line and a cut-off line are no request lines
  assert.equal(parsed[8], undefined);
  assert.equal(parsed[9], undefined);
});

test('the consumer hands request lines to their own callback and still reads the scheduler lines around them', () => {
  const records: SchedLogSample[] = [];
  const other: string[] = [];
  const stats: { line: ReqTimeStatsLine; endpoint: string }[] = [];
  const c = new SchedulerLogConsumer({ onRecord: (r) => records.push(r), onOtherLine: (_s, l) => other.push(l), onReqTimeStats: (line, s) => stats.push({ line, endpoint: s.endpoint }), now: () => 1 });
  const text = [
    '[2026-03-02 10:15:00 DP3 TP3 EP3] Prefill batch, #new-seq: 1, #new-token: 2048, #cached-token: 0, token usage: 0.01, #running-req: 0, #queue-req: 0, ',
    // the emulator's own stamp in front of SGLang's prefix
    `[2026-03-02 10:15:01] ${fixtureLines()[0]}`,
    '[2026-03-02 10:15:02] INFO:     127.0.0.1:1 - "POST /generate HTTP/1.1" 200 OK',
  ].join('\n');
  c.chunk({ endpoint: 'prefill-0/rank-0', node: 'n1' }, text + '\n');
  c.flush();
  assert.equal(records.length, 1);
  assert.equal(stats.length, 1);
  assert.equal(stats[0].endpoint, 'prefill-0/rank-0');
  assert.equal(stats[0].line.bootstrapRoom, '7205759403792793601');
  assert.equal(stats[0].line.logTime, '2026-03-02 10:15:01');
  assert.equal(other.length, 1, 'only the access line stays a log line');
  assert.equal(c.counts.reqTimeStats, 1);
  // without the callback a request line stays a plain log line, as before
  const plain: string[] = [];
  const c2 = new SchedulerLogConsumer({ onRecord: () => undefined, onOtherLine: (_s, l) => plain.push(l) });
  c2.line({ endpoint: 'x' }, fixtureLines()[1]);
  assert.equal(plain.length, 1);
});

test("the emulator's line reads back as what it was given", () => {
  const shape = { dpSize: 4, tpSize: 4, epSize: 4, enableDpAttention: true };
  const prefill = `${schedulerPrefix(shape, 2)} ${reqTimeStatsLine({ type: 'prefill', rid: 'abc', bootstrapRoom: 12, inputLen: 512, cachedInputLen: 0, outputLen: 1, startSec: 12.3456, bootstrapQueueMs: 0, breakdown: { bootstrapMs: 0, allocWaitMs: 0 }, queueMs: 1.234, forwardMs: 20, transferSpeedGbS: 43.63, transferTotalMb: 34.31, retries: 0 })}`;
  assert.match(prefill, /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d DP2 TP2 EP2\] ReqTimeStats\(rid=abc, bootstrap_room=12, input_len=512, cached_input_len=0, output_len=1, type=prefill\): bootstrap_queue_duration\(0\.00ms\) = bootstrap\(0\.00ms\) \+ alloc_wait\(0\.00ms\); queue_duration=1\.23ms, forward_duration=20\.00ms, start=12\.346, transfer_speed=43\.63GB\/s, transfer_total=34\.31MB, #retries=0$/);
  const p = parseReqTimeStatsLine(prefill);
  assert.equal(p?.queueMs, 1.23);
  assert.ok(Math.abs((transferMsOf(p as ReqTimeStatsLine) ?? 0) - 0.768) < 0.001);
  const decode = reqTimeStatsLine({ type: 'decode', rid: 'def', bootstrapRoom: 12, inputLen: 512, cachedInputLen: 0, outputLen: 8, startSec: 1, preallocQueueMs: 0.5, transferMs: 3, queueMs: 0, forwardMs: 40 });
  assert.equal(decode, 'ReqTimeStats(rid=def, bootstrap_room=12, input_len=512, cached_input_len=0, output_len=8, type=decode): prealloc_queue_duration(0.50ms) transfer_duration=3.00ms; queue_duration=0.00ms, forward_duration=40.00ms, start=1.000');
  assert.deepEqual(parseReqTimeStatsLine(decode), { rid: 'def', type: 'decode', bootstrapRoom: '12', inputLen: 512, cachedInputLen: 0, outputLen: 8, firstQueueMs: 0.5, transferWaitMs: 3, queueMs: 0, forwardMs: 40 });
});

function line(type: 'prefill' | 'decode', rid: string, room: string | undefined, queueMs: number): ReqTimeStatsLine {
  const l: ReqTimeStatsLine = { rid, type, queueMs };
  if (room !== undefined) l.bootstrapRoom = room;
  return l;
}

test('the store joins a client rid to its decode line by rid and to its prefill line by the bootstrap room', () => {
  const s = new ReqTimeStatsStore();
  // the two emulated servers drew the same rid for different requests: the room decides
  s.add(line('prefill', 'r1', '100', 1));
  s.add(line('prefill', 'r2', '200', 2));
  s.add(line('decode', 'r1', '200', 3));
  const j = s.join('r1');
  assert.equal(j.decode?.queueMs, 3);
  assert.equal(j.prefill?.queueMs, 2, 'the prefill line of room 200, not the one that shares the rid');
  // no room on the decode line (the client set the rid for both sides): the rid joins
  s.add(line('prefill', 'client-7', undefined, 4));
  s.add(line('decode', 'client-7', undefined, 5));
  assert.equal(s.join('client-7').prefill?.queueMs, 4);
  assert.deepEqual(s.join('nobody'), {});
  assert.deepEqual(s.counts, { prefill: 3, decode: 2, unified: 0 });
});

test('the store keeps a bounded number of requests per side, oldest out first', () => {
  const s = new ReqTimeStatsStore(3);
  for (let i = 0; i < 5; i++) {
    s.add(line('prefill', `p${i}`, `room${i}`, i));
    s.add(line('decode', `d${i}`, `room${i}`, i));
  }
  assert.deepEqual(s.join('d0'), {});
  assert.equal(s.join('d1').decode, undefined);
  assert.equal(s.join('d2').prefill?.queueMs, 2);
  assert.equal(s.join('d4').decode?.queueMs, 4);
  assert.equal(s.seen, 10);
});

test('settle waits for the trailing lines of the given requests, and not at all when the servers log none', async () => {
  const s = new ReqTimeStatsStore();
  let settled = false;
  // nothing logged at all (the flag is off): no wait
  await s.settle(['a'], 60_000);
  s.add(line('prefill', 'pa', 'ra', 1));
  const waiting = s.settle(['a'], 60_000).then(() => (settled = true));
  s.add(line('decode', 'a', 'rb', 1));
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false, 'the decode line points at a prefill line not seen yet');
  s.add(line('prefill', 'pb', 'rb', 1));
  await waiting;
  assert.equal(settled, true);
});
