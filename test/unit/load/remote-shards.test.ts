import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { LoadPlan } from '../../../src/core/load/pool';
import { RemoteShardRun, type ShardLink } from '../../../src/core/load/remote-shards';
import {
  ColumnsAssembler,
  columnLengths,
  columnMessages,
  decodeMessage,
  encodeMessage,
  estimateClockOffset,
  type NodeMessage,
  type NodeShardConfig,
  type OwnerMessage,
} from '../../../src/core/load/shard-protocol';
import type { RequestRecord } from '../../../src/core/metrics/record';
import { emptyTally, RunColumns } from '../../../src/core/metrics/columns';
import { summarizeColumns, type RunSummary } from '../../../src/core/metrics/summary';

const TOTAL = 240;

/**
 * The owner's clock for these tests: it advances a microsecond per reading, never with the wall
 * clock, so the offset error (at most half a round trip) is tiny however busy the machine is.
 */
let virtualNow = 1.7e12;
const clock = (): number => (virtualNow += 0.001);

/** a deterministic finished request: its times depend only on its index, relative to t0 */
function record(i: number): RequestRecord {
  const chunks = 6 + (i % 5);
  const gap = 3 + ((i * 7) % 11) / 4;
  const ttft = 20 + ((i * 13) % 37);
  return {
    seq: i,
    row: i,
    scheduledMs: i * 2.5,
    dispatchedMs: i * 2.5 + (i % 3) * 0.01,
    startMs: i * 2.5 + 0.05,
    promptLen: 100 + (i % 17),
    maxTokens: chunks,
    ok: true,
    headersMs: ttft - 1,
    lastLineMs: ttft + (chunks - 1) * gap + 0.5,
    chunkMs: Array.from({ length: chunks }, (_, k) => ttft + k * gap),
    chunkChars: Array.from({ length: chunks }, () => 3),
    chunkTokens: Array.from({ length: chunks }, (_, k) => k + 1),
    outputTokens: chunks,
    promptTokens: 100 + (i % 17),
    cachedTokens: 0,
    finishReason: 'length',
    text: Array.from({ length: chunks }, (_, k) => ` w${(i * 31 + k) % 97}`).join(''),
  };
}

const plan: LoadPlan = {
  client: { baseUrl: 'http://127.0.0.1:1', api: 'generate', payload: { ignoreEos: true, temperature: 0 } } as unknown as LoadPlan['client'],
  api: 'generate',
  definition: 'sglang',
  ignoreEos: true,
  rows: [],
  arrivals: { kind: 'all-at-once' },
  arrivalSeed: 1,
  count_: TOTAL,
  warmupRequests: 0,
  sampleSize: 1000,
};

/**
 * A client node that speaks the protocol without sending requests: its clock runs `skewMs` ahead
 * of the owner's, its answers come back after a delay, and at start it "finishes" the records of
 * its slices (i % of in its share) with times relative to the start it was given.
 */
class SyntheticNode implements ShardLink {
  config: NodeShardConfig | undefined;
  startInNodeClock: number | undefined;
  private onMessage!: (m: NodeMessage) => void;
  private onEnd!: (err?: Error) => void;

  constructor(
    readonly node: string,
    private readonly skewMs: number,
    private readonly delayMs: number,
    private readonly dropAfterLines = false,
  ) {}

  nodeNow(): number {
    return clock() + this.skewMs;
  }

  private reply(m: NodeMessage): void {
    // through JSON, as over the wire
    const line = encodeMessage(m);
    setTimeout(() => this.onMessage(decodeMessage<NodeMessage>(line)), this.delayMs);
  }

  listen(onMessage: (m: NodeMessage) => void, onEnd: (err?: Error) => void): void {
    this.onMessage = onMessage;
    this.onEnd = onEnd;
    this.reply({ type: 'hello', protocol: 1, nodeVersion: 'v20.0.0', pid: 1 });
  }

  send(sent: OwnerMessage): void {
    const m = decodeMessage<OwnerMessage>(encodeMessage(sent));
    if (m.type === 'clock') {
      // the node reads its clock when the ping arrives (half the delay)
      setTimeout(() => {
        const epoch = this.nodeNow();
        setTimeout(() => this.onMessage({ type: 'clock', id: m.id, epoch }), this.delayMs / 2);
      }, this.delayMs / 2);
    } else if (m.type === 'config') {
      this.config = m.config;
      this.reply({ type: 'ready' });
    } else if (m.type === 'abort') {
      // like load-shard cancelled before its config: it exits without a result
      setTimeout(() => this.onEnd(), this.delayMs);
    } else if (m.type === 'start') {
      this.startInNodeClock = m.epoch;
      this.finish();
    }
  }

