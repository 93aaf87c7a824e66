/**
 * One `nvidia-smi --query-gpu ... -lms N` stream per node, shared by everyone who watches that
 * node's GPUs: the Cluster view, monitor cells, a bench cell's `collect: [gpus]`. Reference
 * counted: the first subscriber starts the stream, the last one leaving stops it.
 *
 * Several subscribers, different wishes:
 * - interval: the stream runs at the finest interval asked for; a subscriber with a coarser one
 *   gets every k-th tick (its first tick, then every k-th), k = its interval / the stream's
 *   rounded to the nearest whole number, at least 1. Counted in ticks, not clock time, so a
 *   late tick does not make a subscriber skip the next one.
 * - fields: the union of the subscribers' fields (first asked, first in the query), minus fields
 *   the driver refused. Every subscriber sees every field of the tick.
 * When a subscriber joins or leaves and the interval or the fields change, the stream is stopped
 * and, once its process has ended, started again with the new query: never two on a node.
 *
 * Held per Session (`session.gpuStreams`) and keyed by Cluster object and node, so a cluster
 * that is removed or replaced (`dropCluster`) and a session that is disposed stop their streams.
 */
import { setMaxListeners } from 'node:events';
import type { Cluster } from '../../launch/types';
import type { Disposable } from '../../util/disposable';
import type { TelemetryNotice } from '../notice';
import type { GpuSample } from '../schema';
import { lastLine, runStreamLoop } from '../stream-loop';
import { gpuStreamArgv, invalidFieldsIn } from './commands';
import { DEFAULT_STREAM_FIELDS } from './fields';
import { GpuStreamAssembler } from './stream';

export interface GpuStreamSubscriber {
  /** how often this subscriber wants a tick */
  intervalMs: number;
  /** nvidia-smi fields it needs (default DEFAULT_STREAM_FIELDS); `index` is always queried */
  fields?: readonly string[];
  onSample: (sample: GpuSample) => void;
  /** the stream's notices (dropped fields, restarts, nvidia-smi missing) */
  onNotice?: (notice: TelemetryNotice) => void;
}

export interface GpuStreamSubscription extends Disposable {
  /** leave; resolves once the stream has stopped when this was its last subscriber */
  dispose(): Promise<void>;
}

export interface GpuStreamRegistryOptions {
  /** first restart delay after nvidia-smi dies; doubles up to maxRestartDelayMs (see runStreamLoop) */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  /** tick timestamps */
  now?: () => number;
}

interface Subscriber {
  readonly spec: GpuStreamSubscriber;
  /** ticks seen since it joined (decimation) */
  ticks: number;
}

interface RunningStream {
  readonly abort: AbortController;
  /** resolves once the loop has returned (its command has ended) */
  done: Promise<void>;
  readonly intervalMs: number;
  /** the fields queried now (fewer than asked for once the driver refused some) */
  fieldsKey: string;
  /** the loop has returned: no command of it runs any more */
  ended: boolean;
}

