import { createHash } from 'node:crypto';
import type { ApiKind, RequestRecord } from '../../metrics/record';
import type { MetricDefinition } from '../../metrics/definitions';
import type { Stats } from '../../metrics/stats';
import { computeMetrics, type RunSummary } from '../../metrics/summary';
import { validityChecks, type ValidityCheck } from '../../metrics/validity';
import { RUN_SCHEMA_VERSION } from '../types';
import { maxOf, minOf } from './records';
import type { ImportContext, ImportedRun, ImportSource } from './types';
import { SOURCE_NAMES } from './types';

/** A number the tool reported, or NaN when it did not (NaN becomes null in JSON). */
export type Reported = number;
export const MISSING = Number.NaN;

export function isReported(x: number | null | undefined): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

export interface StatsInput {
  count?: number | null;
  mean?: number | null;
  median?: number | null;
  std?: number | null;
  min?: number | null;
  max?: number | null;
  /** keyed "p90", "p99", "p99.9" */
  p?: Record<string, number | null | undefined>;
}

/** Stats from whatever the tool printed; absent fields stay null (never invented). */
export function statsFrom(input: StatsInput | undefined, scale = 1): Stats {
  const v = (x: number | null | undefined): number | null => (isReported(x) ? x * scale : null);
  const p: Record<string, number | null> = {};
  for (const [k, x] of Object.entries(input?.p ?? {})) p[k] = v(x);
  return { count: isReported(input?.count) ? input.count : 0, mean: v(input?.mean), median: v(input?.median), std: v(input?.std), min: v(input?.min), max: v(input?.max), p };
}

export const EMPTY_STATS: Stats = { count: 0, mean: null, median: null, std: null, min: null, max: null, p: {} };

export interface ImportDraft {
  source: ImportSource;
  file: string;
  /** position of this run inside the file (line or array index) */
  index: number;
  /** runs in the file (for the step "i of n") */
  of: number;
  toolVersion?: string;
  name: string;
  stepLabel: string;
  createdAt?: string;
  finishedAt?: string;
  cancelled?: boolean;
  model?: string;
  url?: string;
  api: ApiKind;
  /** the closer of our two definitions; the notes say where the tool differs */
  definition: MetricDefinition;
  requestRate: number | 'inf' | null;
  maxConcurrency: number | null;
  /** the tool's own configuration, as found */
  spec: unknown;
  summary: Partial<RunSummary>;
  definitionNotes: string[];
  extras: Record<string, number | string | null>;
  tags?: Record<string, string>;
  serverInfo?: unknown;
  engineVersion?: string;
  /** the tool's per-request data as our records, when the file has it */
  records?: ImportedRecords;
}

export interface ImportedRecords {
  list: RequestRecord[];
  /** the generated texts are in the file (empty/looping output check) */
  textsKnown: boolean;
  /** dataset name as the tool wrote it (the warm-cache check judges random data strictly) */
  datasetName?: string;
}

/** The one error-rate check we can make from reported counts (the rest need per-request records). */
function errorRateCheck(completed: number, failed: number): ValidityCheck {
  const total = completed + failed;
  const rate = total > 0 ? failed / total : 0;
  if (failed === 0) return { id: 'error-rate', level: 'ok', text: 'no errors', detail: `${total} requests, none failed (as reported by the tool)`, value: 0 };
  return { id: 'error-rate', level: rate > 0.01 ? 'error' : 'warn', text: `${(rate * 100).toFixed(1)}% errors`, detail: `${failed} of ${total} requests failed (as reported by the tool)`, value: rate };
}

