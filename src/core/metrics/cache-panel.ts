import type { RequestRecord } from './record';
import { counterIncrease } from '../telemetry/server/family-window';
import { pooled, serverRole, type ServerWindow } from './ttft-decomposition';
import { percentile } from './stats';

/**
 * Prefix-cache and speculative-decoding figures for one run.
 * Hit rate is Δcached_tokens_total / Δprompt_tokens_total over the run: counters, because
 * `cache_hit_rate` is a gauge of the scheduler's latest batch, and averaging it over time weights
 * idle periods like busy ones. In PD only prefill servers are counted: the
 * decode server's tokenizer counts the same prompts again.
 */
export interface CachePanel {
  server: {
    /** 0..1, null when the servers export no prompt tokens */
    hitRate: number | null;
    promptTokens: number;
    cachedTokens: number;
    /** by `cache_source` (device / host / storage_*) where the server labels it */
    bySource: Record<string, number>;
    /** realtime_tokens_total{mode=prefill_cache} / (prefill_cache + prefill_compute), a second opinion */
    schedulerHitRate: number | null;
    servers: number;
  };
  client: {
    /** requests whose response carried cached_tokens */
    reporting: number;
    requests: number;
    meanCachedTokens: number | null;
    p50CachedTokens: number | null;
    p99CachedTokens: number | null;
    /** Σ cached / Σ prompt over the reporting requests */
    hitRate: number | null;
  };
  spec: {
    /** spec_accept_length / spec_accept_rate at the run's end (gauges: the scheduler's recent window) */
    acceptLength: number | null;
    acceptRate: number | null;
    /**
     * from each finished response's meta_info (spec_verify_ct, spec_accept_length, spec_accept_rate:
     * tokenizer_manager.py @001067ff _calculate_spec_decoding_metrics), null when none carried them
     */
    perRequest: {
      requests: number;
      /** Σ completion tokens / Σ verify passes over the reporting requests (the run's tokens per pass) */
      acceptLength: number;
      meanAcceptLength: number;
      p50AcceptLength: number;
      p10AcceptLength: number;
      /** mean of the per-request accept rates */
      meanAcceptRate: number | null;
    } | null;
  };
}

export function cachePanel(records: readonly RequestRecord[], windows: readonly ServerWindow[]): CachePanel {
  const prefillSide = windows.filter((w) => ['prefill', 'unified'].includes(serverRole(w)));
  const counted = prefillSide.length > 0 ? prefillSide : windows;
  let prompt = 0;
  let cached = 0;
  const bySource: Record<string, number> = {};
  let rtCache = 0;
  let rtCompute = 0;
  for (const w of counted) {
    prompt += counterIncrease(w.before, w.after, 'sglang:prompt_tokens');
    const sources = new Set<string>();
    for (const s of w.after.byName.get('sglang:cached_tokens_total') ?? []) {
      const m = /cache_source="([^"]*)"/.exec(s.labelsRaw);
      sources.add(m ? m[1] : '');
    }
    for (const src of sources) {
      const inc = counterIncrease(w.before, w.after, 'sglang:cached_tokens', src ? { cache_source: src } : undefined);
      cached += inc;
      if (src) bySource[src] = (bySource[src] ?? 0) + inc;
    }
    rtCache += counterIncrease(w.before, w.after, 'sglang:realtime_tokens', { mode: 'prefill_cache' });
    rtCompute += counterIncrease(w.before, w.after, 'sglang:realtime_tokens', { mode: 'prefill_compute' });
  }
  const ok = records.filter((r) => r.ok);
  const reporting = ok.filter((r) => r.cachedTokens !== null);
  const cachedPerReq = reporting.map((r) => r.cachedTokens ?? 0);
  const promptOfReporting = reporting.reduce((a, r) => a + (r.promptTokens ?? r.promptLen), 0);
  const specLen = pooled(windows, 'sglang:spec_accept_length');
  const specRate = pooled(windows, 'sglang:spec_accept_rate');
  const gauge = (w: ReturnType<typeof pooled>) => (w && w.type === 'gauge' && w.value > 0 ? w.value : null);
  return {
    server: { hitRate: prompt > 0 ? cached / prompt : null, promptTokens: prompt, cachedTokens: cached, bySource, schedulerHitRate: rtCache + rtCompute > 0 ? rtCache / (rtCache + rtCompute) : null, servers: counted.length },
    client: {
      reporting: reporting.length,
      requests: ok.length,
      meanCachedTokens: cachedPerReq.length ? cachedPerReq.reduce((a, b) => a + b, 0) / cachedPerReq.length : null,
      p50CachedTokens: cachedPerReq.length ? percentile(cachedPerReq, 50) : null,
      p99CachedTokens: cachedPerReq.length ? percentile(cachedPerReq, 99) : null,
      hitRate: promptOfReporting > 0 ? cachedPerReq.reduce((a, b) => a + b, 0) / promptOfReporting : null,
    },
    spec: { acceptLength: gauge(specLen), acceptRate: gauge(specRate), perRequest: specPerRequest(ok) },
  };
}

function specPerRequest(ok: readonly RequestRecord[]): CachePanel['spec']['perRequest'] {
  const lengths: number[] = [];
  const rates: number[] = [];
  let tokens = 0;
  let passes = 0;
  for (const r of ok) {
    const s = r.spec;
    if (!s || s.verifyCt <= 0) continue;
    const len = s.acceptLength ?? (r.outputTokens !== null ? r.outputTokens / s.verifyCt : null);
    if (len === null) continue;
    lengths.push(len);
    if (s.acceptRate !== null) rates.push(s.acceptRate);
    tokens += len * s.verifyCt;
    passes += s.verifyCt;
  }
  if (lengths.length === 0) return null;
  return {
    requests: lengths.length,
    acceptLength: tokens / passes,
    meanAcceptLength: lengths.reduce((a, b) => a + b, 0) / lengths.length,
    p50AcceptLength: percentile(lengths, 50),
    p10AcceptLength: percentile(lengths, 10),
    meanAcceptRate: rates.length ? rates.reduce((a, b) => a + b, 0) / rates.length : null,
  };
}
