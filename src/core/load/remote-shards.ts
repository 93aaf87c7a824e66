/**
 * The owner of a multi-node load run: each client node runs `moebench load-shard` (shard-node.ts)
 * with W load threads, which are W slices of the one seeded schedule and of the concurrency cap,
 * exactly like W threads of a local PooledRun. The owner measures each node's clock offset over
 * its channel, sends the shared start converted into that node's clock, writes the lines as they
 * stream back (their times are relative to the shared start, so they merge as-is) and merges the
 * nodes' columns and health into one run. Transport-agnostic: links come from client-nodes.ts
 * (SSH) or a test.
 */
import { performance } from 'node:perf_hooks';
import { RunColumns, type ColumnsSnapshot } from '../metrics/columns';
import type { ClientHealth } from '../metrics/validity';
import { MoeBenchError } from '../util/errors';
import { sumProgress, type LoadPlan, type PooledResult } from './pool';
import { WarmupFailedError, type LoadProgress } from './runner';
import { ColumnsAssembler, estimateClockOffset, SHARD_PROTOCOL_VERSION, type ClockOffset, type ClockSample, type NodeDone, type NodeMessage, type OwnerMessage } from './shard-protocol';

/** One client node's process, as the owner sees it. */
export interface ShardLink {
  readonly node: string;
  send(m: OwnerMessage): void;
  /** the node's messages; `onEnd` when the link closes (with an error when it ended abnormally) */
  listen(onMessage: (m: NodeMessage) => void, onEnd: (err?: Error) => void): void;
  /** stop the node's process now */
  kill(): Promise<void>;
}

/** A client node's shard failed or its link dropped; the lines it sent before are in the run store. */
export class ClientShardError extends MoeBenchError {}

export interface RemoteShardOptions {
  links: readonly ShardLink[];
  /** load threads per node */
  workers: number;
  /** the owner's clock, epoch ms (tests skew it) */
  now?: () => number;
  /** clock pings per node (the fastest one is used) */
  pings?: number;
  /** after an abort, how long nodes get to send back what they have before they are killed */
  abortGraceMs?: number;
}

/** a start far enough ahead that every node has it before it comes, however slow its link */
const MIN_START_LEAD_MS = 250;
const DEFAULT_PINGS = 9;

interface NodeResult {
  columns: ColumnsSnapshot;
  done: NodeDone;
}

/** The owner's end of one node's link. */
class NodeShard {
  progress: LoadProgress | undefined;
  offset: ClockOffset | undefined;
  readonly hello: Promise<void>;
  readonly ready: Promise<void>;
  readonly result: Promise<NodeResult>;
  private resolveHello!: () => void;
  private resolveReady!: () => void;
  private resolveResult!: (r: NodeResult) => void;
  private rejectAll!: (e: Error) => void;
  private readonly assembler = new ColumnsAssembler();
  private ping: { id: number; sentEpoch: number; resolve: (s: ClockSample) => void } | undefined;
  private pingId = 0;
  ended = false;
  private finished = false;

  constructor(
    readonly link: ShardLink,
    private readonly template: RunColumns,
    private readonly now: () => number,
    onLines: (lines: string[]) => void,
    onFailure: (err: Error) => void,
  ) {
    const rejecters: ((e: Error) => void)[] = [];
    this.hello = new Promise<void>((res, rej) => ((this.resolveHello = res), rejecters.push(rej)));
    this.ready = new Promise<void>((res, rej) => ((this.resolveReady = res), rejecters.push(rej)));
    this.result = new Promise<NodeResult>((res, rej) => ((this.resolveResult = res), rejecters.push(rej)));
    for (const p of [this.hello, this.ready, this.result]) p.catch(() => undefined);
    let failed = false;
    this.rejectAll = (e) => {
      if (failed) return;
      failed = true;
      for (const r of rejecters) r(e);
      onFailure(e);
    };
    link.listen(
      (m) => {
        try {
          this.onMessage(m, onLines);
        } catch (err) {
          this.rejectAll(this.error(`sent a message the owner could not use (${err instanceof Error ? err.message : String(err)})`));
        }
      },
      (err) => {
        this.ended = true;
        // a clean exit after `done` is the normal end
        if (this.finished) return;
        this.rejectAll(this.error(err ? `lost its link: ${err.message}` : 'ended before it finished'));
      },
    );
  }

