import type { Engine, EngineJob, JobEvents, JobHandle } from './types';

/** Fixed timing for the paced engine: first token `ttftMs` after arrival, then one token every `itlMs`. */
export interface PaceOptions {
  ttftMs: number;
  itlMs: number;
}

/**
 * A server with no model and exact timing: token k of a request is produced at
 * arrival + ttftMs + k * itlMs, whatever the load. With the emission stamp on every event
 * (`moebench_emit_ms`) it is the ground truth a client's TTFT and ITL are checked against
 * (scripts/bench-loadgen.ts "accuracy"). Each job schedules its next token against its own
 * planned time, so a late timer never accumulates drift.
 */
export class PacedEngine implements Engine {
  private readonly live = new Set<NodeJS.Timeout>();
  private sleepMs = 0;

  constructor(private readonly pace: PaceOptions) {}

  submit(job: EngineJob, events: JobEvents): JobHandle {
    const total = job.outcome.outputTokens;
    let produced = 0;
    let timer: NodeJS.Timeout | undefined;
    const due = (k: number): number => job.arrivalMs + this.sleepMs + this.pace.ttftMs + k * this.pace.itlMs;
    const step = (): void => {
      if (timer) this.live.delete(timer);
      timer = undefined;
      // libuv arms timers from the loop's cached time, which lags a busy tick: never emit early
      if (performance.now() < due(produced)) {
        arm();
        return;
      }
      produced++;
      events.onProgress(produced, 0);
      if (produced >= total) {
        events.onDone();
        return;
      }
      arm();
    };
    const arm = (): void => {
      timer = setTimeout(step, Math.max(0, due(produced) - performance.now()));
      this.live.add(timer);
    };
    if (total <= 0) queueMicrotask(() => events.onDone());
    else arm();
    return {
      abort: () => {
        if (timer) {
          clearTimeout(timer);
          this.live.delete(timer);
        }
        timer = undefined;
      },
    };
  }

  activeRequests(): number {
    return this.live.size;
  }

  flushCache(): void {}

  setForwardSleep(seconds: number | null): void {
    this.sleepMs = seconds === null ? 0 : seconds * 1000;
  }

  dispose(): void {
    for (const t of this.live) clearTimeout(t);
    this.live.clear();
  }
}
