import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decomposeTtft, REQUEST_TIME_STATS_FLAG, type TtftDecomposition } from '../../../src/core/metrics/ttft-decomposition';
import { ttftDecompositionBlocks } from '../../../src/core/metrics/ttft-chart';
import type { RequestRecord } from '../../../src/core/metrics/record';
import { parsePrometheusText } from '../../../src/core/telemetry/server/prometheus';
import type { ServerWindow } from '../../../src/core/telemetry/server/run-scrapes';
import { ReqTimeStatsStore, parseReqTimeStatsLine } from '../../../src/core/telemetry/deep/sglang-log/req-time-stats';
import { reqTimeStatsLine } from '../../../src/core/sim/deep/sched-log';
import { SGLANG_SERVER_ARGS_TSV } from '../../../src/core/engines/sglang/catalog-data';
import type { TableBlock } from '../../../src/core/output/doc';

/** a prefill and a decode server scraped around the run (no histograms needed here) */
const windows: ServerWindow[] = ['prefill@n1', 'decode@n2'].map((endpoint) => ({ endpoint, before: parsePrometheusText(''), after: parsePrometheusText('') }));

function rec(seq: number, rid: string | undefined, extra: Partial<RequestRecord> = {}): RequestRecord {
  const r: RequestRecord = { seq, row: seq, scheduledMs: 0, dispatchedMs: 0, startMs: 0, promptLen: 512, maxTokens: 8, ok: true, lastLineMs: 50, chunkMs: [20, 30], chunkChars: [1, 1], chunkTokens: [1, 2], outputTokens: 2, promptTokens: 512, cachedTokens: 0, text: 'ab', ...extra };
  if (rid !== undefined) r.rid = rid;
  return r;
}

/** lines as a server prints them, through the parser */
function feed(store: ReqTimeStatsStore, k: number, sides: { prefill?: boolean; decode?: boolean }): void {
  const room = 1000 + k;
  if (sides.prefill) {
    const l = reqTimeStatsLine({ type: 'prefill', rid: `prefill-own-${k}`, bootstrapRoom: room, inputLen: 512, cachedInputLen: 0, outputLen: 1, startSec: 1, bootstrapQueueMs: 3 * k, breakdown: { bootstrapMs: 2 * k, allocWaitMs: k }, queueMs: 10 * k, forwardMs: 100, transferSpeedGbS: 10, transferTotalMb: 1024 * (k / 100), retries: k === 2 ? 1 : 0 });
    store.add(parseReqTimeStatsLine(l) as NonNullable<ReturnType<typeof parseReqTimeStatsLine>>);
  }
  if (sides.decode) {
    const l = reqTimeStatsLine({ type: 'decode', rid: `rid-${k}`, bootstrapRoom: room, inputLen: 512, cachedInputLen: 0, outputLen: 2, startSec: 1, preallocQueueMs: k, transferMs: 50 + k, queueMs: 0.5, forwardMs: 30 });
    store.add(parseReqTimeStatsLine(l) as NonNullable<ReturnType<typeof parseReqTimeStatsLine>>);
  }
}

