import type { RequestRecord } from '../metrics/record';

/** A fault as it was carried out, on the run's clock (ms after the load's t0). */
export interface InjectedFault {
  index: number;
  kind: 'kill' | 'slowDown' | 'cutNode';
  /** e.g. "kill decode-0/rank-0 (SIGKILL)" */
  label: string;
  plannedAtMs: number;
  /** when the action took effect (after the command returned) */
  atMs: number;
  /** when the fault was undone (restart started, slow_down reset, node resumed); null = never */
  endedAtMs: number | null;
  detail: string[];
  /** the action itself failed (nothing was injected) */
  error?: string;
}

export interface FaultOutcome {
  index: number;
  label: string;
  atMs: number;
  /** first failed or stalled request after the fault, ms after it; null = no visible effect */
  detectMs: number | null;
  burst: { failed: number; stalled: number; startMs: number; endMs: number } | null;
  /** first success of a run of `recoverAfter` good requests after the burst, ms after the fault */
  recoverMs: number | null;
  recovered: boolean;
  /** one sentence for badges and logs */
  text: string;
}

export interface AnalysisOptions {
  recoverAfter: number;
  /** a gap between tokens longer than this is a stall */
  stallMs?: number;
}

/** when a request's outcome became known: its last byte, or its start when nothing arrived */
export function requestEndMs(r: RequestRecord): number {
  const lastChunk = r.chunkMs.length ? r.chunkMs[r.chunkMs.length - 1] : 0;
  return r.startMs + Math.max(r.lastLineMs, r.headersMs ?? 0, lastChunk);
}

/** the moment a watcher with threshold `stallMs` sees this request stall (after `fromMs`), or null */
export function stallNoticedMs(r: RequestRecord, stallMs: number, fromMs: number): number | null {
  let prev = 0;
  for (const t of r.chunkMs) {
    if (t - prev > stallMs && r.startMs + prev + stallMs >= fromMs) return r.startMs + prev + stallMs;
    prev = t;
  }
  return null;
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** default stall threshold: 10 × the median gap between tokens before the fault, at least 500 ms */
export function defaultStallMs(records: readonly RequestRecord[], beforeMs: number): number {
  const gaps: number[] = [];
  for (const r of records) {
    if (!r.ok || r.startMs + r.lastLineMs > beforeMs) continue;
    for (let i = 1; i < r.chunkMs.length; i++) gaps.push(r.chunkMs[i] - r.chunkMs[i - 1]);
  }
  const m = median(gaps);
  return Math.max(500, m === null ? 0 : 10 * m);
}

const sec = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/**
 * What a fault did to the requests, judged from the client's records alone:
 * - time to detect: from the fault to the first request that failed (its last byte) or stalled
 *   (a token gap longer than the stall threshold, counted when the threshold is crossed);
 * - the error burst: the failed and stalled requests from then until recovery, and their window;
 * - time to recover: among requests started after the first failure/stall was seen, the first that begins a run
 *   of `recoverAfter` good requests in a row (by start time); its end, from the fault. None such
 *   by the end of the run is "no recovery".
 */
export function analyzeFault(records: readonly RequestRecord[], fault: InjectedFault, o: AnalysisOptions): FaultOutcome {
  const T = fault.atMs;
  const base = { index: fault.index, label: fault.label, atMs: T };
  if (fault.error) return { ...base, detectMs: null, burst: null, recoverMs: null, recovered: false, text: `${fault.label}: not injected (${fault.error})` };
  const stallMs = o.stallMs ?? defaultStallMs(records, T);
  interface Bad {
    atMs: number;
    failed: boolean;
    r: RequestRecord;
  }
  const bad: Bad[] = [];
  const badSet = new Set<RequestRecord>();
  for (const r of records) {
    if (!r.ok) {
      const end = requestEndMs(r);
      if (end >= T) {
        bad.push({ atMs: end, failed: true, r });
        badSet.add(r);
      }
      continue;
    }
    const s = stallNoticedMs(r, stallMs, T);
    if (s !== null) {
      bad.push({ atMs: s, failed: false, r });
      badSet.add(r);
    }
  }
  if (bad.length === 0) return { ...base, detectMs: null, burst: null, recoverMs: null, recovered: true, text: `${fault.label} at ${sec(T)}: no failed or stalled request afterwards` };
  bad.sort((a, b) => a.atMs - b.atMs);
  const firstBad = bad[0].atMs;
  // a recovery counts only among requests sent once the trouble was visible
  const after = records.filter((r) => r.startMs >= firstBad).sort((a, b) => a.startMs - b.startMs);
  let recoveredAt: number | null = null;
  let streakStart = -1;
  for (let i = 0; i < after.length; i++) {
    const good = after[i].ok && !badSet.has(after[i]);
    if (!good) {
      streakStart = -1;
      continue;
    }
    if (streakStart < 0) streakStart = i;
    if (i - streakStart + 1 >= o.recoverAfter) {
      recoveredAt = requestEndMs(after[streakStart]);
      break;
    }
  }
  const inBurst = bad.filter((b) => recoveredAt === null || b.atMs <= recoveredAt || b.r.startMs < (after[streakStart]?.startMs ?? Infinity));
  const burst = {
    failed: inBurst.filter((b) => b.failed).length,
    stalled: inBurst.filter((b) => !b.failed).length,
    startMs: firstBad,
    endMs: Math.max(...inBurst.map((b) => b.atMs)),
  };
  const detectMs = firstBad - T;
  const recoverMs = recoveredAt === null ? null : Math.max(0, recoveredAt - T);
  const what = [burst.failed ? `${burst.failed} failed` : '', burst.stalled ? `${burst.stalled} stalled` : ''].filter(Boolean).join(', ');
  const text = `${fault.label} at ${sec(T)}: detected after ${sec(detectMs)}, ${what} in ${sec(burst.endMs - burst.startMs)}, ${recoverMs === null ? 'no recovery by the end of the run' : `recovered after ${sec(recoverMs)}`}`;
  return { ...base, detectMs, burst, recoverMs, recovered: recoverMs !== null, text };
}
