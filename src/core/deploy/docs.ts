import type { Badge, OutputDoc } from '../output/doc';
import { planCommands, type Plan } from '../plan';
import { describeGpuCheck, type GpuCheck } from './gpu-check';
import type { DeploymentView, ProcessView } from './types';

/** Output docs of a deploy cell: the dry-run preview, live progress, the status table, a failure. */

export function previewDoc(plan: Plan, simulated: boolean): OutputDoc {
  const nodes = new Set(plan.processes.map((p) => p.node));
  return {
    title: `Deployment ${plan.name}: planned commands (${plan.processes.length} process${plan.processes.length === 1 ? '' : 'es'} on ${nodes.size} node${nodes.size === 1 ? '' : 's'})`,
    simulated: simulated || undefined,
    blocks: [{ type: 'text', format: 'pre', text: planCommands(plan) }],
  };
}

export function progressDoc(view: DeploymentView, step: string): OutputDoc {
  const servers = view.processes.filter((p) => p.role !== 'router');
  const healthy = view.processes.filter((p) => p.phase === 'healthy').length;
  return {
    title: `Deployment ${view.name}: starting`,
    simulated: view.simulated || undefined,
    blocks: [
      { type: 'progress', label: step, fraction: view.processes.length ? healthy / view.processes.length : null, detail: `${healthy} of ${view.processes.length} processes healthy (${servers.length} server ranks${view.processes.length > servers.length ? ' + router' : ''})` },
      processTable(view.processes),
    ],
  };
}

function phaseText(p: ProcessView): string {
  switch (p.phase) {
    case 'exited':
      return `exited (${p.exitCode ?? '?'})`;
    case 'gone':
      return p.reason ? `gone (${p.reason})` : 'gone';
    default:
      return p.phase;
  }
}

function processTable(processes: readonly ProcessView[]): OutputDoc['blocks'][number] {
  return {
    type: 'table',
    title: 'Processes',
    columns: ['process', 'role', 'node', 'node rank', 'GPUs', 'port', 'pgid', 'state'],
    rows: processes.map((p) => [p.id, p.role, p.node, p.nnodes > 1 ? `${p.nodeRank} of ${p.nnodes}` : '0', p.gpuIds.length ? `${p.gpuIds[0]}-${p.gpuIds[p.gpuIds.length - 1]}` : '', String(p.port), p.pgid === undefined ? null : String(p.pgid), phaseText(p)]),
  };
}

export function statusDoc(view: DeploymentView, extra: { endpoint?: string; readyInSec?: number; generated?: string; note?: string } = {}): OutputDoc {
  const badges: Badge[] = [];
  if (view.phase === 'ready') badges.push({ level: 'ok', text: 'ready', detail: `every server answered /health and a one-token generate went through ${view.endpointVia}` });
  else if (view.phase === 'failed') badges.push({ level: 'error', text: 'failed' });
  else if (view.phase === 'stopped') badges.push({ level: 'info', text: 'stopped' });
  else badges.push({ level: 'warn', text: view.phase });
  if (view.origin === 'reattached') badges.push({ level: 'info', text: 're-attached', detail: 'started earlier (another window or session); found running and adopted' });
  const roles = ['prefill', 'decode', 'unified', 'router'] as const;
  const roleSummary = roles
    .map((r) => ({ r, n: view.processes.filter((p) => p.role === r).length, inst: new Set(view.processes.filter((p) => p.role === r).map((p) => p.instanceId)).size }))
    .filter((x) => x.n > 0)
    .map((x) => (x.r === 'router' ? 'router' : `${x.inst} ${x.r} instance${x.inst === 1 ? '' : 's'} (${x.n} rank${x.n === 1 ? '' : 's'})`))
    .join(', ');
  const items: [string, string | number | null][] = [
    ['endpoint', extra.endpoint ?? view.endpointUrl],
    ['engine', `${view.engine.kind} ${view.engine.version}`],
    ['cluster', `${view.clusterName} (${view.clusterKind})`],
    ['topology', roleSummary],
  ];
  if (extra.readyInSec !== undefined) items.push(['time to ready', `${extra.readyInSec.toFixed(1)} s`]);
  if (extra.generated !== undefined) items.push(['one-token check', JSON.stringify(extra.generated)]);
  if (extra.note) items.push(['note', extra.note]);
  return {
    title: `Deployment ${view.name}: ${view.phase}`,
    simulated: view.simulated || undefined,
    blocks: [{ type: 'badges', items: badges }, { type: 'kv', items }, processTable(view.processes)],
  };
}

export function failureDoc(view: DeploymentView, failure: { title: string; processId?: string; node?: string; logTail?: string; stopSummary?: string }): OutputDoc {
  const blocks: OutputDoc['blocks'] = [{ type: 'badges', items: [{ level: 'error', text: 'failed', detail: failure.title }] }];
  if (failure.logTail !== undefined) {
    blocks.push({ type: 'text', text: `**Log tail of ${failure.processId ?? 'the process'}${failure.node ? ` on ${failure.node}` : ''}:**` });
    blocks.push({ type: 'text', format: 'pre', text: failure.logTail || '(the log is empty)' });
  }
  if (failure.stopSummary) blocks.push({ type: 'text', text: failure.stopSummary });
  blocks.push(processTable(view.processes));
  return { title: `Deployment ${view.name} failed: ${failure.title}`, simulated: view.simulated || undefined, blocks };
}

export function stopDoc(view: DeploymentView, report: { processes: { id: string; node: string; outcome: string }[]; gpuChecks: GpuCheck[] }): OutputDoc {
  const leftover = report.gpuChecks.filter((c) => c.result === 'leftover');
  const badges: Badge[] = [leftover.length ? { level: 'error', text: 'GPU processes left', detail: leftover.map(describeGpuCheck).join('; ') } : { level: 'ok', text: 'stopped' }];
  return {
    title: `Deployment ${view.name}: stopped`,
    simulated: view.simulated || undefined,
    blocks: [
      { type: 'badges', items: badges },
      { type: 'table', title: 'Processes', columns: ['process', 'node', 'stop'], rows: report.processes.map((p) => [p.id, p.node, p.outcome]) },
      { type: 'table', title: 'GPU check (nvidia-smi --query-compute-apps)', columns: ['node', 'result'], rows: report.gpuChecks.map((c) => [c.node, describeGpuCheck(c)]) },
    ],
  };
}