  private finish(): void {
    const cfg = this.config;
    assert.ok(cfg);
    const mine = new Set(Array.from({ length: cfg.workers }, (_, w) => cfg.share.first + w));
    const cols = new RunColumns('generate', 'sglang', true);
    const lines: string[] = [];
    let lastEnd = 0;
    for (let i = 0; i < TOTAL; i++) {
      if (!mine.has(i % cfg.share.of)) continue;
      const r = record(i);
      cols.add(r);
      lines.push(JSON.stringify(r));
      lastEnd = Math.max(lastEnd, r.startMs + r.lastLineMs);
    }
    this.reply({ type: 'lines', lines });
    if (this.dropAfterLines) {
      setTimeout(() => this.onEnd(new Error('Connection to node lost')), this.delayMs * 2);
      return;
    }
    const snap = cols.snapshot();
    for (const c of columnMessages(snap)) this.reply(c);
    const start = this.startInNodeClock ?? 0;
    this.reply({
      type: 'done',
      warmups: 0,
      tally: snap.tally,
      lengths: columnLengths(snap),
      health: { eventLoopDelayP99Ms: 1, eventLoopDelayMaxMs: 2 + this.skewMs / 1e6, cpuPct: 10, loopUtilization: 0.2 },
      sample: [],
      cancelled: false,
      startEpoch: start,
      lastFinishEpoch: start + lastEnd,
    });
  }

  async kill(): Promise<void> {}
}

