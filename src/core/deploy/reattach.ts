import type { Cluster } from '../launch/types';
import type { Session } from '../exec/session';
import { Deployment } from './deployment';
import type { DeploymentHandle } from '../exec/handles';
import { CellReferenceError } from '../util/errors';
import { deploymentsDir, listDeploymentRecords, removeDeploymentRecord } from './record';

export interface ReattachResult {
  /** found alive and registered in the session under their names */
  reattached: Deployment[];
  /** records whose processes are all gone: removed */
  ended: string[];
  /** records that could not be read (left in place for a person to look at) */
  problems: { file: string; message: string }[];
}

/** The deployments registered in a session that a deploy cell launched (not other handles). */
export function sessionDeployments(session: Session): Deployment[] {
  return session.deployments.values().flatMap((d) => asLaunched(d) ?? []);
}

/** the launched Deployment behind a handle, or undefined for any other handle */
export function asLaunched(handle: DeploymentHandle | undefined): Deployment | undefined {
  return handle instanceof Deployment ? handle : undefined;
}

/**
 * The launched Deployment behind a handle, for what needs its processes (faults, bench runners on
 * its nodes, client shards, sweeps, stop): the one place a handle is checked for it.
 */
export function launchedDeployment(handle: DeploymentHandle, where: { cell?: string; field?: string; why: string }): Deployment {
  const d = asLaunched(handle);
  if (d) return d;
  throw new CellReferenceError(`"${handle.name}" is not a deployment started by a deploy cell`, { cell: where.cell, field: where.field }, where.why);
}

/**
 * After a window reload: find the deployments this notebook started on `cluster` (their records
 * under `<notebook dir>/.moebench/deployments/`), ask the nodes whether their processes still
 * run, and register the live ones in the session, so bench cells and the Deployments tree reach
 * them without a restart. Records of deployments with nothing left alive are removed.
 */
export async function reattachDeployments(session: Session, cluster: Cluster, options: { dir?: string; signal?: AbortSignal } = {}): Promise<ReattachResult> {
  const dir = options.dir ?? deploymentsDir(session.notebookPath);
  const { records, problems } = await listDeploymentRecords(dir);
  const result: ReattachResult = { reattached: [], ended: [], problems };
  for (const { file, record } of records) {
    if (record.cluster !== cluster.name || session.deployments.has(record.name)) continue;
    const d = Deployment.fromRecord(record, cluster, { recordFile: file, cell: record.name });
    const view = await d.refresh({ signal: options.signal, probeHealth: true });
    if (view.phase === 'stopped') {
      await removeDeploymentRecord(file);
      result.ended.push(record.name);
      continue;
    }
    session.deployments.set(record.name, d, `re-attached from ${file}`);
    result.reattached.push(d);
  }
  return result;
}
