import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseSchedulerLogLine, rankLabel } from '../../../src/core/telemetry/deep/sglang-log/parse';
import { SchedulerLogConsumer } from '../../../src/core/telemetry/deep/sglang-log/consumer';
import { SGLANG_LOG_FORMAT_VERSIONS } from '../../../src/core/telemetry/deep/sglang-log/formats';
import type { SchedLogSample } from '../../../src/core/telemetry/schema';
import { decodeBatchLine, prefillBatchLine, schedulerPrefix, balancednessLine } from '../../../src/core/sim/deep/sched-log';
import { fixture } from './helpers';

function samples(file: string): { records: SchedLogSample[]; other: string[] } {
  const records: SchedLogSample[] = [];
  const other: string[] = [];
  const c = new SchedulerLogConsumer({ onRecord: (r) => records.push(r), onOtherLine: (_s, l) => other.push(l), now: () => 42 });
  c.chunk({ endpoint: 'decode-0', node: 'gpu3' }, fixture(`sglang/${file}`));
  c.flush();
  return { records, other };
}

test('every supported SGLang version has a fixture', () => {
  assert.deepEqual([...SGLANG_LOG_FORMAT_VERSIONS], ['0.4.0', '0.4.6', '0.5.0', '0.5.5']);
});

test('v0.4.0: TP-only prefill and decode lines, "Decode batch." with a period, time-only prefix', () => {
  const { records, other } = samples('v0.4.0-tp.log');
  assert.equal(records.length, 4);
  assert.deepEqual(records[0], { kind: 'sched', tsMs: 42, endpoint: 'decode-0', node: 'gpu3', event: 'prefill', rank: { tp: 0 }, logTime: '2024-11-30 05:10:02', newSeqs: 1, newTokens: 6, cachedTokens: 0, tokenUsage: 0, runningReqs: 0, queueReqs: 0 });
  assert.equal(records[2].runningReqs, 36);
  assert.equal(records[2].usedTokens, 14473);
  assert.equal(records[2].genThroughputTokPerSec, 2283.73);
  assert.equal(records[2].queueReqs, 4);
  assert.equal(records[3].logTime, '11:19:46');
  assert.equal(other.length, 2, 'server_args and the HTTP access line stay logs');
});

test('v0.4.6 PD + EP: DP/TP/EP ranks, unbootstrapped / transferring queues, balancedness; a traceback stays a log', () => {
  const { records, other } = samples('v0.4.6-pd-ep.log');
  const prefill = records.filter((r) => r.event === 'prefill');
  const decode = records.filter((r) => r.event === 'decode');
  const bal = records.filter((r) => r.event === 'balancedness');
  assert.equal(prefill.length, 2);
  assert.deepEqual(prefill[1].rank, { dp: 3, tp: 3, ep: 3 });
  assert.equal(prefill[1].bootstrapQueueReqs, 2);
  assert.equal(prefill[1].inflightReqs, 4);
  assert.equal(prefill[1].queueReqs, 31);
  assert.equal(prefill[1].inputThroughputTokPerSec, 52311.4);
  assert.equal(decode.length, 2);
  assert.equal(decode[1].retractedReqs, 1);
  assert.equal(decode[1].preallocatedUsage, 0.02);
  assert.equal(decode[1].cudaGraph, true);
  assert.equal(bal.length, 1);
  assert.equal(bal[0].forwardPassId, 1200);
  assert.equal(bal[0].balancedness, 0.812);
  assert.deepEqual(bal[0].balancednessAverages, { '10': 0.801, '100': 0.79, '1000': 0.785 });
  assert.equal(other.length, 4);
  assert.match(other[3], /illegal memory access/);
});

test('v0.5.0: trailing ", ", cuda graph and speculative accept length', () => {
  const { records } = samples('v0.5.0.log');
  assert.equal(records.length, 3);
  assert.equal(records[2].specAcceptLength, 2.71);
  assert.equal(records[2].cudaGraph, false);
  assert.equal(records[2].queueReqs, 399);
  assert.equal(records[2].tokenUsage, 0.88);
});

