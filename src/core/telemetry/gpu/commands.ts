import { UnsafeInputError } from '../../util/errors';
import { COMPUTE_APPS_FIELDS } from './compute-apps';

/** nvidia-smi field names are dotted lowercase identifiers; anything else is refused, not quoted. */
function checkField(f: string): string {
  if (!/^[a-z][a-z0-9_.]*$/.test(f)) {
    throw new UnsafeInputError(`Not an nvidia-smi field name: ${JSON.stringify(f)}`, { field: 'gpu.fields' }, 'Use names from `nvidia-smi --help-query-gpu`, e.g. utilization.gpu.');
  }
  return f;
}

/** The one long-lived sampling command per node (never an exec per sample). */
export function gpuStreamArgv(fields: readonly string[], intervalMs: number): string[] {
  const ms = Math.max(50, Math.round(intervalMs));
  return ['nvidia-smi', `--query-gpu=${fields.map(checkField).join(',')}`, '--format=csv,noheader,nounits', '-lms', String(ms)];
}

/** A single sample (used by the cluster tree's first paint and by tests). */
export function gpuQueryOnceArgv(fields: readonly string[]): string[] {
  return ['nvidia-smi', `--query-gpu=${fields.map(checkField).join(',')}`, '--format=csv,noheader,nounits'];
}

export const GPU_INVENTORY_ARGV: readonly string[] = ['nvidia-smi', '-q', '-x'];
export const GPU_TOPOLOGY_ARGV: readonly string[] = ['nvidia-smi', 'topo', '-m'];
export const COMPUTE_APPS_ARGV: readonly string[] = ['nvidia-smi', `--query-compute-apps=${COMPUTE_APPS_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];

/**
 * Fields this driver refuses. nvidia-smi exits with `Field "x" is not a valid field to query.`
 * when a field is newer or older than the driver; the collector drops them and restarts.
 */
export function invalidFieldsIn(output: string): string[] {
  const out: string[] = [];
  const re = /Field "([^"]+)" is not a valid field to query/g;
  for (let m = re.exec(output); m; m = re.exec(output)) out.push(m[1]);
  return out;
}
