/**
 * How long a stream may go without a byte before the request fails as stalled. A hung server
 * used to hold a run for a fixed 10 minutes; the default now follows what the user expects of
 * the server: 300 inter-token times (the TPOT SLO), or three times the TTFT SLO (the first byte
 * waits for prefill and the queue), never under 60 s (a busy server's queue) nor over 10 min.
 * Without an SLO: 60 s. `idleTimeoutSec` in the bench cell, or `--idle-timeout` on the CLI,
 * sets it outright.
 */
export const MIN_DEFAULT_IDLE_MS = 60_000;
export const MAX_IDLE_MS = 600_000;

export function defaultIdleTimeoutMs(slo?: { ttftMs?: number; tpotMs?: number }): number {
  const fromTpot = slo?.tpotMs !== undefined ? 300 * slo.tpotMs : 0;
  const fromTtft = slo?.ttftMs !== undefined ? 3 * slo.ttftMs : 0;
  return Math.min(MAX_IDLE_MS, Math.max(MIN_DEFAULT_IDLE_MS, fromTpot, fromTtft));
}

export function idleTimeoutMs(explicitSec: number | undefined, slo?: { ttftMs?: number; tpotMs?: number }): number {
  return explicitSec !== undefined ? Math.round(explicitSec * 1000) : defaultIdleTimeoutMs(slo);
}
