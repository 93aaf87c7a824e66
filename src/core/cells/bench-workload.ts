import type { Block, OutputDoc } from '../output/doc';
import type { BenchmarkOutcome } from '../bench/benchmark';
import type { StepServerViews } from './bench-server-views';

const r3 = (v: number | null | undefined): number | null => (v === null || v === undefined || !Number.isFinite(v) ? null : Math.round(v * 1000) / 1000);
const ms = (v: number | null): number | null => (v === null ? null : Math.round(v * 10) / 10);

/**
 * Trace and multi-turn workloads: the prefix-cache hit rate the workload implies (an unbounded
 * cache) next to the one measured from the responses' cached_tokens and from the servers'
 * counters, and for sessions TTFT and hit rate by turn index.
 */
export function workloadBlocks(steps: readonly { label: string; outcome: BenchmarkOutcome }[], views: readonly StepServerViews[]): Block[] {
  const withWorkload = steps.filter((s) => s.outcome.workload);
  if (withWorkload.length === 0) return [];
  const blocks: Block[] = [];
  blocks.push({
    type: 'table',
    title: 'Workload prefix reuse: expected (unbounded cache) vs measured',
    columns: ['run', 'workload', 'expected hit rate', 'measured (responses)', 'cached / prompt tokens (responses)', 'server counters', 'sessions completed', 'turns / session', 'session duration p50 s'],
    rows: withWorkload.map((s) => {
      const w = s.outcome.workload;
      const server = views.find((v) => v.runId === s.outcome.runId)?.cache.server;
      return [
        s.label,
        w?.summary.label ?? null,
        r3(w?.summary.expected.hitRate),
        r3(w?.measuredHitRate),
        w ? `${w.measuredCachedTokens} / ${w.measuredPromptTokens}` : null,
        server && server.servers > 0 ? r3(server.hitRate) : null,
        w?.sessions ? `${w.sessions.completed}/${w.sessions.sessions}` : null,
        w?.sessions ? Math.round(w.sessions.turnsMean * 10) / 10 : null,
        w?.sessions?.durationP50Sec === null || w?.sessions === undefined ? null : Math.round(w.sessions.durationP50Sec * 100) / 100,
      ];
    }),
  });
  const turned = withWorkload.filter((s) => s.outcome.workload?.byTurn?.length);
  if (turned.length) {
    blocks.push({
      type: 'plot',
      id: 'workload-ttft-by-turn',
      title: 'TTFT by turn index (mean)',
      data: turned.map((s) => {
        const t = s.outcome.workload?.byTurn ?? [];
        return { type: 'scatter', mode: 'lines+markers', name: s.label, x: t.map((x) => x.turn), y: t.map((x) => x.ttftMeanMs), hovertemplate: 'turn %{x}: %{y:.1f} ms<extra></extra>' };
      }),
      layout: { xaxis: { title: { text: 'turn' }, dtick: 1 }, yaxis: { title: { text: 'TTFT ms' }, rangemode: 'tozero' }, legend: { orientation: 'h' } },
    });
    blocks.push({
      type: 'table',
      title: 'By turn index',
      columns: ['run', 'turn', 'requests', 'prompt tokens (mean)', 'TTFT mean ms', 'TTFT p50 ms', 'TTFT p99 ms', 'cache hit rate'],
      rows: turned.flatMap((s) => (s.outcome.workload?.byTurn ?? []).map((t) => [s.label, t.turn, t.requests, t.promptTokensMean === null ? null : Math.round(t.promptTokensMean), ms(t.ttftMeanMs), ms(t.ttftP50Ms), ms(t.ttftP99Ms), r3(t.cacheHitRate)])),
    });
  }
  return blocks;
}

/** the result doc with the workload blocks after its own */
export function withWorkloadBlocks(doc: OutputDoc, steps: readonly { label: string; outcome: BenchmarkOutcome }[], views: readonly StepServerViews[]): OutputDoc {
  const extra = workloadBlocks(steps, views);
  return extra.length ? { ...doc, blocks: [...doc.blocks, ...extra] } : doc;
}
