import { familyWindow, type FamilyWindow, type LabelFilter } from '../telemetry/server/family-window';
import { labelsOf, type PromScrape } from '../telemetry/server/prometheus';

/** One server's /metrics at the start and the end of a run (see telemetry/server/run-scrapes.ts). */
export interface ServerWindow {
  endpoint: string;
  /** undefined: the run's first scrape failed, so counts run from the server's start */
  before?: PromScrape;
  after: PromScrape;
}

export type ServerRole = 'prefill' | 'decode' | 'unified' | 'router' | 'unknown';

export type TtftSegmentId = 'router' | 'prefillQueue' | 'prefillCompute' | 'kvTransfer' | 'decodeQueue' | 'firstDecodeStep' | 'unexplained';

export interface TtftSegment {
  id: TtftSegmentId;
  label: string;
  /** mean ms per request over the run; null when the servers do not export what it needs */
  ms: number | null;
  /** where the figure comes from, shown on hover */
  source: string;
}

/** A KV-transfer family as the servers declared it during the run. */
export interface KvFamilyReading {
  name: string;
  type: 'histogram' | 'gauge' | 'absent';
  /** histogram: mean over the run's requests; gauge: last value (one request per rank, not a run figure) */
  value: number | null;
  p50?: number | null;
  p99?: number | null;
  count?: number;
}

export interface TtftDecomposition {
  /** the client's mean TTFT (the bar the stack is drawn next to) */
  clientTtftMs: number;
  segments: TtftSegment[];
  /** server-side TTFT means by role (tokenizer histograms) */
  serverTtftMs: { prefill: number | null; decode: number | null };
  /** stages that overlap the stack (bootstrap and KV allocation run beside prefill), with sizes and speeds */
  kv: KvFamilyReading[];
  notes: string[];
}

/** engine_type label of any scheduler sample (SGLang labels every scheduler metric with it), else the endpoint's name */
export function serverRole(w: ServerWindow): ServerRole {
  for (const samples of w.after.byName.values()) {
    for (const s of samples) {
      const t = labelsOf(s).engine_type;
      if (t === 'prefill' || t === 'decode' || t === 'unified') return t;
    }
  }
  const m = /^(prefill|decode|router|unified)/.exec(w.endpoint);
  return m ? (m[1] as ServerRole) : 'unknown';
}

/** The windows of several servers of one role merged: histograms pooled (Σsum/Σcount), gauges averaged. */
export function pooled(windows: readonly ServerWindow[], name: string, filter?: LabelFilter): FamilyWindow | undefined {
  const parts = windows.map((w) => familyWindow(w.before, w.after, name, filter)).filter((x): x is FamilyWindow => x !== undefined);
  if (parts.length === 0) return undefined;
  const hist = parts.filter((p): p is Extract<FamilyWindow, { type: 'histogram' }> => p.type === 'histogram');
  if (hist.length > 0) {
    const count = hist.reduce((a, p) => a + p.count, 0);
    const sum = hist.reduce((a, p) => a + p.sum, 0);
    // quantiles do not pool; keep the busiest server's as an indication
    const busiest = hist.reduce((a, b) => (b.count > a.count ? b : a));
    return { name, type: 'histogram', count, sum, mean: count > 0 ? sum / count : null, p50: busiest.p50, p90: busiest.p90, p99: busiest.p99 };
  }
  const gauges = parts.filter((p): p is Extract<FamilyWindow, { type: 'gauge' }> => p.type === 'gauge');
  if (gauges.length > 0) return { name, type: 'gauge', value: gauges.reduce((a, g) => a + g.value, 0) / gauges.length, series: gauges.reduce((a, g) => a + g.series, 0) };
  const counters = parts.filter((p): p is Extract<FamilyWindow, { type: 'counter' }> => p.type === 'counter');
  return { name, type: 'counter', increase: counters.reduce((a, c) => a + c.increase, 0) };
}

function meanMs(w: FamilyWindow | undefined, scale: number): number | null {
  if (!w || w.type !== 'histogram' || w.mean === null || w.count <= 0) return null;
  return w.mean * scale;
}

