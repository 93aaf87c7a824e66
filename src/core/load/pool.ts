import { existsSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { RunColumns, type ColumnsSnapshot } from '../metrics/columns';
import type { ClientHealth } from '../metrics/validity';
import { MoeBenchError } from '../util/errors';
import type { LoadProgress } from './runner';
import { WarmupFailedError } from './runner';
import { runShard, type ShardConfig, type ShardDone } from './shard';
import type { RequestRecord } from '../metrics/record';

/** owner -> load thread */
export type ToShard = { type: 'start'; epoch: number } | { type: 'abort' };
/** load thread -> owner */
type FromShard =
  | { type: 'ready' }
  | { type: 'lines'; lines: string[] }
  | { type: 'progress'; progress: LoadProgress }
  | { type: 'done'; done: ShardDone }
  | { type: 'error'; message: string; warmup: boolean };

/** the shard settings every share has in common; index, count and the concurrency share are set here */
export type LoadPlan = Omit<ShardConfig, 'index' | 'count' | 'maxConcurrency'> & { maxConcurrency?: number };

export interface PooledResult {
  columns: RunColumns;
  sample: RequestRecord[];
  health: ClientHealth;
  cancelled: boolean;
  /** epoch ms of the shared start (t0) and of the last finished request */
  startEpoch: number;
  endEpoch: number;
}

/**
 * A pool that is one part of a larger run (a client node's threads): its threads are slices
 * `first .. first + threads - 1` of `of`, and the shared start comes from `startGate` (the run's
 * owner, in this process's clock) once all of them are ready.
 */
export interface PoolPart {
  share?: { first: number; of: number };
  startGate?: () => Promise<number>;
}

/** lead time between "all threads ready" and the shared start, so each thread is waiting when it comes */
const START_LEAD_MS = 50;

/**
 * How many load threads a run gets when the cell does not say: one per ~1,000 concurrent streams
 * or ~1,000 req/s (what one thread stamps with sub-millisecond error), up to cores - 1 so the
 * owner thread and the OS keep a core; at least one, off the owner's thread. (0, given
 * explicitly, runs the load in the owner's thread.)
 */
export function defaultWorkers(maxConcurrency: number | undefined, requestRate: number): number {
  const cores = Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  const byStreams = maxConcurrency !== undefined ? Math.ceil(maxConcurrency / 1000) : 1;
  const byRate = Number.isFinite(requestRate) ? Math.ceil(requestRate / 1000) : maxConcurrency === undefined ? cores : 1;
  return Math.max(1, Math.min(Math.max(1, cores - 1), Math.max(byStreams, byRate)));
}

/**
 * One run's progress from its shards' latest reports: counts add up; the phase is the least
 * advanced shard's once all `expected` have reported; elapsed is now - t0 on the shared clock once
 * the start (`startEpoch`, epoch ms; 0 = not known here) is set.
 */
export function sumProgress(parts: readonly (LoadProgress | undefined)[], expected: number, startEpoch: number): LoadProgress {
  const p: LoadProgress = { phase: 'warmup', dispatched: 0, started: 0, completed: 0, failed: 0, inFlight: 0, queued: 0, outputTokens: 0, elapsedMs: 0 };
  const order: LoadProgress['phase'][] = ['warmup', 'running', 'draining', 'done'];
  let phase = 3;
  let seen = 0;
  for (const l of parts) {
    if (!l) continue;
    seen++;
    p.dispatched += l.dispatched;
    p.started += l.started;
    p.completed += l.completed;
    p.failed += l.failed;
    p.inFlight += l.inFlight;
    p.queued += l.queued;
    p.outputTokens += l.outputTokens;
    p.elapsedMs = Math.max(p.elapsedMs, l.elapsedMs);
    phase = Math.min(phase, order.indexOf(l.phase));
  }
  // a shard's last report can be old: after the start, elapsed is read off the shared clock
  if (startEpoch) p.elapsedMs = performance.timeOrigin + performance.now() - startEpoch;
  p.phase = seen === expected && seen > 0 ? order[phase] : 'warmup';
  return p;
}

/** concurrency share of shard i of n (the shares add up to the whole cap) */
export function concurrencyShare(total: number | undefined, i: number, n: number): number | undefined {
  if (total === undefined) return undefined;
  return Math.floor(total / n) + (i < total % n ? 1 : 0);
}

/**
 * Drives one load run on `workers` threads (1 = in this thread, no worker), merging what the
 * shards report: run-store lines as they come (`onLines`), metric columns, health and a record
 * sample at the end.
 */
export class PooledRun {
  private readonly latest: LoadProgress[] = [];
  private readonly workers: Worker[] = [];
  private readonly abortLocal = new AbortController();
  private aborted = false;
  /** the shared start (epoch ms), once every shard is ready */
  private startEpoch = 0;

  constructor(
    private readonly plan: LoadPlan,
    private readonly threads: number,
    private readonly onLines: (lines: string[]) => void,
    // --- client nodes (remote-shards.ts, cli load-shard): this pool may be one part of a larger run
    private readonly part: PoolPart = {},
  ) {
    if (plan.maxConcurrency !== undefined && plan.maxConcurrency < (part.share?.of ?? threads)) {
      throw new MoeBenchError(`${threads} load threads need a max concurrency of at least ${threads} (got ${plan.maxConcurrency})`, { field: 'workers' }, 'Use fewer workers.');
    }
  }

  progress(): LoadProgress {
    return sumProgress(this.latest, Math.max(1, this.threads), this.startEpoch);
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortLocal.abort();
    for (const w of this.workers) w.postMessage({ type: 'abort' } satisfies ToShard);
  }

  async run(signal?: AbortSignal): Promise<PooledResult> {
    const onAbort = (): void => this.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) this.abort();
    try {
      // 0 = one shard in this thread (tests, debugging); otherwise every shard is a worker thread,
      // so no UI, telemetry or run-store work on this thread can delay a timestamp
      const n = Math.max(1, this.threads);
      let readyCount = 0;
      let startEpoch = 0;
      const waiters: ((epoch: number) => void)[] = [];
      const ready = (): Promise<number> =>
        new Promise<number>((resolve) => {
          waiters.push(resolve);
          if (++readyCount === n) {
            const gate = this.part.startGate ?? (async () => performance.timeOrigin + performance.now() + START_LEAD_MS);
            void gate().then((epoch) => {
              startEpoch = epoch;
              this.startEpoch = epoch;
              for (const w of waiters) w(startEpoch);
            });
          }
        });
      const shards = Array.from({ length: n }, (_, i) => this.shardConfig(i, n));
      const results = await Promise.all(shards.map((cfg, i) => (this.threads === 0 ? this.inProcess(cfg, i, ready) : this.inWorker(cfg, i, ready))));
      return this.merge(results, startEpoch);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await Promise.all(this.workers.map((w) => w.terminate()));
    }
  }

  private shardConfig(i: number, n: number): ShardConfig {
    const index = (this.part.share?.first ?? 0) + i;
    const count = this.part.share?.of ?? n;
    return { ...this.plan, index, count, maxConcurrency: concurrencyShare(this.plan.maxConcurrency, index, count), sampleSize: Math.ceil(this.plan.sampleSize / count) };
  }

  private inProcess(cfg: ShardConfig, i: number, ready: () => Promise<number>): Promise<ShardDone> {
    return runShard(cfg, { lines: this.onLines, progress: (p) => (this.latest[i] = p), ready }, this.abortLocal.signal);
  }

  private inWorker(cfg: ShardConfig, i: number, ready: () => Promise<number>): Promise<ShardDone> {
    const script = workerScript();
    // under tsx (tests, scripts) the worker registers tsx itself: --import hooks do not reach workers on Node 20
    const worker = script.endsWith('.ts') ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(script)});`, { eval: true, workerData: cfg }) : new Worker(script, { workerData: cfg });
    this.workers.push(worker);
    if (this.aborted) worker.postMessage({ type: 'abort' } satisfies ToShard);
    return new Promise<ShardDone>((resolve, reject) => {
      let settled = false;
      worker.on('message', (m: FromShard) => {
        switch (m.type) {
          case 'lines':
            this.onLines(m.lines);
            break;
          case 'progress':
            this.latest[i] = m.progress;
            break;
          case 'ready':
            void ready().then((epoch) => worker.postMessage({ type: 'start', epoch } satisfies ToShard));
            break;
          case 'done':
            settled = true;
            resolve(m.done);
            break;
          case 'error':
            settled = true;
            reject(m.warmup ? new WarmupFailedError(m.message) : new MoeBenchError(`load thread ${i} failed: ${m.message}`));
            break;
        }
      });
      worker.on('error', (err) => {
        if (!settled) reject(new MoeBenchError(`load thread ${i} failed: ${err.message}`));
        settled = true;
      });
      worker.on('exit', (code) => {
        if (!settled) reject(new MoeBenchError(`load thread ${i} exited (${code}) before it finished`));
        settled = true;
      });
    });
  }

  private merge(results: ShardDone[], startEpoch: number): PooledResult {
    const columns = new RunColumns(this.plan.api, this.plan.definition, this.plan.ignoreEos);
    for (const r of results) columns.merge(r.columns as ColumnsSnapshot);
    const h = results.map((r) => r.health);
    const health: ClientHealth = {
      eventLoopDelayP99Ms: Math.max(...h.map((x) => x.eventLoopDelayP99Ms)),
      eventLoopDelayMaxMs: Math.max(...h.map((x) => x.eventLoopDelayMaxMs)),
      // every thread reads the same process-wide CPU time: one reading, not their sum
      cpuPct: Math.max(...h.map((x) => x.cpuPct)),
      loopUtilization: Math.max(...h.map((x) => x.loopUtilization ?? 0)),
      workers: results.length,
      socketCapWaits: h.reduce((a, x) => a + (x.socketCapWaits ?? 0), 0),
      shards: results.length > 1 ? h.map((x, i) => ({ name: `thread ${i}`, eventLoopDelayP99Ms: x.eventLoopDelayP99Ms, eventLoopDelayMaxMs: x.eventLoopDelayMaxMs, loopUtilization: x.loopUtilization ?? 0, requests: results[i].columns.tally.measured })) : undefined,
    };
    const sample = results.flatMap((r) => r.sample).sort((a, b) => a.seq - b.seq);
    return { columns, sample, health, cancelled: results.some((r) => r.cancelled), startEpoch, endEpoch: Math.max(0, ...results.map((r) => r.lastFinishEpoch)) };
  }
}

/** out/load-worker.js beside the bundle, or the TypeScript entry under tsx (tests, scripts) */
function workerScript(): string {
  const bundled = join(__dirname, 'load-worker.js');
  if (existsSync(bundled)) return bundled;
  return join(__dirname, 'worker-entry.ts');
}
