import { performance } from 'node:perf_hooks';
import { RunColumns, type ColumnsSnapshot } from '../metrics/columns';
import type { MetricDefinition } from '../metrics/definitions';
import type { ClientHealth } from '../metrics/validity';
import { roundRecordTimes } from '../metrics/record-times';
import { arrivalOffsets, type ArrivalSpec } from './arrivals';
import { ResponseAccumulator } from './accumulator';
import type { StreamClientOptions } from './http-client';
import { createStreamClient, RawStreamClient } from './raw-http';
import { SseLineSplitter } from './sse';
import { createRng } from './rng';
import { defaultSocketCap, LoadRun, type LoadProgress, WarmupFailedError } from './runner';
import type { ApiKind, DatasetRow, RequestRecord } from '../metrics/record';
import { TraceRows, type WorkloadPlan } from './workloads/plan';
import { SessionSchedule } from './workloads/sessions';

/**
 * One share of a load run: a load thread (worker) or, later, a client node. Every share gets the
 * whole seeded schedule and keeps arrivals i with i % count === index, so together they send
 * exactly the arrival process one client would; each reports its records as run-store lines and
 * its metric columns, which the owner merges into one run with one set of metrics.
 */
export interface ShardConfig {
  index: number;
  count: number;
  client: Omit<StreamClientOptions, 'observeLines'>;
  api: ApiKind;
  definition: MetricDefinition;
  ignoreEos: boolean;
  rows: readonly DatasetRow[];
  /**
   * a trace with prompts built on send, or multi-turn sessions (then `rows` is empty): every
   * thread gets the whole plan; a thread's sessions are those with index % count === its index
   */
  workload?: WorkloadPlan;
  arrivals: ArrivalSpec;
  arrivalSeed: number;
  rescaleToCount?: number;
  /** this shard's share of the concurrency cap */
  maxConcurrency?: number;
  /** this shard's socket cap (default: its share of the descriptor limit) */
  maxSockets?: number;
  /** whole-run request count */
  count_?: number;
  durationSec?: number;
  /** only shard 0 sends the warmups */
  warmupRequests: number;
  /** at most this many whole records come back for plots and fault analysis (a uniform sample) */
  sampleSize: number;
}

export interface ShardDone {
  columns: ColumnsSnapshot;
  health: ClientHealth;
  sample: RequestRecord[];
  cancelled: boolean;
  /** epoch ms of the shard's last finished request (0 if none) */
  lastFinishEpoch: number;
}

/** What a shard tells its owner while it runs. */
export interface ShardEvents {
  /** run-store lines of finished requests, in finishing order (warmups included) */
  lines(lines: string[]): void;
  progress(p: LoadProgress): void;
  /** warmup done: the owner answers with the shared start (epoch ms) */
  ready(): Promise<number>;
}

/** lines are handed over at least this often, or every LINE_BATCH records */
const FLUSH_MS = 100;
const LINE_BATCH = 512;

