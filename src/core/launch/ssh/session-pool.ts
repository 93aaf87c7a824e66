import { CancelledError } from '../../util/errors';

/**
 * Counts SSH *sessions* (exec, sftp) open on one connection. OpenSSH refuses more than
 * `MaxSessions` (default 10) with "Channel open failure"; port forwards do not count. Requests
 * beyond the limit wait in FIFO order. The limit starts at the configured guess and is lowered
 * when the server refuses a session while others are open, so a node with a smaller MaxSessions
 * still never fails a command.
 */
export class SessionPool {
  private active = 0;
  private readonly waiters: { grant: () => void; signal?: AbortSignal; onAbort?: () => void }[] = [];

  constructor(private limitValue: number) {
    if (limitValue < 1) throw new RangeError('session limit must be at least 1');
  }

  get limit(): number {
    return this.limitValue;
  }

  get inUse(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiters.length;
  }

  /**
   * Resolves with a release function once a slot is free. Release exactly once. `priority`
   * jumps the queue: a cancel's kill command must not wait behind the commands it cancels.
   */
  acquire(signal?: AbortSignal, priority = false): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(new CancelledError());
    if (this.active < this.limitValue && (this.waiters.length === 0 || priority)) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter: (typeof this.waiters)[number] = {
        grant: () => {
          if (waiter.onAbort) signal?.removeEventListener('abort', waiter.onAbort);
          this.active++;
          resolve(this.releaser());
        },
        signal,
      };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new CancelledError());
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      if (priority) this.waiters.unshift(waiter);
      else this.waiters.push(waiter);
    });
  }

  /**
   * The server refused a session while `othersOpen` of ours were open: that is its limit.
   * Returns false when nothing else was open, i.e. the refusal is not about the limit.
   */
  learnLimit(othersOpen: number): boolean {
    if (othersOpen < 1) return false;
    this.limitValue = Math.min(this.limitValue, othersOpen);
    return true;
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.pump();
    };
  }

  private pump(): void {
    while (this.active < this.limitValue && this.waiters.length > 0) {
      const next = this.waiters.shift();
      next?.grant();
    }
  }
}

/** ssh2 reports a refused channel as "(SSH) Channel open failure: ..." */
export function isChannelOpenFailure(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('(SSH) Channel open failure');
}
