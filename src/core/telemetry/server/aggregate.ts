import { labelsOf, type PromSample } from './prometheus';

/**
 * Labels that split one logical metric into per-process series: SGLang's scheduler ranks
 * (collector.py: tp_rank, pp_rank, moe_ep_rank, dp_rank), prometheus multiprocess `pid`, and
 * vLLM's `engine` (one per DP engine core).
 */
export const RANK_LABELS: readonly string[] = ['tp_rank', 'dp_rank', 'pp_rank', 'moe_ep_rank', 'ep_rank', 'attn_tp_rank', 'engine', 'pid'];

/**
 * Aggregate samples of one metric grouped by the labels in `by` (all other labels are summed
 * away, like PromQL `sum by (...)`). Use `by: ['dp_rank']` for a per-rank view, `[]` for a total.
 */
export function aggregateBy(samples: readonly PromSample[], by: readonly string[], agg: 'sum' | 'max' | 'min' | 'mean' = 'sum'): Map<string, number> {
  const groups = new Map<string, { sum: number; max: number; min: number; n: number }>();
  for (const s of samples) {
    if (!Number.isFinite(s.value)) continue;
    const labels = by.length > 0 ? labelsOf(s) : {};
    const key = by.map((k) => `${k}=${labels[k] ?? ''}`).join(',');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { sum: 0, max: -Infinity, min: Infinity, n: 0 }));
    g.sum += s.value;
    g.max = Math.max(g.max, s.value);
    g.min = Math.min(g.min, s.value);
    g.n++;
  }
  const out = new Map<string, number>();
  for (const [k, g] of groups) out.set(k, agg === 'sum' ? g.sum : agg === 'max' ? g.max : agg === 'min' ? g.min : g.sum / g.n);
  return out;
}

/** Label values of the rank labels a metric carries (to tell the user "4 DP ranks report"). */
export function rankLabelValues(samples: readonly PromSample[]): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const s of samples) {
    const labels = labelsOf(s);
    for (const k of RANK_LABELS) {
      const v = labels[k];
      if (v === undefined) continue;
      (out[k] ??= new Set()).add(v);
    }
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, [...v].sort()]));
}
