import { Rng, mix32 } from './rng';

/**
 * Fault injection. What each fault looks like on the wire:
 * - crash (after N generation requests, or T ms after start): every open connection is reset
 *   (no terminating chunk, no [DONE]) and the port stops accepting; `moebench sim serve` /
 *   `launch-server` processes exit with status 1, as a dead scheduler takes SGLang down.
 * - errorRate p: that fraction of generation requests answers HTTP `errorStatus` (default 500)
 *   with SGLang's error body `{"object":"error","message":"...","type":"InternalServerError","param":null,"code":500}`.
 * - stall: after `stallAfterTokens` tokens, a stream sends nothing for `stallMs`, then resumes.
 *   `stallRate` (default 1) is the fraction of streams stalled.
 * - dropConnection: after `dropAfterTokens` tokens the socket is destroyed mid-stream
 *   (`dropRate`, default 1, of streams): the client sees a truncated chunked body, no [DONE].
 * - healthDelayMs: /health and /health_generate answer only after this delay.
 * - healthFailing: /health and /health_generate answer 503 with an empty body (SGLang's unhealthy answer).
 * Every draw comes from the server seed, so the same seed fails the same requests.
 */
export interface FaultOptions {
  crashAfterRequests?: number;
  crashAtMs?: number;
  errorRate?: number;
  errorStatus?: number;
  stallAfterTokens?: number;
  stallMs?: number;
  stallRate?: number;
  dropAfterTokens?: number;
  dropRate?: number;
  healthDelayMs?: number;
  healthFailing?: boolean;
}

export interface StreamFaults {
  /** stall before emitting token index `stallAt` (0-based count of tokens sent) */
  stallAt: number | null;
  stallMs: number;
  /** destroy the socket once this many tokens were sent */
  dropAt: number | null;
}

export class FaultInjector {
  private readonly rng: Rng;
  private requests = 0;
  constructor(
    readonly options: FaultOptions,
    seed: number,
  ) {
    this.rng = new Rng(mix32(seed, 0xfa017));
  }
  get active(): boolean {
    const o = this.options;
    return Boolean(o.crashAfterRequests || o.crashAtMs || o.errorRate || o.stallMs || o.dropAfterTokens !== undefined || o.healthDelayMs || o.healthFailing);
  }
  /** counts a generation request; true when this one should crash the server */
  countRequest(): boolean {
    this.requests++;
    return this.options.crashAfterRequests !== undefined && this.requests > this.options.crashAfterRequests;
  }
  /** true when this generation request should answer an HTTP error */
  drawError(): boolean {
    const p = this.options.errorRate ?? 0;
    return p > 0 && this.rng.next() < p;
  }
  streamFaults(): StreamFaults {
    const o = this.options;
    const stall = o.stallMs !== undefined && o.stallMs > 0 && this.rng.next() < (o.stallRate ?? 1);
    const drop = o.dropAfterTokens !== undefined && this.rng.next() < (o.dropRate ?? 1);
    return { stallAt: stall ? (o.stallAfterTokens ?? 1) : null, stallMs: o.stallMs ?? 0, dropAt: drop ? (o.dropAfterTokens ?? 1) : null };
  }
}
