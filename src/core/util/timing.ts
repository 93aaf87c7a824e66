/**
 * Timing helpers shared by collectors, cells and views: an abortable sleep and a trailing
 * throttle. Neither leaves a timer behind once it is done or disposed.
 */
import type { Disposable } from './disposable';

/** Wait `ms`, or less if the signal aborts first; never rejects, leaves no timer behind. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Calls `fn` at most once per `minIntervalMs`, trailing: a burst of pokes gives one call now
 * (when idle long enough) and one at the end of the interval, never more. Owns its timer.
 */
export class Throttle implements Disposable {
  private lastMs = -Infinity;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  constructor(
    private readonly minIntervalMs: number,
    private readonly fn: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  poke(): void {
    if (this.disposed || this.timer) return;
    const wait = this.lastMs + this.minIntervalMs - this.now();
    if (wait <= 0) this.fire();
    else this.timer = setTimeout(() => this.fire(), wait);
  }

  /** call now if a call is pending (e.g. before the final doc) */
  flush(): void {
    if (this.timer) this.fire();
  }

  private fire(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.disposed) return;
    this.lastMs = this.now();
    this.fn();
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