/** One node's stream and its subscribers. */
class NodeGpuStream {
  readonly subscribers = new Set<Subscriber>();
  private running: RunningStream | undefined;
  /** changes run one after another: a stop completes before the next start */
  private ops: Promise<void> = Promise.resolve();
  private queued = 0;
  /** fields the driver refused; never asked for again on this node */
  private readonly refused = new Set<string>();
  /** why the stream stopped for good (nvidia-smi missing); told to every later subscriber */
  private fatal: TelemetryNotice | undefined;
  latest: GpuSample | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly node: string,
    private readonly o: GpuStreamRegistryOptions,
  ) {}

  get idle(): boolean {
    return this.subscribers.size === 0;
  }

  /** whether an nvidia-smi command of this stream is running (or being started) now */
  get active(): boolean {
    return this.running !== undefined && !this.running.ended;
  }

  add(sub: Subscriber): Promise<void> {
    this.subscribers.add(sub);
    const fatal = this.fatal;
    if (fatal) queueMicrotask(() => sub.spec.onNotice?.(fatal));
    return this.reconcile();
  }

  remove(sub: Subscriber): Promise<void> {
    if (!this.subscribers.delete(sub)) return this.ops;
    return this.reconcile();
  }

  /** stop for good (cluster dropped, registry disposed) */
  close(): Promise<void> {
    this.subscribers.clear();
    return this.reconcile();
  }

  /**
   * Bring the stream in line with its subscribers. With nothing queued the change starts at once
   * (a first subscriber's nvidia-smi is asked for before subscribe returns, an abort is sent
   * before unsubscribe returns); otherwise it waits for the changes before it.
   */
  private reconcile(): Promise<void> {
    if (this.queued === 0) {
      const now = this.apply();
      return now ? this.enqueue(() => now) : Promise.resolve();
    }
    return this.enqueue(() => this.apply());
  }

  private enqueue(step: () => Promise<void> | void): Promise<void> {
    this.queued++;
    this.ops = this.ops.then(step).finally(() => void this.queued--);
    return this.ops;
  }

  private wanted(): { intervalMs: number; fields: string[] } {
    let intervalMs = Infinity;
    const fields: string[] = ['index'];
    for (const s of this.subscribers) {
      intervalMs = Math.min(intervalMs, s.spec.intervalMs);
      for (const f of s.spec.fields ?? DEFAULT_STREAM_FIELDS) if (!fields.includes(f) && !this.refused.has(f)) fields.push(f);
    }
    return { intervalMs, fields };
  }

  /** returns a promise only when it has to wait for a command to end */
  private apply(): Promise<void> | undefined {
    if (this.subscribers.size === 0) {
      this.fatal = undefined;
      return this.stop();
    }
    if (this.fatal) return undefined;
    const want = this.wanted();
    const r = this.running;
    if (r && r.intervalMs === want.intervalMs && r.fieldsKey === want.fields.join(',')) return undefined;
    if (r) return this.stop()?.then(() => this.apply());
    this.start(want.intervalMs, want.fields);
    return undefined;
  }

  /** abort the running command; the promise resolves once it has ended */
  private stop(): Promise<void> | undefined {
    const r = this.running;
    if (!r) return undefined;
    r.abort.abort();
    return r.done.then(() => {
      if (this.running === r) this.running = undefined;
    });
  }

  private broadcast(n: TelemetryNotice): void {
    for (const s of [...this.subscribers]) s.spec.onNotice?.(n);
  }

  private deliver(sample: GpuSample, streamIntervalMs: number): void {
    this.latest = sample;
    for (const s of [...this.subscribers]) {
      const k = Math.max(1, Math.round(s.spec.intervalMs / streamIntervalMs));
      if (s.ticks++ % k === 0) s.spec.onSample(sample);
    }
  }

  private start(intervalMs: number, initialFields: string[]): void {
    const node = this.node;
    const abort = new AbortController();
    // the stream and its restart timer wait on this signal
    setMaxListeners(20, abort.signal);
    let fields = initialFields;
    let assembler: GpuStreamAssembler | undefined;
    let problems: string[] = [];
    let sawSample = false;
    const fresh = (): GpuStreamAssembler => {
      problems = [];
      sawSample = false;
      return new GpuStreamAssembler({
        node,
        fields,
        now: this.o.now,
        onSample: (s) => {
          sawSample = true;
          this.deliver(s, intervalMs);
        },
        onProblem: (text) => {
          if (problems.length < 20) problems.push(text);
        },
      });
    };
    // registered before the loop starts: its callbacks may run before runStreamLoop returns
    const running: RunningStream = { abort, done: Promise.resolve(), intervalMs, fieldsKey: fields.join(','), ended: false };
    this.running = running;
    running.done = runStreamLoop({
      cluster: this.cluster,
      node,
      signal: abort.signal,
      restartDelayMs: this.o.restartDelayMs,
      maxRestartDelayMs: this.o.maxRestartDelayMs,
      argv: () => {
        assembler = fresh();
        return gpuStreamArgv(fields, intervalMs);
      },
      onLine: (line) => assembler?.pushLine(line),
      healthy: () => sawSample,
      onEnd: (end) => {
        assembler?.end();
        const said = `${end.said}\n${problems.join('\n')}`;
        const dropped = invalidFieldsIn(said).filter((f) => fields.includes(f) && f !== 'index');
        if (dropped.length > 0) {
          for (const f of dropped) this.refused.add(f);
          fields = fields.filter((f) => !dropped.includes(f));
          running.fieldsKey = fields.join(',');
          this.broadcast({ node, level: 'info', message: `nvidia-smi on ${node} does not know ${dropped.join(', ')}; sampling without ${dropped.length === 1 ? 'it' : 'them'}` });
          return 'restart-now';
        }
        if (end.exitCode === 127 || /command not found|No such file/i.test(said)) {
          this.fatal = { node, level: 'error', message: `nvidia-smi is not installed on ${node}; no GPU telemetry from this node` };
          this.broadcast(this.fatal);
          return 'stop';
        }
        const why = end.failure instanceof Error ? end.failure.message : `exit ${end.exitCode ?? end.signal ?? '?'}`;
        const detail = lastLine(said);
        this.broadcast({ node, level: 'warn', message: `nvidia-smi on ${node} stopped (${why})${detail ? `: ${detail}` : ''}; restarting in ${Math.round(end.restartDelayMs / 100) / 10} s` });
        return 'restart';
      },
    })
      .catch((err: unknown) => {
        // a subscriber's callback threw inside the stream: the others hear why the ticks stopped
        this.broadcast({ node, level: 'error', message: `GPU stream on ${node} ended: ${err instanceof Error ? err.message : String(err)}` });
      })
      .finally(() => {
        running.ended = true;
        // an abort ends the loop without onEnd: a tick still pending is passed on (or dropped by
        // a subscriber that has stopped collecting)
        assembler?.end();
        assembler = undefined;
      });
  }
}

