/**
 * The client-node side of a multi-node load run (`moebench load-shard`): reads the owner's
 * messages, runs its slices of the schedule on local load threads (PooledRun), and reports lines,
 * progress, readiness and finally its columns and health. Transport-agnostic: the CLI wires it to
 * stdin/stdout, tests may wire it to anything.
 */
import { performance } from 'node:perf_hooks';
import { PooledRun } from './pool';
import { WarmupFailedError } from './runner';
import { columnLengths, columnMessages, SHARD_PROTOCOL_VERSION, type NodeMessage, type NodeShardConfig, type OwnerMessage } from './shard-protocol';

const PROGRESS_MS = 250;

export interface ShardNodeIo {
  send(m: NodeMessage): void;
  /** logs for a person (stderr); never the protocol channel */
  log(text: string): void;
}

/**
 * Serves one run. Feed it the owner's messages with `receive`, and `inputEnded` when the owner's
 * side closes (then a running load is cancelled: nobody would read its result). Resolves with the
 * exit code once the final message was sent.
 */
export class ShardNode {
  private run: PooledRun | undefined;
  private startResolve: ((epoch: number) => void) | undefined;
  private readonly startEpoch = new Promise<number>((resolve) => (this.startResolve = resolve));
  private aborted = false;
  private finished!: (code: number) => void;
  readonly exitCode = new Promise<number>((resolve) => (this.finished = resolve));

  constructor(private readonly io: ShardNodeIo) {
    io.send({ type: 'hello', protocol: SHARD_PROTOCOL_VERSION, nodeVersion: process.version, pid: process.pid });
  }

  receive(m: OwnerMessage): void {
    switch (m.type) {
      case 'clock':
        // the clock the shards stamp with (performance.timeOrigin-based), not Date.now()
        this.io.send({ type: 'clock', id: m.id, epoch: performance.timeOrigin + performance.now() });
        break;
      case 'config':
        if (this.run) throw new Error('load-shard: a second config');
        void this.start(m.config);
        break;
      case 'start':
        this.startResolve?.(m.epoch);
        break;
      case 'abort':
        this.abort();
        break;
    }
  }

  inputEnded(): void {
    if (!this.run) {
      this.finished(this.aborted ? 0 : 3);
      return;
    }
    this.io.log('load-shard: the owner closed the channel; stopping the load\n');
    this.abort();
  }

  private abort(): void {
    this.aborted = true;
    if (this.run) this.run.abort();
    else this.finished(0);
    // a shard waiting for its start must not wait forever
    this.startResolve?.(performance.timeOrigin + performance.now());
  }

  private async start(config: NodeShardConfig): Promise<void> {
    const { plan, workers, share } = config;
    let run: PooledRun;
    try {
      run = new PooledRun(plan, workers, (lines) => this.io.send({ type: 'lines', lines }), {
        share,
        startGate: () => {
          this.io.send({ type: 'ready' });
          return this.startEpoch;
        },
      });
    } catch (err) {
      this.io.send({ type: 'error', message: err instanceof Error ? err.message : String(err), warmup: false });
      this.finished(1);
      return;
    }
    this.run = run;
    if (this.aborted) run.abort();
    const timer = setInterval(() => this.io.send({ type: 'progress', progress: run.progress() }), PROGRESS_MS);
    try {
      const result = await run.run();
      this.io.send({ type: 'progress', progress: run.progress() });
      const snapshot = result.columns.snapshot();
      for (const m of columnMessages(snapshot)) this.io.send(m);
      this.io.send({
        type: 'done',
        warmups: snapshot.warmups,
        tally: snapshot.tally,
        lengths: columnLengths(snapshot),
        health: result.health,
        sample: result.sample,
        cancelled: result.cancelled,
        startEpoch: result.startEpoch,
        lastFinishEpoch: result.endEpoch,
      });
      this.finished(0);
    } catch (err) {
      this.io.send({ type: 'error', message: err instanceof Error ? err.message : String(err), warmup: err instanceof WarmupFailedError });
      this.finished(1);
    } finally {
      clearInterval(timer);
    }
  }
}
