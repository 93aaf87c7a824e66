import type { ResolvedDeployment } from './resolve';
import { engineOf } from '../engines';

/**
 * The same YAML field means different things per engine: SGLang's --max-running-requests and
 * --chunked-prefill-size are global and divided by dp under DP attention (server_args.py@b26729f2245c
 * L6702 `chunked_prefill_size // dp_size`; pool_configurator.py L572 `max_running_requests //
 * attn_dp_size`), while vLLM's --max-num-seqs and --max-num-batched-tokens apply to each engine
 * (each DP rank) on its own. The plan states what each rank really gets.
 */
export interface EffectiveLimit {
  role: string;
  field: 'maxRunningRequests' | 'chunkedPrefill';
  written: number;
  perRank: number;
  /** across all DP ranks of one instance */
  total: number;
  dpRanks: number;
  note: string;
}

export function effectiveLimits(d: ResolvedDeployment): EffectiveLimit[] {
  const out: EffectiveLimit[] = [];
  for (const g of d.groups) {
    for (const field of ['maxRunningRequests', 'chunkedPrefill'] as const) {
      const written = g.memory[field];
      if (written === undefined || written <= 0) continue;
      out.push({ role: g.role, field, written, ...engineOf(d.engine).perRankLimit(g, written) });
    }
  }
  return out;
}
