import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import type { Plan } from '../plan';
import type { RankState } from '../launch/types';
import { rankStateSchema } from '../launch/rank-states';
import { UnsafeInputError } from '../util/errors';

/**
 * What survives a window reload: the plan that was launched, the cluster it runs on, and the
 * supervisor state (node, directory, process group, its leader's start time and token) of every
 * process started. Written atomically after every change, so a reload re-attaches to the GPU
 * processes instead of orphaning them.
 *
 * Records live in the user's own state directory, never in the workspace: a record decides which
 * process groups Stop signals, and a workspace is shared through git. A `.moebench/deployments/`
 * folder committed to a repository is never read.
 */

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

const roleSchema = z.enum(['unified', 'prefill', 'decode']);

const plannedProcessSchema = z.object({
  id: z.string(),
  role: z.enum(['unified', 'prefill', 'decode', 'router']),
  instanceId: z.string(),
  nodeRank: z.number().int().min(0),
  nnodes: z.number().int().min(1),
  node: z.string(),
  address: z.string(),
  argv: z.array(z.string()).min(1),
  env: z.record(z.string(), z.string()),
  gpuIds: z.array(z.number().int()),
  port: z.number().int().min(1).max(65535),
  healthUrl: z.string().optional(),
  logName: z.string(),
});

const actionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('start'), processId: z.string(), node: z.string(), description: z.string() }),
  z.object({ kind: z.literal('wait-healthy'), target: z.string(), url: z.string(), description: z.string() }),
  z.object({ kind: z.literal('check-generate'), url: z.string(), description: z.string() }),
  z.object({ kind: z.literal('ready'), endpoint: z.string(), description: z.string() }),
]);

/** The plan as persisted; warnings are not kept (they were shown when the cell ran). */
const planSchema = z.object({
  name: z.string().regex(NAME),
  cluster: z.string(),
  clusterKind: z.string(),
  engine: z.object({ kind: z.enum(['sglang', 'vllm']), version: z.string() }),
  pd: z.boolean(),
  instances: z.array(
    z.object({
      id: z.string(),
      role: roleSchema,
      index: z.number().int(),
      nodes: z.array(z.string()),
      url: z.string(),
      bootstrapPort: z.number().int().optional(),
      processIds: z.array(z.string()),
    }),
  ),
  processes: z.array(plannedProcessSchema),
  actions: z.array(actionSchema),
  endpoint: z.object({ node: z.string(), port: z.number().int(), url: z.string(), via: z.enum(['router', 'server']) }),
  paths: z.object({ health: z.string(), generate: z.string(), serverInfo: z.string().optional(), modelInfo: z.string().optional() }),
});

export const deploymentRecordSchema = z.object({
  version: z.literal(1),
  name: z.string().regex(NAME),
  cluster: z.string(),
  clusterKind: z.string(),
  /** where the supervisor keeps pid/log directories on the nodes */
  baseDir: z.string().optional(),
  startedAt: z.string(),
  readyAt: z.string().optional(),
  plan: planSchema,
  /** one per process started so far, in plan order */
  /** each rank's launcher state (launch/rank-states.ts) */
  processes: z.array(z.object({ id: z.string(), remote: rankStateSchema })),
});

export type DeploymentRecord = Omit<z.infer<typeof deploymentRecordSchema>, 'plan' | 'processes'> & { plan: Plan; processes: { id: string; remote: RankState }[] };

/**
 * `<state dir>/deployments/<notebook name>-<hash of its absolute path>`; the state dir is
 * $MOEBENCH_STATE_DIR, else $XDG_STATE_HOME/moebench, else ~/.local/state/moebench. One folder
 * per notebook, so two notebooks never share records.
 */
export function deploymentsDir(notebookPath: string): string {
  const abs = path.resolve(notebookPath);
  const hash = createHash('sha256').update(abs).digest('hex').slice(0, 16);
  const label = path.basename(abs).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 60);
  return path.join(userStateDir(), 'deployments', `${label}-${hash}`);
}

export function userStateDir(): string {
  if (process.env.MOEBENCH_STATE_DIR) return path.resolve(process.env.MOEBENCH_STATE_DIR);
  const xdg = process.env.XDG_STATE_HOME;
  return xdg && path.isAbsolute(xdg) ? path.join(xdg, 'moebench') : path.join(os.homedir(), '.local', 'state', 'moebench');
}

export function recordPath(dir: string, name: string): string {
  if (!NAME.test(name)) throw new UnsafeInputError(`Invalid deployment name ${JSON.stringify(name)}`, { field: 'name' });
  return path.join(dir, `${name}.json`);
}

export function parseDeploymentRecord(json: string, file?: string): DeploymentRecord {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (err) {
    throw new UnsafeInputError(`Saved deployment is not JSON: ${(err as Error).message}`, { file });
  }
  const parsed = deploymentRecordSchema.safeParse(data);
  if (!parsed.success) {
    throw new UnsafeInputError(`Saved deployment is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, { file }, 'Delete the file if the deployment is no longer running.');
  }
  return { ...parsed.data, plan: { ...parsed.data.plan, warnings: [] } };
}

/** Written to a temporary file and renamed: a crash mid-write never leaves half a record. */
export async function saveDeploymentRecord(file: string, record: DeploymentRecord): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const { warnings: _warnings, ...plan } = record.plan;
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify({ ...record, plan }, null, 2)}\n`);
  await rename(tmp, file);
}

export async function removeDeploymentRecord(file: string): Promise<void> {
  await rm(file, { force: true });
}

/** Every readable record in `dir`; unreadable ones come back as problems, never thrown. */
export async function listDeploymentRecords(dir: string): Promise<{ records: { file: string; record: DeploymentRecord }[]; problems: { file: string; message: string }[] }> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], problems: [] };
    throw err;
  }
  const records: { file: string; record: DeploymentRecord }[] = [];
  const problems: { file: string; message: string }[] = [];
  for (const n of names.filter((x) => x.endsWith('.json')).sort()) {
    const file = path.join(dir, n);
    try {
      records.push({ file, record: parseDeploymentRecord(await readFile(file, 'utf8'), file) });
    } catch (err) {
      problems.push({ file, message: err instanceof Error ? err.message : String(err) });
    }
  }
  return { records, problems };
}
