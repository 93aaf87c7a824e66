import { gunzipSync } from 'node:zlib';
import type { ProfileSummary } from '../../schema';

export type KernelCategory = 'gemm' | 'attention' | 'allToAll' | 'other';

/**
 * Kernel name -> category. Order matters: communication first (DeepEP's dispatch/combine
 * kernels mention neither gemm nor attention; NCCL's are named ncclDevKernel_*), then attention
 * (FlashInfer/FlashMLA/FA3, MLA decode), then GEMM (cuBLAS/CUTLASS/DeepGEMM, fused MoE expert
 * GEMMs). Everything else (norms, rotary, activations, sampling, copies) is "other".
 */
const RULES: [KernelCategory, RegExp][] = [
  ['allToAll', /deep_?ep|dispatch|combine|nccl|all_?to_?all|alltoall|all_?gather|reduce_?scatter|all_?reduce|custom_?ar|cross_device|nvshmem|mooncake|two_shot|one_shot/i],
  ['attention', /flash|fmha|attn|attention|\bmla\b|mla_|flashinfer|paged|merge_state|BatchDecode|BatchPrefill/i],
  ['gemm', /gemm|gemv|cutlass|cublas|xmma|wgmma|hmma|matmul|deep_gemm|grouped_mm|fused_moe|moe_gemm|sm90_|sm100_|nvjet/i],
];

export function kernelCategory(name: string): KernelCategory {
  for (const [cat, re] of RULES) if (re.test(name)) return cat;
  return 'other';
}

export class TraceParseError extends Error {}

/** Chrome trace JSON (`{traceEvents: [...]}` or a bare array), gzipped or not. */
export function readTraceEvents(data: Buffer): Record<string, unknown>[] {
  const raw = data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b ? gunzipSync(data) : data;
  let doc: unknown;
  try {
    doc = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new TraceParseError(`not a Chrome trace (JSON): ${err instanceof Error ? err.message : String(err)}`);
  }
  const events = Array.isArray(doc) ? doc : doc && typeof doc === 'object' ? (doc as { traceEvents?: unknown }).traceEvents : undefined;
  if (!Array.isArray(events)) throw new TraceParseError('not a Chrome trace: no traceEvents array');
  return events.filter((e): e is Record<string, unknown> => !!e && typeof e === 'object');
}

export interface KernelStats {
  gpuKernelMs: number;
  splitMs: ProfileSummary['splitMs'];
  topKernels: ProfileSummary['topKernels'];
  kernelEvents: number;
}

/**
 * GPU kernel time of one rank's trace: complete events (`ph: "X"`) of category `kernel` (torch
 * profiler / Kineto; older builds `Kernel`), `dur` in microseconds, summed by name.
 */
export function kernelStats(events: readonly Record<string, unknown>[], top = 15): KernelStats {
  const byName = new Map<string, { totalUs: number; count: number }>();
  let kernelEvents = 0;
  for (const e of events) {
    if (e.ph !== 'X' || typeof e.cat !== 'string' || e.cat.toLowerCase() !== 'kernel') continue;
    const dur = typeof e.dur === 'number' ? e.dur : Number(e.dur);
    if (!Number.isFinite(dur) || dur < 0) continue;
    const name = typeof e.name === 'string' ? e.name : String(e.name);
    kernelEvents++;
    const s = byName.get(name) ?? { totalUs: 0, count: 0 };
    s.totalUs += dur;
    s.count++;
    byName.set(name, s);
  }
  const splitMs = { gemm: 0, attention: 0, allToAll: 0, other: 0 };
  let total = 0;
  const rows = [...byName].map(([name, s]) => {
    const category = kernelCategory(name);
    splitMs[category] += s.totalUs / 1000;
    total += s.totalUs / 1000;
    return { name, category, totalMs: s.totalUs / 1000, count: s.count };
  });
  rows.sort((a, b) => b.totalMs - a.totalMs);
  return { gpuKernelMs: total, splitMs, topKernels: rows.slice(0, top), kernelEvents };
}

/** "…-TP-3-DP-3-EP-3.trace.json.gz" -> "TP-3-DP-3-EP-3"; the file name without extension otherwise */
export function rankFromTraceName(file: string): string {
  const base = file.split('/').pop() ?? file;
  const tags = [...base.matchAll(/(TP|DP|EP|PP)-(\d+)/g)].map((m) => `${m[1]}-${m[2]}`);
  return tags.length > 0 ? tags.join('-') : base.replace(/(\.pt)?\.trace\.json(\.gz)?$/, '');
}
