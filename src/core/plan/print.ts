import { envCommand } from '../launch/shell/shell-quote';
import type { Plan, PlannedProcess } from './planner';

/**
 * The dry-run preview: per node, copy-pasteable shell lines (quoted by the one quoting function),
 * in launch order, followed by the health checks and the endpoint.
 */
export function processShellLine(p: PlannedProcess): string {
  return envCommand(p.env, p.argv);
}

export function planCommands(plan: Plan): string {
  const lines: string[] = [];
  lines.push(`# deployment ${plan.name}: ${plan.engine.kind} ${plan.engine.version} on cluster ${plan.cluster} (${plan.clusterKind})`);
  const gpus = plan.processes.reduce((n, p) => n + p.gpuIds.length, 0);
  const nodes = [...new Set(plan.processes.map((p) => p.node))];
  lines.push(`# ${plan.instances.length} server instance${plan.instances.length === 1 ? '' : 's'}, ${gpus} GPUs on ${nodes.length} node${nodes.length === 1 ? '' : 's'}${plan.pd ? ', PD disaggregation' : ''}`);
  for (const node of nodes) {
    lines.push('');
    lines.push(`## node ${node}`);
    for (const p of plan.processes.filter((x) => x.node === node)) {
      const gpuText = p.gpuIds.length ? `, GPUs ${p.gpuIds[0]}-${p.gpuIds[p.gpuIds.length - 1]}` : '';
      const when = p.role === 'router' ? ' (started once every server answers /health)' : '';
      lines.push(`# ${p.id}${p.nnodes > 1 ? ` (node rank ${p.nodeRank} of ${p.nnodes})` : ''}${gpuText}${when}`);
      lines.push(processShellLine(p));
    }
  }
  lines.push('');
  lines.push('## then');
  for (const a of plan.actions) {
    if (a.kind === 'start') continue;
    lines.push(`# ${a.description}${a.kind === 'wait-healthy' || a.kind === 'check-generate' ? `: ${a.url}` : ''}`);
  }
  for (const e of plan.effective ?? []) lines.push(`# ${e.role} ${e.field} ${e.written}: ${e.note}`);
  for (const w of plan.warnings) lines.push(`# warning (${w.path.join('.') || 'spec'}): ${w.message}`);
  return `${lines.join('\n')}\n`;
}