function closeTo(a: number, b: number, tol: number, what: string): void {
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tolerance ${tol})`);
}

/** every number of two summaries equal up to float summation order */
function sameSummary(a: unknown, b: unknown, path = 'summary'): void {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a)) return assert.ok(Number.isNaN(b), path);
    closeTo(a, b, 1e-9 * Math.max(1, Math.abs(b)), path);
    return;
  }
  if (a && b && typeof a === 'object') {
    assert.deepEqual(Object.keys(a).sort(), Object.keys(b as object).sort(), path);
    for (const k of Object.keys(a)) sameSummary((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    return;
  }
  assert.equal(a, b, path);
}

describe('clock offset estimate', () => {
  it('takes the fastest round trip and the midpoint, so a one-sided delay does not bias it', () => {
    // node 5,000 ms ahead; the slow pings were delayed on the way back only
    const samples = [
      { sentEpoch: 1000, receivedEpoch: 1040, remoteEpoch: 6005 },
      { sentEpoch: 2000, receivedEpoch: 2004, remoteEpoch: 7002 },
      { sentEpoch: 3000, receivedEpoch: 3100, remoteEpoch: 8001 },
    ];
    const est = estimateClockOffset(samples);
    assert.equal(est.rttMs, 4);
    assert.equal(est.offsetMs, 5000);
    assert.equal(est.samples, 3);
  });

  it('is exact to within half the round trip for a node behind the owner', () => {
    const est = estimateClockOffset([{ sentEpoch: 50_000, receivedEpoch: 50_010, remoteEpoch: 20_000 + 3 }]);
    closeTo(est.offsetMs, -30_000, est.rttMs / 2, 'offset');
  });

  it('refuses to estimate from nothing', () => {
    assert.throws(() => estimateClockOffset([]), RangeError);
  });
});

describe('shard protocol', () => {
  it('carries Infinity and NaN (an empty tally, an all-at-once rate) through JSON', () => {
    const back = decodeMessage<NodeMessage>(encodeMessage({ type: 'done', warmups: 0, tally: emptyTally(), lengths: {}, health: { eventLoopDelayP99Ms: Number.NaN, eventLoopDelayMaxMs: 0, cpuPct: 0 }, sample: [], cancelled: false, startEpoch: 1, lastFinishEpoch: 2 }));
    assert.ok(back.type === 'done');
    assert.equal(back.tally.minStart, Infinity);
    assert.equal(back.tally.maxStart, -Infinity);
    assert.ok(Number.isNaN(back.health.eventLoopDelayP99Ms));
  });
});

describe('columns over the wire', () => {
  it('a column of several 64 Ki chunks comes back value for value, and a short one is refused', () => {
    const cols = new RunColumns('generate', 'sglang', true);
    for (let i = 0; i < 150_000; i++) cols.itl.push(i * 0.001 + 1 / 3);
    cols.lag.push(Number.NaN);
    const snap = cols.snapshot();
    const messages = [...columnMessages(snap)].map((m) => decodeMessage<NodeMessage>(encodeMessage(m)));
    assert.equal(messages.filter((m) => m.type === 'column' && m.name === 'itl').length, 3);
    const done = { warmups: 0, tally: snap.tally, lengths: columnLengths(snap), health: { eventLoopDelayP99Ms: 0, eventLoopDelayMaxMs: 0, cpuPct: 0 }, sample: [], cancelled: false, startEpoch: 0, lastFinishEpoch: 0 };
    const assembler = new ColumnsAssembler();
    for (const m of messages) if (m.type === 'column') assembler.add(m.name, m.data);
    const back = assembler.finish(done, cols);
    const merged = new RunColumns('generate', 'sglang', true);
    merged.merge(back);
    assert.equal(merged.itl.length, 150_000);
    assert.deepEqual(Array.from(merged.itl.toArray()), Array.from(cols.itl.toArray()));
    assert.ok(Number.isNaN(merged.lag.get(0)));
    const short = new ColumnsAssembler();
    for (const m of messages.slice(1)) if (m.type === 'column') short.add(m.name, m.data);
    assert.throws(() => short.finish(done, cols), /column itl: 84464 values received, 150000 sent/);
  });
});

describe('remote shards on skewed clocks', () => {
  it('start each node at the shared start in its own clock and merge into the single-client metrics', async () => {
    // one node 7 s ahead with 2 workers, one 3 s behind with 2 workers
    const ahead = new SyntheticNode('node1', 7_000, 4);
    const behind = new SyntheticNode('node2', -3_000, 2);
    const written: string[] = [];
    const run = new RemoteShardRun(plan, { links: [ahead, behind], workers: 2, pings: 5, now: clock }, (lines) => written.push(...lines));
    const result = await run.run();

    // each node got the same instant, in its own clock (to within half the ping's round trip)
    assert.ok(ahead.startInNodeClock !== undefined && behind.startInNodeClock !== undefined);
    closeTo(ahead.startInNodeClock - 7_000, result.startEpoch, 0.01, 'node1 start in the owner clock');
    closeTo(behind.startInNodeClock + 3_000, result.startEpoch, 0.01, 'node2 start in the owner clock');
    // slices: node1 takes 0,1 of 4 and node2 2,3: every request exactly once
    assert.deepEqual([ahead.config?.share, behind.config?.share], [{ first: 0, of: 4 }, { first: 2, of: 4 }]);
    const seqs = written.map((l) => (JSON.parse(l) as RequestRecord).seq).sort((a, b) => a - b);
    assert.deepEqual(seqs, Array.from({ length: TOTAL }, (_, i) => i));
    assert.equal(result.columns.tally.measured, TOTAL);

    // the run's end comes back into the owner's clock: t0 + the last request's finish
    const lastEnd = Math.max(...Array.from({ length: TOTAL }, (_, i) => record(i).startMs + record(i).lastLineMs));
    closeTo(result.endEpoch - result.startEpoch, lastEnd, 0.01, 'run length');

    // one set of metrics, equal to one client's over the same requests
    const single = new RunColumns('generate', 'sglang', true);
    for (let i = 0; i < TOTAL; i++) single.add(record(i));
    const opts = { api: 'generate' as const, definition: 'sglang' as const, durationSec: lastEnd / 1000, percentiles: [50, 90, 99] };
    const merged: RunSummary = summarizeColumns(result.columns, opts).summary;
    sameSummary(merged, summarizeColumns(single, opts).summary);

    // saturation is judged per node, by name
    assert.deepEqual(result.health.shards?.map((s) => s.name), ['node1', 'node2']);
    assert.deepEqual(result.health.shards?.map((s) => s.requests), [TOTAL / 2, TOTAL / 2]);
    assert.equal(result.health.workers, 4);
    // the offsets applied are on record with the shard health (summary.json)
    const offsets = result.health.shards?.map((s) => s.clockOffsetMs ?? Number.NaN) ?? [];
    closeTo(offsets[0], 7_000, 0.01, 'node1 offset');
    closeTo(offsets[1], -3_000, 0.01, 'node2 offset');
  });

  it('cancelled before the start: the nodes are told to stop and the run ends cancelled with nothing measured', async () => {
    const ac = new AbortController();
    ac.abort();
    const nodes = [new SyntheticNode('node1', 100, 1), new SyntheticNode('node2', -100, 1)];
    const result = await new RemoteShardRun(plan, { links: nodes, workers: 1, pings: 3, now: clock }, () => assert.fail('no lines')).run(ac.signal);
    assert.equal(result.cancelled, true);
    assert.equal(result.columns.tally.measured, 0);
    assert.deepEqual(nodes.map((n) => n.startInNodeClock), [undefined, undefined]);
  });

  it('a dropped link fails the run naming the node, after its lines were handed over', async () => {
    const good = new SyntheticNode('node1', 0, 1);
    const dropping = new SyntheticNode('node2', 500, 1, true);
    const written: string[] = [];
    const run = new RemoteShardRun(plan, { links: [good, dropping], workers: 1, pings: 3, abortGraceMs: 1000, now: clock }, (lines) => written.push(...lines));
    await assert.rejects(run.run(), (err: Error) => /client shard on node2 lost its link: Connection to node lost/.test(err.message));
    assert.ok(written.some((l) => (JSON.parse(l) as RequestRecord).seq % 2 === 1), "node2's records were kept");
  });
});
