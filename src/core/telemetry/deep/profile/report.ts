import * as path from 'node:path';
import type { Block, TableBlock } from '../../../output/doc';
import type { ProfileSummary } from '../../schema';

const r1 = (v: number): number => Math.round(v * 10) / 10;
const pct = (part: number, total: number): number => (total > 0 ? Math.round((1000 * part) / total) / 10 : 0);

/** Per rank: GPU kernel time and its split (GEMM / attention / all-to-all / other). */
export function profileSplitTable(summaries: readonly ProfileSummary[]): TableBlock {
  return {
    type: 'table',
    title: 'Profiled step: GPU kernel time per rank',
    columns: ['server', 'node', 'rank', 'kernel time', 'GEMM', 'attention', 'all-to-all', 'other'],
    units: [null, null, null, 'ms', '%', '%', '%', '%'],
    rows: summaries.map((s) => [s.endpoint, s.node, s.rank, r1(s.gpuKernelMs), pct(s.splitMs.gemm, s.gpuKernelMs), pct(s.splitMs.attention, s.gpuKernelMs), pct(s.splitMs.allToAll, s.gpuKernelMs), pct(s.splitMs.other, s.gpuKernelMs)]),
  };
}

/** The heaviest kernels over all ranks (summed), with how many ranks ran them. */
export function topKernelsTable(summaries: readonly ProfileSummary[], top = 15): TableBlock {
  const agg = new Map<string, { category: string; totalMs: number; count: number; ranks: number }>();
  let total = 0;
  for (const s of summaries) {
    total += s.gpuKernelMs;
    for (const k of s.topKernels) {
      const a = agg.get(k.name) ?? { category: k.category, totalMs: 0, count: 0, ranks: 0 };
      a.totalMs += k.totalMs;
      a.count += k.count;
      a.ranks++;
      agg.set(k.name, a);
    }
  }
  const rows = [...agg].sort((a, b) => b[1].totalMs - a[1].totalMs).slice(0, top);
  return {
    type: 'table',
    title: 'Top kernels (all profiled ranks)',
    columns: ['kernel', 'category', 'total', 'share', 'calls', 'ranks'],
    units: [null, null, 'ms', '%', null, null],
    rows: rows.map(([name, a]) => [name.length > 90 ? `${name.slice(0, 87)}...` : name, a.category, r1(a.totalMs), pct(a.totalMs, total), a.count, a.ranks]),
  };
}

/** Tables plus where the traces are and how to open them. */
export function profileDocBlocks(summaries: readonly ProfileSummary[], runDir: string): Block[] {
  if (summaries.length === 0) return [{ type: 'text', text: 'No profiler traces were collected (see the notices).' }];
  const files = summaries.map((s) => path.join(runDir, s.traceFile));
  return [
    profileSplitTable(summaries),
    topKernelsTable(summaries),
    {
      type: 'text',
      format: 'pre',
      text: `Traces (Chrome trace format; open in https://ui.perfetto.dev by dragging the file in, or chrome://tracing):\n${files.join('\n')}`,
    },
  ];
}