/**
 * The shared GPU streams of one Session: `subscribe(cluster, node, ...)` joins (or starts) the
 * node's stream. See the file comment for the interval and field rules.
 */
export class GpuStreamRegistry implements Disposable {
  private readonly byCluster = new Map<Cluster, Map<string, NodeGpuStream>>();
  private readonly dropped = new WeakSet<Cluster>();
  private disposed = false;

  constructor(private readonly o: GpuStreamRegistryOptions = {}) {}

  /**
   * Join the node's stream. Throws UnsafeInputError for a field name nvidia-smi could not have.
   * After dispose or dropCluster the subscription is inert (no stream is started).
   */
  subscribe(cluster: Cluster, node: string, spec: GpuStreamSubscriber): GpuStreamSubscription {
    gpuStreamArgv(spec.fields ?? DEFAULT_STREAM_FIELDS, spec.intervalMs);
    if (this.disposed || this.dropped.has(cluster)) return { dispose: async () => undefined };
    let nodes = this.byCluster.get(cluster);
    if (!nodes) this.byCluster.set(cluster, (nodes = new Map()));
    let stream = nodes.get(node);
    if (!stream) nodes.set(node, (stream = new NodeGpuStream(cluster, node, this.o)));
    const sub: Subscriber = { spec: { ...spec, intervalMs: Math.max(50, spec.intervalMs) }, ticks: 0 };
    const s = stream;
    void s.add(sub);
    let left: Promise<void> | undefined;
    return {
      dispose: () => {
        left ??= s.remove(sub).then(() => this.forget(cluster, node, s));
        return left;
      },
    };
  }

  /** the newest tick of a node's stream (any subscriber's), while the stream exists */
  latest(cluster: Cluster, node: string): GpuSample | undefined {
    return this.byCluster.get(cluster)?.get(node)?.latest;
  }

  /** nodes of the cluster with an nvidia-smi stream running now */
  activeNodes(cluster: Cluster): string[] {
    return [...(this.byCluster.get(cluster) ?? new Map<string, NodeGpuStream>())].filter(([, s]) => s.active).map(([n]) => n);
  }

  /** the cluster is going away: stop its streams; later subscriptions to it are inert */
  async dropCluster(cluster: Cluster): Promise<void> {
    this.dropped.add(cluster);
    const nodes = this.byCluster.get(cluster);
    if (!nodes) return;
    this.byCluster.delete(cluster);
    await Promise.all([...nodes.values()].map((s) => s.close()));
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await Promise.all([...this.byCluster.keys()].map((c) => this.dropCluster(c)));
  }

  private forget(cluster: Cluster, node: string, stream: NodeGpuStream): void {
    const nodes = this.byCluster.get(cluster);
    if (!stream.idle || nodes?.get(node) !== stream) return;
    nodes.delete(node);
    if (nodes.size === 0) this.byCluster.delete(cluster);
  }
}
