import type { ProcessRole } from '../plan/planner';
import type { DeploymentPhase, DeploymentView, ProcessPhase, ProcessView } from './types';

/**
 * What the Deployments tree shows, as plain data (deployment -> role -> rank processes), so the
 * labels, states and menu context values are unit-tested without VS Code. The VS Code adapter
 * (src/extension/views/deployments-tree.ts) only maps these rows to TreeItems.
 */

/** icon names are VS Code codicons; colours are theme colour ids */
export interface TreeRow {
  label: string;
  description: string;
  tooltip: string;
  icon: string;
  iconColor?: string;
  /** `viewItem` in package.json menus */
  contextValue: string;
}

/** deployment context values: `deployment-live` (stop, restart), `deployment-busy` (stop), `deployment-stopped` (restart) */
export function deploymentContext(phase: DeploymentPhase): string {
  if (phase === 'stopped' || phase === 'failed' || phase === 'planned') return 'deployment-stopped';
  if (phase === 'starting' || phase === 'stopping') return 'deployment-busy';
  return 'deployment-live';
}

export const ROLE_CONTEXT = 'deployment-role';
export const PROCESS_CONTEXT = 'deployment-process';

/** the state word users see: starting / healthy / exited (code) / stopped ... */
export function processStateText(p: Pick<ProcessView, 'phase' | 'exitCode' | 'reason'>): string {
  switch (p.phase) {
    case 'exited':
      return `exited (${p.exitCode ?? '?'})`;
    case 'gone':
      // the launcher's reason when it knows one (a Slurm job's end state), else the usual causes
      return `gone (${p.reason ?? 'killed or node rebooted'})`;
    case 'pending':
      return 'not started';
    default:
      return p.phase;
  }
}

function processIcon(phase: ProcessPhase): { icon: string; iconColor?: string } {
  switch (phase) {
    case 'healthy':
      return { icon: 'pass-filled', iconColor: 'testing.iconPassed' };
    case 'running':
      return { icon: 'circle-filled', iconColor: 'testing.iconPassed' };
    case 'starting':
    case 'stopping':
      return { icon: 'loading~spin' };
    case 'exited':
    case 'gone':
      return { icon: 'error', iconColor: 'testing.iconFailed' };
    case 'stopped':
      return { icon: 'circle-slash' };
    case 'pending':
      return { icon: 'circle-outline' };
  }
}

function deploymentIcon(phase: DeploymentPhase): { icon: string; iconColor?: string } {
  switch (phase) {
    case 'ready':
      return { icon: 'server-process', iconColor: 'testing.iconPassed' };
    case 'starting':
    case 'stopping':
      return { icon: 'loading~spin' };
    case 'degraded':
      return { icon: 'warning', iconColor: 'list.warningForeground' };
    case 'failed':
      return { icon: 'error', iconColor: 'testing.iconFailed' };
    case 'stopped':
    case 'planned':
      return { icon: 'circle-slash' };
  }
}

export function deploymentRow(v: DeploymentView): TreeRow {
  const alive = v.processes.filter((p) => p.phase === 'healthy' || p.phase === 'running' || p.phase === 'starting').length;
  const parts = [v.phase, `${alive}/${v.processes.length} processes`, `${v.engine.kind} ${v.engine.version}`, v.clusterName];
  if (v.simulated) parts.push('simulated');
  if (v.origin === 'reattached') parts.push('re-attached');
  return {
    label: v.name,
    description: parts.join(' · '),
    tooltip: [`${v.name}: ${v.phase}`, `endpoint ${v.endpointUrl} (${v.endpointVia})`, `cluster ${v.clusterName} (${v.clusterKind})`, v.origin === 'reattached' ? 'started in an earlier session and re-attached' : ''].filter(Boolean).join('\n'),
    ...deploymentIcon(v.phase),
    contextValue: deploymentContext(v.phase),
  };
}

/** roles in launch order, each with its processes */
export function rolesOf(v: DeploymentView): { role: ProcessRole; processes: ProcessView[] }[] {
  const order: ProcessRole[] = ['unified', 'prefill', 'decode', 'router'];
  return order.map((role) => ({ role, processes: v.processes.filter((p) => p.role === role) })).filter((r) => r.processes.length > 0);
}

export function roleRow(role: ProcessRole, processes: readonly ProcessView[]): TreeRow {
  const instances = new Set(processes.map((p) => p.instanceId)).size;
  const healthy = processes.filter((p) => p.phase === 'healthy' || p.phase === 'running').length;
  const dead = processes.filter((p) => p.phase === 'exited' || p.phase === 'gone').length;
  const what = role === 'router' ? 'router' : `${instances} instance${instances === 1 ? '' : 's'}, ${processes.length} rank${processes.length === 1 ? '' : 's'}`;
  const icon = dead ? { icon: 'error', iconColor: 'testing.iconFailed' } : healthy === processes.length ? { icon: 'pass', iconColor: 'testing.iconPassed' } : { icon: 'symbol-namespace' };
  return {
    label: role,
    description: `${what} · ${healthy}/${processes.length} up${dead ? ` · ${dead} down` : ''}`,
    tooltip: processes.map((p) => `${p.id} on ${p.node}: ${processStateText(p)}`).join('\n'),
    ...icon,
    contextValue: ROLE_CONTEXT,
  };
}

export function processRow(p: ProcessView): TreeRow {
  const gpus = p.gpuIds.length ? `GPUs ${p.gpuIds[0]}-${p.gpuIds[p.gpuIds.length - 1]}` : 'no GPU';
  return {
    label: p.id,
    description: [p.node, processStateText(p), p.pgid !== undefined ? `pgid ${p.pgid}` : ''].filter(Boolean).join(' · '),
    tooltip: `${p.id} on ${p.node}${p.nnodes > 1 ? ` (node rank ${p.nodeRank} of ${p.nnodes})` : ''}\n${gpus}, port ${p.port}\nstate: ${processStateText(p)}`,
    ...processIcon(p.phase),
    contextValue: PROCESS_CONTEXT,
  };
}