  private error(what: string, warmup = false): Error {
    const message = `client shard on ${this.link.node} ${what}`;
    if (warmup) return new WarmupFailedError(message);
    return new ClientShardError(message, { node: this.link.node }, 'Requests it finished before are kept in the run store; check the node (see the log above) and run the cell again.');
  }

  private onMessage(m: NodeMessage, onLines: (lines: string[]) => void): void {
    switch (m.type) {
      case 'hello':
        if (m.protocol !== SHARD_PROTOCOL_VERSION) throw new Error(`protocol ${m.protocol}, expected ${SHARD_PROTOCOL_VERSION}: the copied CLI is from another version`);
        this.resolveHello();
        break;
      case 'clock':
        if (this.ping && m.id === this.ping.id) {
          const p = this.ping;
          this.ping = undefined;
          p.resolve({ sentEpoch: p.sentEpoch, receivedEpoch: this.now(), remoteEpoch: m.epoch });
        }
        break;
      case 'ready':
        this.resolveReady();
        break;
      case 'lines':
        onLines(m.lines);
        break;
      case 'progress':
        this.progress = m.progress;
        break;
      case 'column':
        this.assembler.add(m.name, m.data);
        break;
      case 'done':
        this.finished = true;
        this.resolveResult({ columns: this.assembler.finish(m, this.template), done: m });
        break;
      case 'error':
        // the warmup is the first request a node sends: an address only this machine reaches fails there
        this.rejectAll(this.error(m.warmup ? `failed its warmup (the server must be reachable from ${this.link.node}): ${m.message}` : `failed: ${m.message}`, m.warmup));
        break;
    }
  }

  /** ping-pongs over the link; the offset is taken from the fastest */
  async measureClock(pings: number): Promise<ClockOffset> {
    const samples: ClockSample[] = [];
    for (let i = 0; i < pings; i++) {
      samples.push(
        await new Promise<ClockSample>((resolve, reject) => {
          this.ping = { id: ++this.pingId, sentEpoch: this.now(), resolve };
          this.result.catch(reject);
          this.link.send({ type: 'clock', id: this.pingId });
        }),
      );
    }
    this.offset = estimateClockOffset(samples);
    return this.offset;
  }
}

