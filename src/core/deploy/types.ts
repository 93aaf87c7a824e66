import type { EngineKind } from '../engines/catalog';
import type { ProcessRole } from '../plan/planner';

/**
 * Life of one process: `pending` (planned, not started), `starting` (running, not yet answering
 * /health, or a non-zero rank that never does), `healthy`, `running` (alive, after a re-attach
 * before /health was asked), `exited` (its command ended; exit code known), `gone` (no process
 * and no exit code: killed with SIGKILL, or the node rebooted), `stopped` (we stopped it).
 */
export type ProcessPhase = 'pending' | 'starting' | 'healthy' | 'running' | 'exited' | 'gone' | 'stopping' | 'stopped';

/** starting -> ready | failed; ready -> degraded (a process died) ; any -> stopping -> stopped */
export type DeploymentPhase = 'planned' | 'starting' | 'ready' | 'degraded' | 'failed' | 'stopping' | 'stopped';

export interface ProcessView {
  id: string;
  role: ProcessRole;
  instanceId: string;
  node: string;
  nodeRank: number;
  nnodes: number;
  gpuIds: number[];
  port: number;
  pgid?: number;
  phase: ProcessPhase;
  exitCode?: number;
  /** why the process is gone, when its launcher knows (a Slurm job's end state and reason) */
  reason?: string;
}

/** A snapshot for docs and the Deployments tree: plain data, no methods. */
export interface DeploymentView {
  name: string;
  clusterName: string;
  clusterKind: string;
  engine: { kind: EngineKind; version: string };
  simulated: boolean;
  phase: DeploymentPhase;
  /** started by a cell in this session, or found running and adopted */
  origin: 'started' | 'reattached';
  endpointUrl: string;
  endpointVia: 'router' | 'server';
  processes: ProcessView[];
}