test('the per-request PD breakdown joins the servers\' lines with the run\'s completed requests by rid: means, p50/p99 and how many joined', () => {
  const store = new ReqTimeStatsStore();
  feed(store, 1, { prefill: true, decode: true });
  feed(store, 2, { prefill: true, decode: true });
  feed(store, 3, { decode: true });
  feed(store, 9, { prefill: true, decode: true });
  const records = [
    rec(0, 'rid-1'),
    rec(1, 'rid-2'),
    rec(2, 'rid-3'),
    rec(3, 'rid-4'),
    rec(-1, 'rid-9', { warmup: true }),
    rec(4, 'rid-5', { ok: false, error: 'HTTP 500' }),
  ];
  const d = decomposeTtft(120, windows, records, { source: store }) as TtftDecomposition;
  const log = d.perRequestLog;
  assert.ok(log);
  assert.equal(log.source, 'server log, --enable-request-time-stats-logging');
  assert.deepEqual({ of: log.of, joined: log.joined, joinedPrefill: log.joinedPrefill, joinedDecode: log.joinedDecode, retries: log.retries }, { of: 4, joined: 3, joinedPrefill: 2, joinedDecode: 3, retries: 1 });
  const st = Object.fromEntries(log.stages.map((s) => [s.id, s]));
  assert.equal(st.bootstrap.meanMs, 3);
  assert.equal(st.allocWait.meanMs, 1.5);
  assert.equal(st.prefillBootstrapQueue.meanMs, 4.5);
  assert.equal(st.prefillQueue.n, 2);
  assert.equal(st.prefillQueue.p50Ms, 15);
  assert.equal(st.prefillQueue.p99Ms, 19.9);
  assert.equal(st.prefillForward.meanMs, 100);
  // KV transfer = transfer_total ÷ transfer_speed: 10.24 MB at 10 GB/s is 1 ms, 20.48 MB 2 ms
  assert.ok(Math.abs((st.kvTransfer.meanMs ?? 0) - 1.5) < 1e-9);
  assert.equal(st.decodePreallocQueue.n, 3);
  assert.equal(st.decodePreallocQueue.meanMs, 2);
  assert.equal(st.decodeKvWait.meanMs, 52);
  assert.equal(st.decodeQueue.meanMs, 0.5);
  assert.ok(d.notes.some((n) => /3 of 4 completed requests were found in the server logs/.test(n)), d.notes.join('\n'));
  assert.ok(d.notes.some((n) => /1 joined request\(s\) have no prefill line/.test(n)));
  assert.ok(d.notes.some((n) => /retried 1 time/.test(n)));

  // rendered: a column in the decomposition table and a table of its own, the source named
  const blocks = ttftDecompositionBlocks([{ label: 'c=4', d }]);
  const main = blocks.find((b): b is TableBlock => b.type === 'table' && (b.title ?? '').startsWith('TTFT decomposition')) as TableBlock;
  assert.equal(main.rows[0][main.columns.indexOf('requests in the server log')], '3/4');
  const logTable = blocks.find((b): b is TableBlock => b.type === 'table' && (b.title ?? '').startsWith('PD time per request')) as TableBlock;
  assert.match(logTable.title ?? '', /server log, --enable-request-time-stats-logging/);
  const row = (stage: string) => logTable.rows.find((r) => r[logTable.columns.indexOf('stage')] === stage) as unknown[];
  assert.deepEqual(row('KV transfer').slice(0, 7), ['c=4', 'prefill', 'KV transfer', 1.5, 1.5, 1.99, '2/4']);
  assert.deepEqual(row('decode queue').slice(0, 7), ['c=4', 'decode', 'decode queue', 0.5, 0.5, 0.5, '3/4']);
  assert.equal(logTable.rows.length, 9);
});

test('without the flag the notes say so, naming a flag the planner\'s catalog knows', () => {
  assert.ok(SGLANG_SERVER_ARGS_TSV.some((row) => row.split('\t')[0] === REQUEST_TIME_STATS_FLAG));
  const records = [rec(0, 'rid-1')];
  // logs followed, nothing logged per request
  const quiet = decomposeTtft(100, windows, records, { source: new ReqTimeStatsStore(), flagInCommands: false }) as TtftDecomposition;
  assert.equal(quiet.perRequestLog, undefined);
  assert.ok(quiet.notes.some((n) => n.includes('the flag is absent; launch prefill and decode with --enable-request-time-stats-logging')), quiet.notes.join('\n'));
  // logs not followed at all
  const unfollowed = decomposeTtft(100, windows, records) as TtftDecomposition;
  assert.ok(unfollowed.notes.some((n) => n.includes('--enable-request-time-stats-logging, read when the bench collects schedLogs')));
  const withFlag = decomposeTtft(100, windows, records, { flagInCommands: true }) as TtftDecomposition;
  assert.ok(withFlag.notes.some((n) => /their logs were not followed: add schedLogs/.test(n)));
  // no per-request table without figures
  assert.ok(!ttftDecompositionBlocks([{ label: 'x', d: quiet }]).some((b) => b.type === 'table' && (b.title ?? '').startsWith('PD time per request')));
});
