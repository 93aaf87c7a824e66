import type { Block, OutputDoc } from '../output/doc';
import type { DoctorLevel, DoctorReport } from './doctor';

const MARK: Record<DoctorLevel, string> = { ok: 'OK', info: 'info', warn: 'WARN', error: 'ERROR' };

/** The mismatches between nodes on top, then one table per node (problems first within it). */
export function doctorDoc(clusterName: string, report: DoctorReport, simulated = false): OutputDoc {
  const blocks: Block[] = [];
  const errors = report.nodes.flatMap((n) => n.rows.filter((r) => r.level === 'error').map((r) => ({ node: n.node, r })));
  const badges = [
    report.mismatches.length
      ? { level: 'warn' as const, text: `${report.mismatches.length} difference${report.mismatches.length === 1 ? '' : 's'} between nodes`, detail: report.mismatches.map((m) => `${m.node}: ${m.label} ${m.value} (others: ${m.majority})`).join('\n') }
      : { level: 'ok' as const, text: `${report.nodes.length} nodes agree` },
    ...errors.map((e) => ({ level: 'error' as const, text: `${e.node}: ${e.r.label} ${e.r.value}`, detail: e.r.note })),
  ];
  blocks.push({ type: 'badges', items: badges });
  if (report.mismatches.length) {
    blocks.push({ type: 'table', title: 'Differences between nodes', columns: ['node', 'check', 'this node', 'most nodes'], rows: report.mismatches.map((m) => [m.node, m.label, m.value, m.majority]) });
  }
  const rank: Record<DoctorLevel, number> = { error: 0, warn: 1, info: 2, ok: 3 };
  for (const n of report.nodes) {
    const odd = new Set(report.mismatches.filter((m) => m.node === n.node).map((m) => m.key));
    const rows = [...n.rows].sort((a, b) => (odd.has(b.key) ? 1 : 0) - (odd.has(a.key) ? 1 : 0) || rank[a.level] - rank[b.level]);
    blocks.push({
      type: 'table',
      title: `Node ${n.node}`,
      columns: ['check', 'value', 'status', 'note'],
      rows: rows.map((r) => [r.label, r.value, odd.has(r.key) ? `${MARK[r.level]} · differs` : MARK[r.level], r.note ?? '']),
    });
  }
  return { title: `Preflight doctor: ${clusterName} (${report.nodes.length} nodes)`, simulated: simulated || undefined, blocks };
}

/** Plain text for the CLI: the same tables, mismatches first. */
export function doctorText(clusterName: string, report: DoctorReport): string {
  const lines: string[] = [`Preflight doctor: ${clusterName} (${report.nodes.length} nodes) — ${MARK[report.level]}`];
  if (report.mismatches.length) {
    lines.push('', 'Differences between nodes:');
    for (const m of report.mismatches) lines.push(`  ${m.node}: ${m.label} = ${m.value} (most nodes: ${m.majority})`);
  }
  for (const n of report.nodes) {
    lines.push('', `Node ${n.node}:`);
    const w = Math.max(...n.rows.map((r) => r.label.length));
    for (const r of n.rows) lines.push(`  ${r.label.padEnd(w)}  ${MARK[r.level].padEnd(5)}  ${r.value}${r.note ? `  — ${r.note}` : ''}`);
  }
  return lines.join('\n') + '\n';
}