export function finishImport(d: ImportDraft, ctx: ImportContext = {}): ImportedRun {
  const s = d.summary;
  const completed = isReported(s.completed) ? s.completed : 0;
  const failed = isReported(s.failed) ? s.failed : MISSING;
  const summary: RunSummary = {
    schemaVersion: 1,
    definition: d.definition,
    api: d.api,
    percentiles: s.percentiles ?? [],
    completed,
    failed,
    warmupRequests: s.warmupRequests ?? MISSING,
    durationSec: s.durationSec ?? MISSING,
    totalInputTokens: s.totalInputTokens ?? MISSING,
    totalOutputTokens: s.totalOutputTokens ?? MISSING,
    requestThroughput: s.requestThroughput ?? MISSING,
    inputThroughput: s.inputThroughput ?? MISSING,
    outputThroughput: s.outputThroughput ?? MISSING,
    totalThroughput: s.totalThroughput ?? MISSING,
    concurrency: s.concurrency ?? MISSING,
    maxOutputTokensPerSec: s.maxOutputTokensPerSec ?? MISSING,
    maxConcurrentRequests: s.maxConcurrentRequests ?? MISSING,
    requestGoodput: s.requestGoodput ?? null,
    goodCompleted: s.goodCompleted ?? null,
    acceptLength: s.acceptLength ?? null,
    ttftMs: s.ttftMs ?? EMPTY_STATS,
    tpotMs: s.tpotMs ?? EMPTY_STATS,
    itlMs: s.itlMs ?? EMPTY_STATS,
    e2eMs: s.e2eMs ?? EMPTY_STATS,
    clientQueueMs: s.clientQueueMs ?? EMPTY_STATS,
    e2eIncludingQueueMs: s.e2eIncludingQueueMs ?? EMPTY_STATS,
    dispatchLagMs: s.dispatchLagMs ?? EMPTY_STATS,
  };
  const validity = d.records && d.records.list.length > 0 ? recordChecks(d, d.records, summary) : isReported(failed) ? [errorRateCheck(completed, failed)] : [];
  const definitionNotes = [...d.definitionNotes];
  const tags = { ...(d.tags ?? {}) };
  let createdAt = d.createdAt;
  if (createdAt === undefined) {
    // the tool wrote no date: the file's mtime is the best evidence, and says so
    createdAt = ctx.mtime ? ctx.mtime.toISOString() : new Date(0).toISOString();
    tags['createdAtFrom'] = ctx.mtime ? 'file mtime' : 'unknown';
    definitionNotes.push(ctx.mtime ? "The file holds no run date; the date shown is the file's modification time." : 'The file holds no run date; the date shown is unknown (1970).');
  }
  return {
    meta: {
      schemaVersion: RUN_SCHEMA_VERSION,
      // stable for the same file and position, distinct across files with the same run name
      id: `import-${d.source}-${slug(d.name)}-${d.index}-${createHash('sha1').update(`${d.file}\n${d.index}\n${createdAt}`).digest('hex').slice(0, 6)}`,
      name: d.name,
      createdAt,
      finishedAt: d.finishedAt,
      status: d.cancelled ? 'cancelled' : 'completed',
      step: { index: d.index, of: d.of, label: d.stepLabel, requestRate: d.requestRate ?? 'inf', maxConcurrency: d.maxConcurrency },
      spec: d.spec,
      target: { url: d.url ?? '', api: d.api, model: d.model, engine: undefined, simulated: false },
      provenance: {
        toolVersion: `${SOURCE_NAMES[d.source]}${d.toolVersion ? ` ${d.toolVersion}` : ''}`,
        client: { hostname: 'unknown', platform: 'unknown', arch: 'unknown', cpus: 0, cpuModel: 'unknown', nodeVersion: 'unknown', pid: 0 },
        seeds: { dataset: 0, arrivals: 0 },
        serverInfo: d.serverInfo ?? null,
        engineVersion: d.engineVersion,
      },
      tags: Object.keys(tags).length > 0 ? tags : undefined,
      source: d.source,
      importedFrom: { file: d.file, index: d.index, toolVersion: d.toolVersion },
      definitionNotes,
      extras: d.extras,
    },
    result: {
      schemaVersion: RUN_SCHEMA_VERSION,
      summary,
      series: { outputTokensPerSec: [], concurrentRequestsPerSec: [] },
      validity,
      client: { eventLoopDelayP99Ms: MISSING, eventLoopDelayMaxMs: MISSING, cpuPct: MISSING },
      cancelled: d.cancelled === true,
    },
    ...(d.records && d.records.list.length > 0 ? { records: d.records.list } : {}),
  };
}

/**
 * Our record-based checks on the tool's per-request data: errors (with their messages), empty or
 * looping outputs when the texts are there, a warm prefix cache when cached tokens are. Checks
 * that need what peers do not record (our dispatch schedule, event-loop health) are left out
 * rather than passed vacuously.
 */
function recordChecks(d: ImportDraft, recs: ImportedRecords, summary: RunSummary): ValidityCheck[] {
  const list = recs.list;
  const spanMs = Math.max(0, maxOf(list.map((r) => r.startMs + r.lastLineMs)) - minOf(list.map((r) => r.startMs)));
  const durationSec = isReported(summary.durationSec) && summary.durationSec > 0 ? summary.durationSec : spanMs / 1000;
  // the records were built so that vLLM's reading of them gives back the tool's own timings
  const computed = computeMetrics(list, { api: d.api, definition: 'vllm', durationSec, percentiles: summary.percentiles });
  const checks = validityChecks({
    summary: computed.summary,
    records: list,
    derived: computed.derived,
    requestRate: typeof d.requestRate === 'number' ? d.requestRate : Number.POSITIVE_INFINITY,
    maxConcurrency: d.maxConcurrency ?? undefined,
    datasetName: recs.datasetName ?? '',
    cacheBust: false,
    ignoreEos: false,
  });
  const applies = (c: ValidityCheck): boolean => c.id === 'error-rate' || c.id === 'warm-cache' || (c.id === 'outputs' && recs.textsKnown);
  return checks.filter(applies).map((c) => ({ ...c, detail: `${c.detail} (from the tool's per-request records)` }));
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'run';
}

/** JSON value narrowing helpers: the files are untrusted input. */
export type Json = Record<string, unknown>;
export function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
export function numberAt(o: unknown, ...path: string[]): number | undefined {
  const v = valueAt(o, ...path);
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}
export function stringAt(o: unknown, ...path: string[]): string | undefined {
  const v = valueAt(o, ...path);
  return typeof v === 'string' ? v : undefined;
}
export function valueAt(o: unknown, ...path: string[]): unknown {
  let cur: unknown = o;
  for (const key of path) {
    if (!isObject(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}
