import { isBeyondCatalog, lookupFlag } from '../catalog';
import type { ResolvedDeployment, ResolvedGroup, Report } from '../types';

/** vLLM's launcher rules as MoE Bench plans it (unified servers, DP across nodes), per group. */

const VLLM_A2A = new Set(['none', 'deepep', 'pplx', 'allgather_reducescatter', 'naive', 'flashinfer_all2allv']);

export function checkVllmGroup(d: ResolvedDeployment, g: ResolvedGroup, error: Report, warn: Report): void {
  const o = g.origin;
  const a2a = g.moe.a2a ?? 'none';
  if (g.role !== 'unified') {
    error('engine', [g.role], 'MoE Bench plans vLLM as unified servers only; PD disaggregation is planned for SGLang', 'Use a unified group for vLLM.');
    return;
  }
  // --all2all-backend choices read from vLLM main (vllm/config/parallel.py All2AllBackend); "deepep"
  // is spelled by mode (deepep_high_throughput / deepep_low_latency) when the command is built
  const mainChoices = lookupFlag('vllm', 'latest', '--all2all-backend').info?.choices ?? [];
  const vllmTakes = new Set(['none', 'deepep', ...mainChoices]);
  if (!vllmTakes.has(a2a)) error('a2a', o('moe', 'a2a'), `"${a2a}" is not a vLLM all-to-all backend; vLLM takes ${[...vllmTakes].join(', ')}`);
  else if (!VLLM_A2A.has(a2a) && !isBeyondCatalog('vllm', d.version)) warn('a2a', o('moe', 'a2a'), `--all2all-backend ${a2a} is read from vLLM main; ${d.version.text} may not accept it`);
  if (a2a === 'deepep' && (g.deepepMode ?? 'auto') === 'auto') warn('deepep-mode', o('moe', 'a2a'), 'vLLM picks DeepEP by mode: set moe.mode normal (deepep_high_throughput) or low_latency; low_latency is used now');
  const p = g.spec.parallel ?? {};
  // vLLM's EP size is always tp × dp (--enable-expert-parallel)
  if (p.ep !== undefined && p.ep !== 1 && p.ep !== g.tp * g.dp) error('ep-deepep', o('parallel', 'ep'), `vLLM's expert-parallel size is tp × dp = ${g.tp * g.dp}; ep ${p.ep} cannot be set`, `Remove ep or set it to ${g.tp * g.dp}.`);
  if (g.eplbEnabled && g.ep <= 1) error('eplb-ep', o('moe', 'eplb'), 'EPLB needs expert parallelism (ep > 1)', 'Set moe.a2a or parallel.ep.');
  for (const key of ['dpAttention', 'moeDenseTp', 'dpLmHead'] as const) {
    if (p[key] !== undefined) warn('engine', [g.role, 'parallel', key], `${key} is an SGLang setting; vLLM ignores it (its DP is attention DP already)`);
  }
  for (const key of ['initExpertLocation', 'dispatchAlgorithm', 'runnerBackend', 'deepepConfig', 'maxDispatchTokensPerRank'] as const) {
    if (g.moe[key] !== undefined) warn('engine', o('moe', key), `moe.${key} is an SGLang setting; the vLLM command ignores it`);
  }
}

/** vLLM applies maxRunningRequests / chunkedPrefill per engine where SGLang divides them by dp (plan/effective.ts). */
export function checkVllmSemantics(g: ResolvedGroup, warn: Report): void {
  if (g.dp <= 1) return;
  for (const field of ['maxRunningRequests', 'chunkedPrefill'] as const) {
    const written = g.memory[field];
    if (written === undefined || written <= 0) continue;
    const flag = field === 'maxRunningRequests' ? '--max-num-seqs' : '--max-num-batched-tokens';
    warn('semantics', g.origin('memory', field), `${field} ${written} means ${written} per DP rank in vLLM (${flag}, ${written * g.dp} across dp ${g.dp}); the same YAML under SGLang is one global value (${Math.floor(written / g.dp)} per rank with DP attention)`, `When comparing against SGLang, write ${written * g.dp} there for the same per-rank load, or ${Math.max(1, Math.floor(written / g.dp))} here.`);
  }
}