test('v0.5.5: "Decode batch," with PD prealloc/transfer queues, forward-iteration tag, hybrid token usage', () => {
  const { records, other } = samples('v0.5.5-pd-ep.log');
  const [prefill, d31, d2, hybrid, bal] = records;
  assert.equal(prefill.event, 'prefill');
  assert.equal(prefill.bootstrapQueueReqs, 3, 'prefill "#prealloc-req" is the bootstrap queue');
  assert.equal(prefill.inflightReqs, 6);
  assert.deepEqual(d31.rank, { dp: 31, tp: 31, ep: 31 });
  assert.equal(rankLabel('decode-0', d31.rank), 'decode-0 DP31');
  assert.equal(d2.preallocQueueReqs, 17, 'decode "#prealloc-req" is the prealloc queue');
  assert.equal(d2.transferQueueReqs, 5);
  assert.equal(d2.runningReqs, 240);
  assert.equal(hybrid.usedTokens, 512000);
  assert.equal(hybrid.tokenUsage, 0.71, 'the fuller of the full and SWA pools');
  assert.equal(bal.balancedness, 0.934);
  assert.equal(records.length, 5);
  // the last line has no readable value: it stays a log line instead of an empty sample
  assert.equal(other.length, 3);
  assert.match(other[2], /not-a-number/);
});

test('a shipper time stamp in front of SGLang\'s prefix does not hide the ranks', () => {
  const r = parseSchedulerLogLine('[2025-11-28 19:00:01] [2025-11-28 19:00:01 DP5 TP5 EP5] Decode batch, #running-req: 3, #queue-req: 7, ');
  assert.ok(r.type === 'sched');
  assert.deepEqual(r.fields.rank, { dp: 5, tp: 5, ep: 5 });
  assert.equal(r.fields.queueReqs, 7);
});

test('lines never throw: binary junk, empty lines, half lines come back as logs', () => {
  for (const junk of ['', '\u0000\u0001\u0002', '[2025-01-01 00:00:00 DP', 'Decode batch', 'Prefill batch, #new-seq', '[Expert Balancedness] forward_pass_id=x']) {
    const r = parseSchedulerLogLine(junk);
    assert.ok(r.type === 'other' || r.type === 'sched');
  }
  assert.equal(parseSchedulerLogLine('[Expert Balancedness] nothing here').type, 'other');
});

test('the emulator prints lines the parser reads back (prefix, PD queues, balancedness)', () => {
  const shape = { dpSize: 8, tpSize: 8, epSize: 8, enableDpAttention: true };
  const line = `${schedulerPrefix(shape, 3, new Date(2025, 0, 2, 3, 4, 5))} ${decodeBatchLine({ runningReqs: 12, usedTokens: 3000, tokenUsage: 0.25, genThroughput: 480.5, queueReqs: 2, cudaGraph: true, pd: { preallocatedUsage: 0.1, preallocReqs: 4, transferReqs: 1, retractedReqs: 0 } })}`;
  assert.match(line, /^\[2025-01-02 03:04:05 DP3 TP3 EP3\] Decode batch, /);
  const r = parseSchedulerLogLine(line);
  assert.ok(r.type === 'sched');
  assert.equal(r.fields.preallocQueueReqs, 4);
  assert.equal(r.fields.genThroughputTokPerSec, 480.5);
  const p = parseSchedulerLogLine(`${schedulerPrefix({ dpSize: 1, tpSize: 1, epSize: 1, enableDpAttention: false }, 0)} ${prefillBatchLine({ newSeqs: 2, newTokens: 100, cachedTokens: 5, tokenUsage: 0.01, runningReqs: 1, queueReqs: 0, pd: { bootstrapReqs: 1, inflightReqs: 2, inputThroughput: 900 } })}`);
  assert.ok(p.type === 'sched');
  assert.deepEqual(p.fields.rank, {});
  assert.equal(p.fields.inflightReqs, 2);
  const b = parseSchedulerLogLine(balancednessLine(7, 0.5, [[10, 0.6]]));
  assert.ok(b.type === 'sched');
  assert.equal(b.fields.balancedness, 0.5);
});