export class RemoteShardRun {
  private readonly shards: NodeShard[] = [];
  private readonly now: () => number;
  private aborted = false;
  private firstFailure: Error | undefined;
  private failureSignal!: (e: Error) => void;
  private readonly failure = new Promise<never>((_res, rej) => (this.failureSignal = rej));
  private killTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly plan: LoadPlan,
    private readonly options: RemoteShardOptions,
    private readonly onLines: (lines: string[]) => void,
  ) {
    this.now = options.now ?? (() => performance.timeOrigin + performance.now());
    this.failure.catch(() => undefined);
    const slices = options.links.length * options.workers;
    if (plan.maxConcurrency !== undefined && plan.maxConcurrency < slices) {
      throw new MoeBenchError(`${options.links.length} client node(s) × ${options.workers} load thread(s) need a max concurrency of at least ${slices} (got ${plan.maxConcurrency})`, { field: 'clients' }, 'Use fewer client workers or nodes.');
    }
  }

  progress(): LoadProgress {
    // elapsed as the nodes report it: their clocks are theirs, the offsets only known per node
    return sumProgress(this.shards.map((s) => s.progress), this.options.links.length, 0);
  }

  /** every node stops sending, returns what it has; a node that does not answer is killed */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    for (const s of this.shards) if (!s.ended) s.link.send({ type: 'abort' });
    this.killTimer = setTimeout(() => {
      for (const s of this.shards) if (!s.ended) void s.link.kill();
    }, this.options.abortGraceMs ?? 15_000);
  }

  async run(signal?: AbortSignal): Promise<PooledResult> {
    const template = new RunColumns(this.plan.api, this.plan.definition, this.plan.ignoreEos);
    const onFailure = (err: Error): void => {
      if (this.firstFailure || this.aborted) return;
      this.firstFailure = err;
      this.failureSignal(err);
      // the run is broken without this node's slices: the others stop too
      this.abort();
    };
    for (const link of this.options.links) this.shards.push(new NodeShard(link, template, this.now, this.onLines, onFailure));
    const onAbort = (): void => this.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) this.abort();
    try {
      const guarded = <T>(p: Promise<T>): Promise<T> => Promise.race([p, this.failure]);
      await guarded(Promise.all(this.shards.map((s) => s.hello)));
      await guarded(Promise.all(this.shards.map((s) => s.measureClock(this.options.pings ?? DEFAULT_PINGS))));
      const w = this.options.workers;
      const of = this.shards.length * w;
      this.shards.forEach((s, k) => s.link.send({ type: 'config', config: { plan: this.plan, workers: w, share: { first: k * w, of } } }));
      if (this.aborted) for (const s of this.shards) s.link.send({ type: 'abort' });
      // a node cancelled during its warmup finishes without ever being ready
      await guarded(Promise.race([Promise.all(this.shards.map((s) => s.ready)), Promise.allSettled(this.shards.map((s) => s.result))]));
      const maxRtt = Math.max(...this.shards.map((s) => s.offset?.rttMs ?? 0));
      const startEpoch = this.now() + Math.max(MIN_START_LEAD_MS, 4 * maxRtt);
      // a cancelled node starts itself at once (shard-node.ts) and returns what it has
      if (!this.aborted) for (const s of this.shards) s.link.send({ type: 'start', epoch: startEpoch + (s.offset?.offsetMs ?? 0) });
      const results = await Promise.all(
        this.shards.map((s) =>
          s.result.catch((err: unknown) => {
            // cancelled: a node killed after the grace time gave nothing back; the run keeps the rest
            if (this.aborted && !this.firstFailure) return undefined;
            throw err;
          }),
        ),
      );
      if (this.firstFailure) throw this.firstFailure;
      return this.merge(results, startEpoch);
    } catch (err) {
      // cancelled before the start: a node that stopped at once is no failure, and nothing was measured
      if (this.aborted && !this.firstFailure) return this.merge([], this.now());
      throw this.firstFailure ?? err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      clearTimeout(this.killTimer);
    }
  }

  private merge(results: (NodeResult | undefined)[], startEpoch: number): PooledResult {
    const columns = new RunColumns(this.plan.api, this.plan.definition, this.plan.ignoreEos);
    const shardsHealth: NonNullable<ClientHealth['shards']> = [];
    const healths: ClientHealth[] = [];
    let endEpoch = 0;
    let cancelled = this.aborted;
    const sample: NodeDone['sample'] = [];
    for (let k = 0; k < results.length; k++) {
      const r = results[k];
      if (!r) continue;
      const node = this.shards[k].link.node;
      const offset = this.shards[k].offset?.offsetMs ?? 0;
      columns.merge(r.columns);
      const h = r.done.health;
      healths.push(h);
      const clock = { clockOffsetMs: offset, clockRttMs: this.shards[k].offset?.rttMs };
      if (h.shards?.length) for (const t of h.shards) shardsHealth.push({ ...t, name: `${node} ${t.name}`, ...clock });
      else shardsHealth.push({ name: node, eventLoopDelayP99Ms: h.eventLoopDelayP99Ms, eventLoopDelayMaxMs: h.eventLoopDelayMaxMs, loopUtilization: h.loopUtilization ?? 0, requests: r.columns.tally.measured, ...clock });
      // the node's clock, back into the owner's
      if (r.done.lastFinishEpoch) endEpoch = Math.max(endEpoch, r.done.lastFinishEpoch - offset);
      cancelled ||= r.done.cancelled;
      sample.push(...r.done.sample);
    }
    const max = (f: (h: ClientHealth) => number): number => (healths.length ? Math.max(...healths.map(f)) : 0);
    const health: ClientHealth = {
      eventLoopDelayP99Ms: max((h) => h.eventLoopDelayP99Ms),
      eventLoopDelayMaxMs: max((h) => h.eventLoopDelayMaxMs),
      // each node's reading is its own process's: the busiest node, not a sum
      cpuPct: max((h) => h.cpuPct),
      loopUtilization: max((h) => h.loopUtilization ?? 0),
      workers: this.shards.length * this.options.workers,
      socketCapWaits: healths.reduce((a, h) => a + (h.socketCapWaits ?? 0), 0),
      shards: shardsHealth,
    };
    sample.sort((a, b) => a.seq - b.seq);
    return { columns, sample, health, cancelled, startEpoch, endEpoch };
  }
}
