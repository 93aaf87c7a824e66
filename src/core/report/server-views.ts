import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { ComparedRun, MetricDef } from './types';

/**
 * What the bench cell learnt from the servers and the stream about one run, stored beside
 * meta.json (`server-views.json`) so reports can compare it: time to first answer token for
 * reasoning models, the prefix-cache hit rate from counters, and the TTFT decomposition's parts.
 */
export interface StoredServerViews {
  ttfatMs?: { mean: number | null; p50: number | null; p99: number | null };
  reasoningShare?: number;
  /** Δcached / Δprompt tokens over the run, from the servers' counters */
  prefixCacheHitRate?: number | null;
  /** segment id -> mean ms per request (router, prefillQueue, ..., unexplained) */
  ttftSegmentsMs?: Record<string, number | null>;
  kvMetricType?: 'histogram' | 'gauge' | 'absent';
}

export const SERVER_VIEWS_FILE = 'server-views.json';

export async function writeServerViews(runDir: string, v: StoredServerViews): Promise<void> {
  await writeFile(path.join(runDir, SERVER_VIEWS_FILE), JSON.stringify(v, null, 2) + '\n');
}

export async function readServerViews(runDir: string): Promise<StoredServerViews | undefined> {
  try {
    return JSON.parse(await readFile(path.join(runDir, SERVER_VIEWS_FILE), 'utf8')) as StoredServerViews;
  } catch {
    return undefined;
  }
}

const finite = (x: number | null | undefined): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/** Columns a report shows only when at least one compared run has the figure. */
export const OPTIONAL_REPORT_METRICS: MetricDef[] = [
  // reasoning figures from summary.json (every request) when the run has them, else server-views.json
  { id: 'ttfatP50', label: 'TTFAT p50', unit: 'ms', better: 'lower', digits: 1, value: (r) => finite(r.summary.reasoning?.ttfatMs.median ?? r.serverViews?.ttfatMs?.p50) },
  { id: 'ttfatMean', label: 'TTFAT mean', unit: 'ms', better: 'lower', digits: 1, value: (r) => finite(r.summary.reasoning?.ttfatMs.mean ?? r.serverViews?.ttfatMs?.mean) },
  { id: 'thinkingShare', label: 'Thinking share', unit: '%', better: 'lower', digits: 1, value: (r) => { const s = r.summary.reasoning?.thinkingShare ?? r.serverViews?.reasoningShare; return s === undefined ? null : 100 * s; } },
  { id: 'thinkingTokens', label: 'Thinking tokens', unit: 'tok', better: 'lower', digits: 0, value: (r) => finite(r.summary.reasoning?.thinkingTokens) },
  { id: 'answerTokens', label: 'Answer tokens', unit: 'tok', better: 'higher', digits: 0, value: (r) => finite(r.summary.reasoning?.answerTokens) },
  { id: 'prefixCacheHit', label: 'Prefix-cache hit', unit: '%', better: 'higher', digits: 1, value: (r) => { const h = finite(r.serverViews?.prefixCacheHitRate); return h === null ? null : 100 * h; } },
  { id: 'kvTransferMs', label: 'KV transfer', unit: 'ms', better: 'lower', digits: 2, value: (r) => finite(r.serverViews?.ttftSegmentsMs?.['kvTransfer']) },
  { id: 'ttftUnexplained', label: 'TTFT unexplained', unit: 'ms', better: 'lower', digits: 1, value: (r) => finite(r.serverViews?.ttftSegmentsMs?.['unexplained']) },
];

export function presentOptionalMetrics(runs: readonly ComparedRun[]): MetricDef[] {
  return OPTIONAL_REPORT_METRICS.filter((m) => runs.some((r) => m.value(r) !== null));
}
