import type { Outcome } from '../wire/outcome';
import type { GenRequest } from '../wire/request';

/** One generation handed to the engine. */
export interface EngineJob {
  req: GenRequest;
  outcome: Outcome;
  /** performance.now() at arrival */
  arrivalMs: number;
  /**
   * where the scheduler saw the request, performance.now() ms, filled in as it goes (SGLang's
   * SchedulerReqTimeStats): the HTTP layer reports them in meta_info with --enable-metrics
   */
  times?: EngineTimes;
}

/** SchedulerReqTimeStats' stamps (sgl-project/sglang@00ce49e0 observability/req_time_stats.py), 0 = not reached */
export interface EngineTimes {
  waitQueueEntryMs: number;
  forwardEntryMs: number;
  prefillRunStartMs: number;
  prefillRunEndMs: number;
  prefillFinishedMs: number;
}

/** What the engine tells the HTTP layer about a job; called on step boundaries only. */
export interface JobEvents {
  /** `produced` tokens (cumulative) are now available; `cachedTokens` known from admission on */
  onProgress(produced: number, cachedTokens: number): void;
  /** all tokens produced */
  onDone(): void;
  /** the engine gave up on the job (bootstrap failure, crash...) */
  onFail(message: string, status: number): void;
}

export interface JobHandle {
  /** client went away: free the job's slot and KV */
  abort(): void;
}

export interface Engine {
  submit(job: EngineJob, events: JobEvents): JobHandle;
  /** running + waiting requests (flush_cache refuses while > 0) */
  activeRequests(): number;
  flushCache(): void;
  /** /slow_down: extra seconds added to every forward pass (null = off) */
  setForwardSleep(seconds: number | null): void;
  dispose(): void;
}
