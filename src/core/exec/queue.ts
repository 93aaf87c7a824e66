import { CellRunStateMachine, type CellRunState } from './state';
import { isAbortError } from '../util/errors';

export interface QueuedJob<K> {
  key: K;
  run: (signal: AbortSignal) => Promise<void>;
  /** called once when the job leaves pending (running) */
  onStart?: () => void;
  /** called exactly once with the final state */
  onEnd?: (state: Exclude<CellRunState, 'pending' | 'running'>, error?: unknown) => void;
}

interface Entry<K> {
  job: QueuedJob<K>;
  machine: CellRunStateMachine;
  abort: AbortController;
  batch: number;
}

/**
 * One queue per notebook: cells run one at a time in the order they were asked for. A failure
 * cancels the rest of the same batch (a "Run All" stops at the first failing cell).
 */
export class ExecutionQueue<K> {
  private readonly entries: Entry<K>[] = [];
  private running: Entry<K> | undefined;
  private nextBatch = 0;
  private idleWaiters: (() => void)[] = [];

  /** enqueue a batch of jobs (one "run" request); returns the batch id */
  enqueue(jobs: QueuedJob<K>[]): number {
    const batch = this.nextBatch++;
    for (const job of jobs) {
      // the same cell queued twice waits for its first run (VS Code sends each cell once per request)
      this.entries.push({ job, machine: new CellRunStateMachine(), abort: new AbortController(), batch });
    }
    void this.pump();
    return batch;
  }

  cancel(key: K): void {
    for (const e of [...this.entries, ...(this.running ? [this.running] : [])]) {
      if (e.job.key === key) this.cancelEntry(e);
    }
  }

  cancelAll(): void {
    for (const e of [...this.entries]) this.cancelEntry(e);
    if (this.running) this.cancelEntry(this.running);
  }

  isBusy(): boolean {
    return this.running !== undefined || this.entries.length > 0;
  }

  stateOf(key: K): CellRunState | undefined {
    if (this.running?.job.key === key) return this.running.machine.state;
    return this.entries.find((e) => e.job.key === key)?.machine.state;
  }

  whenIdle(): Promise<void> {
    if (!this.isBusy()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private cancelEntry(e: Entry<K>): void {
    if (e.machine.state === 'pending') {
      const i = this.entries.indexOf(e);
      if (i >= 0) this.entries.splice(i, 1);
      e.machine.transition('cancelled');
      e.job.onEnd?.('cancelled');
      this.notifyIdle();
    } else if (e.machine.state === 'running') {
      e.abort.abort();
    }
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    const e = this.entries.shift();
    if (!e) {
      this.notifyIdle();
      return;
    }
    this.running = e;
    e.machine.transition('running');
    e.job.onStart?.();
    let final: 'succeeded' | 'failed' | 'cancelled' = 'succeeded';
    let error: unknown;
    try {
      await e.job.run(e.abort.signal);
      if (e.abort.signal.aborted) final = 'cancelled';
    } catch (err) {
      final = e.abort.signal.aborted || isAbortError(err) ? 'cancelled' : 'failed';
      error = err;
    }
    e.machine.tryFinish(final);
    this.running = undefined;
    try {
      e.job.onEnd?.(final, error);
    } finally {
      if (final !== 'succeeded') {
        // the rest of the batch depends on this cell: do not run it
        for (const rest of this.entries.filter((x) => x.batch === e.batch)) this.cancelEntry(rest);
      }
      void this.pump();
    }
  }

  private notifyIdle(): void {
    if (this.isBusy()) return;
    const waiters = this.idleWaiters.splice(0);
    for (const w of waiters) w();
  }
}