/** Runs one shard to the end. `signal` cancels it (requests in flight return what they got). */
export async function runShard(cfg: ShardConfig, events: ShardEvents, signal?: AbortSignal): Promise<ShardDone> {
  const client = createStreamClient({ ...cfg.client, api: cfg.api });
  const columns = new RunColumns(cfg.api, cfg.definition, cfg.ignoreEos);
  const sample = new Reservoir(cfg.sampleSize, cfg.arrivalSeed ^ (cfg.index * 0x9e3779b1));
  let lines: string[] = [];
  let lastFinishAt = 0;
  const flush = (): void => {
    if (lines.length === 0) return;
    const out = lines;
    lines = [];
    events.lines(out);
  };
  const plan = cfg.workload;
  const sessions =
    plan?.kind === 'sessions'
      ? new SessionSchedule(plan, { index: cfg.index, count: cfg.count }, plan.start.kind === 'concurrency' ? Math.floor(plan.start.sessions / cfg.count) + (cfg.index < plan.start.sessions % cfg.count ? 1 : 0) : undefined)
      : undefined;
  const run = new LoadRun({
    rows: plan?.kind === 'trace' ? new TraceRows(plan) : cfg.rows,
    sessions,
    client,
    arrivals: arrivalOffsets(cfg.arrivals, createRng(cfg.arrivalSeed), { rescaleToCount: cfg.rescaleToCount }),
    slice: cfg.count > 1 ? { index: cfg.index, count: cfg.count } : undefined,
    maxConcurrency: cfg.maxConcurrency,
    maxSockets: cfg.maxSockets ?? defaultSocketCap(cfg.count),
    count: cfg.count_,
    durationSec: cfg.durationSec,
    warmupRequests: cfg.index === 0 ? cfg.warmupRequests : 0,
    signal,
    retainRecords: false,
    beforeStart: async () => {
      warmParser(cfg.api);
      // a closed loop's connections are opened before t0, as a running client would hold them
      if (cfg.maxConcurrency !== undefined && client instanceof RawStreamClient) await client.preconnect(cfg.maxConcurrency);
      flush();
      const epoch = await events.ready();
      return epoch - performance.timeOrigin;
    },
    onRecord: (rec) => {
      // metrics from exactly what requests.jsonl keeps (µs), so the file reproduces them
      roundRecordTimes(rec);
      lines.push(JSON.stringify(rec));
      columns.add(rec);
      if (!rec.warmup) {
        lastFinishAt = performance.now();
        sample.offer(rec);
      }
      if (lines.length >= LINE_BATCH) flush();
    },
  });
  const timer = setInterval(() => {
    flush();
    events.progress(run.progress());
  }, FLUSH_MS);
  try {
    const res = await run.run();
    flush();
    events.progress(run.progress());
    return {
      columns: columns.snapshot(),
      health: res.client,
      sample: sample.items(),
      cancelled: res.cancelled,
      lastFinishEpoch: lastFinishAt ? performance.timeOrigin + lastFinishAt : 0,
    };
  } finally {
    clearInterval(timer);
    client.dispose();
  }
}

/**
 * Runs the SSE path over synthetic lines so a fresh thread's first real tokens are not parsed by
 * cold code (the JIT compiles meanwhile; tens of ms stamped onto the first wave's TTFT otherwise).
 * No request is sent.
 */
function warmParser(api: ApiKind): void {
  const line =
    api === 'generate'
      ? (i: number) => `data: {"text":"${'x'.repeat(i % 7)}","meta_info":{"completion_tokens":${i},"finish_reason":null}}`
      : api === 'completions'
        ? () => 'data: {"id":"w","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":" t","logprobs":null,"finish_reason":null}],"usage":null}'
        : () => 'data: {"id":"w","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" t"},"logprobs":null,"finish_reason":null}],"usage":null}';
  for (let r = 0; r < 200; r++) {
    const acc = new ResponseAccumulator(api, 0);
    const split = new SseLineSplitter({ onRange: (text, a, b, at, read) => acc.range(text, a, b, at, read) });
    let chunk = '';
    for (let i = 1; i <= 64; i++) chunk += line(i) + '\n\n';
    split.push(chunk, 1);
    split.end(2);
    acc.result(true);
  }
}

/** Algorithm R with a seeded generator: a uniform sample of at most `size` records, in seq order. */
class Reservoir {
  private readonly kept: RequestRecord[] = [];
  private seen = 0;
  private readonly rng;

  constructor(
    private readonly size: number,
    seed: number,
  ) {
    this.rng = createRng(seed >>> 0);
  }

  offer(rec: RequestRecord): void {
    this.seen++;
    if (this.kept.length < this.size) {
      this.kept.push(rec);
      return;
    }
    const j = Math.floor(this.rng.next() * this.seen);
    if (j < this.size) this.kept[j] = rec;
  }

  items(): RequestRecord[] {
    return [...this.kept].sort((a, b) => a.seq - b.seq);
  }
}

export { WarmupFailedError };
