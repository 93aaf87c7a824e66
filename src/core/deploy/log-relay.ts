import type { Cluster, RankState } from '../launch/types';
import type { CellEventSink } from '../exec/events';
import type { Disposable } from '../util/disposable';
import { LineSplitter } from '../util/lines';

interface Followed {
  source: string;
  splitter: LineSplitter;
  pending: string[];
  /** last lines seen, for error messages when the process dies */
  recent: string[];
  offset: number;
}

export interface LogRelayOptions {
  /** how often batched lines go to the cell (default 250 ms) */
  flushIntervalMs?: number;
  /** lines kept per process for `recentLines` (default 200) */
  keepLines?: number;
  /** called once when a process's log ended because the process exited (not on dispose) */
  onEnded?: (processId: string) => void;
  /** the follow stream failed for good (the node is unreachable) */
  onError?: (processId: string, err: unknown) => void;
}

/**
 * Streams the logs of a deployment's processes into a cell: every line prefixed with its node and
 * rank (`[node3 decode-0/rank-0] ...`), batched per source so a chatty server sends a few events a
 * second, not one per line. Owns its follow streams; dispose stops them and flushes what is left.
 */
export class LogRelay implements Disposable {
  private readonly followed = new Map<string, Followed>();
  private readonly abort = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly running: Promise<void>[] = [];
  private disposed = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly emit: CellEventSink,
    private readonly options: LogRelayOptions = {},
  ) {
    this.timer = setInterval(() => this.flush(), options.flushIntervalMs ?? 250);
    this.timer.unref();
  }

  follow(processId: string, state: RankState, fromOffset = 0): void {
    if (this.disposed) return;
    const keep = this.options.keepLines ?? 200;
    const f: Followed = {
      source: `${state.node} ${processId}`,
      pending: [],
      recent: [],
      offset: fromOffset,
      splitter: new LineSplitter((line) => {
        f.pending.push(line);
        f.recent.push(line);
        if (f.recent.length > keep * 2) f.recent.splice(0, f.recent.length - keep);
      }),
    };
    this.followed.set(processId, f);
    const run = this.cluster.launcher.follow(state, {
      fromOffset,
      signal: this.abort.signal,
      onData: (text, offset) => {
        f.offset = offset;
        f.splitter.push(text);
      },
    }).then(
      (r) => {
        f.splitter.flush();
        if (r.complete && !this.disposed) this.options.onEnded?.(processId);
      },
      (err: unknown) => {
        if (!this.disposed) this.options.onError?.(processId, err);
      },
    );
    this.running.push(run);
  }

  /** the last `n` lines of a process's log as relayed so far */
  recentLines(processId: string, n = 40): string[] {
    const f = this.followed.get(processId);
    return f ? f.recent.slice(-n) : [];
  }

  /** byte offset of the log consumed so far (to resume following after a reload) */
  offset(processId: string): number {
    return this.followed.get(processId)?.offset ?? 0;
  }

  flush(): void {
    for (const f of this.followed.values()) {
      if (f.pending.length === 0) continue;
      const lines = f.pending.splice(0);
      this.emit({ kind: 'log', stream: 'stdout', source: f.source, text: lines.map((l) => `[${f.source}] ${l}\n`).join('') });
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    clearInterval(this.timer);
    this.abort.abort();
    await Promise.allSettled(this.running);
    for (const f of this.followed.values()) f.splitter.flush();
    this.flush();
  }
}