const KV_FAMILIES: readonly [string, string][] = [
  ['sglang:kv_transfer_latency_ms', 'prefill'],
  ['sglang:kv_transfer_bootstrap_ms', 'any'],
  ['sglang:kv_transfer_alloc_ms', 'any'],
  ['sglang:kv_transfer_total_mb', 'prefill'],
  ['sglang:kv_transfer_speed_gb_s', 'prefill'],
];

function kvReading(windows: readonly ServerWindow[], name: string): KvFamilyReading {
  const w = pooled(windows, name);
  if (!w || w.type === 'counter') return { name, type: 'absent', value: null };
  if (w.type === 'gauge') return { name, type: 'gauge', value: w.value };
  return { name, type: 'histogram', value: w.count > 0 ? w.mean : null, p50: w.p50, p99: w.p99, count: w.count };
}

/**
 * Where a PD deployment's TTFT went, as a mean per request over one run: router (client TTFT
 * minus the decode server's own TTFT), prefill queue and compute, KV transfer, decode queue and
 * the first decode step, each from the servers' histograms; what is left is shown as
 * "unexplained" (negative when stages overlap or a figure over-counts), never dropped.
 * Returns undefined unless both a prefill and a decode server were scraped.
 */
export function decomposeTtft(clientTtftMs: number, windows: readonly ServerWindow[]): TtftDecomposition | undefined {
  const prefill = windows.filter((w) => serverRole(w) === 'prefill');
  const decode = windows.filter((w) => serverRole(w) === 'decode');
  if (prefill.length === 0 || decode.length === 0) return undefined;
  const notes: string[] = [];
  const decodeTtft = meanMs(pooled(decode, 'sglang:time_to_first_token_seconds'), 1000);
  const prefillTtft = meanMs(pooled(prefill, 'sglang:time_to_first_token_seconds'), 1000);

  const kv = KV_FAMILIES.map(([name, side]) => kvReading(side === 'prefill' ? prefill : windows, name));
  const latency = kv[0];
  let kvTransferMs: number | null = null;
  let kvSource = 'kv_transfer_latency_ms (prefill side)';
  if (latency.type === 'histogram') kvTransferMs = latency.value;
  else if (latency.type === 'gauge') {
    kvTransferMs = latency.value;
    kvSource = 'kv_transfer_latency_ms is a gauge on this SGLang (before PR #19009): the last request per rank, not a run mean';
    notes.push('KV-transfer metrics are gauges on these servers (SGLang before PR #19009): the transfer segment is the last request per rank, not a mean over the run.');
  }

  const segments: TtftSegment[] = [
    { id: 'router', label: 'router + network + client', ms: decodeTtft === null ? null : clientTtftMs - decodeTtft, source: 'client TTFT − decode server time_to_first_token_seconds mean' },
    { id: 'prefillQueue', label: 'prefill queue', ms: meanMs(pooled(prefill, 'sglang:queue_time_seconds'), 1000), source: 'queue_time_seconds mean (prefill servers)' },
    { id: 'prefillCompute', label: 'prefill compute', ms: meanMs(pooled(prefill, 'sglang:per_stage_req_latency_seconds', { stage: 'prefill_forward' }), 1000), source: 'per_stage_req_latency_seconds{stage="prefill_forward"} mean' },
    { id: 'kvTransfer', label: 'KV transfer', ms: kvTransferMs, source: kvSource },
    { id: 'decodeQueue', label: 'decode queue', ms: meanMs(pooled(decode, 'sglang:queue_time_seconds'), 1000), source: 'queue_time_seconds mean (decode servers)' },
    { id: 'firstDecodeStep', label: 'first decode step', ms: meanMs(pooled(decode, 'sglang:inter_token_latency_seconds'), 1000), source: 'inter_token_latency_seconds mean on the decode servers (one decode step, estimated)' },
  ];
  for (const s of segments) if (s.ms === null) notes.push(`${s.label}: not exported by these servers (${s.source}); its time is in "unexplained".`);
  const explained = segments.reduce((a, s) => a + (s.ms ?? 0), 0);
  const rest = clientTtftMs - explained;
  segments.push({ id: 'unexplained', label: rest < 0 ? 'over-attributed (stages overlap)' : 'unexplained', ms: rest, source: 'client TTFT − Σ segments above' });
  return { clientTtftMs, segments, serverTtftMs: { prefill: prefillTtft, decode: decodeTtft }, kv, notes };
}
