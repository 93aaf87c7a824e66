import { z } from 'zod';
import type { Cluster, ExecResult, RankStatus, StopOutcome } from '../types';
import { CommandFailedError, UnsafeInputError } from '../../util/errors';
import { randomBytes } from 'node:crypto';
import { LEADER_SCRIPT, START_SCRIPT, STATUS_SCRIPT, STOP_SCRIPT } from './scripts';

/**
 * Detached processes on cluster nodes (SGLang servers, routers), over ANY `Cluster` through
 * `exec` of argv, so ssh, local and sim clusters behave the same. A process lives in its own
 * session and process group with pid, log and exit-code files in its directory on the node:
 * it outlives the connection and the VS Code window, and the persisted state re-attaches to it.
 */

export const DEFAULT_BASE_DIR = '~/.moebench/deployments';

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** What a window reload needs to find the process again; plain JSON. */
export const remoteProcessStateSchema = z.object({
  version: z.literal(1),
  /** absent in records written before launchers had kinds */
  launcher: z.literal('shell').optional(),
  cluster: z.string(),
  node: z.string(),
  deploymentId: z.string().regex(ID),
  name: z.string().regex(ID),
  /** directory on the node (may start with `~/`) */
  dir: z.string().min(1),
  pgid: z.number().int().min(2),
  /** the group leader's start time (/proc/<pgid>/stat field 22) when it started: a reused pid never matches */
  leaderStart: z.string().regex(/^[0-9]*$/),
  /** random, in the environment of every process of the group; stop and status act only on a group that carries it */
  token: z.string().regex(/^[0-9a-f]{32}$/),
  startedAt: z.string(),
  argv: z.array(z.string()),
});
export type RemoteProcessState = z.infer<typeof remoteProcessStateSchema>;

export type RemoteProcessStatus = RankStatus;

export interface StartOptions {
  deploymentId: string;
  /** process name within the deployment, e.g. `prefill-0` */
  name: string;
  argv: readonly string[];
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  /** default ~/.moebench/deployments */
  baseDir?: string;
  signal?: AbortSignal;
}

function checkId(value: string, field: string): void {
  if (!ID.test(value)) {
    throw new UnsafeInputError(`Invalid ${field} ${JSON.stringify(value)}`, { field }, 'Use letters, digits, ".", "_" and "-" only, starting with a letter or digit.');
  }
}

function failed(what: string, node: string, r: ExecResult): CommandFailedError {
  const detail = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-5).join('\n');
  return new CommandFailedError(`${what} on ${node} failed (exit ${r.exitCode ?? r.signal}): ${detail}`, { node }, 'Check the node (disk space, permissions on ~/.moebench) and the command.');
}

export async function startRemoteProcess(cluster: Cluster, node: string, options: StartOptions): Promise<RemoteProcessState> {
  checkId(options.deploymentId, 'deploymentId');
  checkId(options.name, 'name');
  if (options.argv.length === 0) throw new UnsafeInputError('Empty command', { node });
  const dir = `${(options.baseDir ?? DEFAULT_BASE_DIR).replace(/\/+$/, '')}/${options.deploymentId}/${options.name}`;
  const token = randomBytes(16).toString('hex');
  const r = await cluster.exec(node, ['bash', '-c', START_SCRIPT, 'moebench-start', dir, token, LEADER_SCRIPT, ...options.argv], {
    env: options.env,
    cwd: options.cwd,
    signal: options.signal,
    captureLimitBytes: 64 * 1024,
  });
  if (r.exitCode === 17) {
    throw new CommandFailedError(`${options.deploymentId}/${options.name} is already running on ${node}`, { node }, 'Stop it first, or use another deployment name.');
  }
  const [pgidText, leaderStart = ''] = (r.stdout.trim().split('\n').pop() ?? '').split(' ');
  const pgid = Number(pgidText);
  if (r.exitCode !== 0 || !Number.isInteger(pgid) || pgid < 2 || !/^[0-9]*$/.test(leaderStart)) throw failed(`Starting ${options.name}`, node, r);
  return {
    version: 1,
    launcher: 'shell',
    cluster: cluster.name,
    node,
    deploymentId: options.deploymentId,
    name: options.name,
    dir,
    pgid,
    leaderStart,
    token,
    startedAt: new Date().toISOString(),
    argv: [...options.argv],
  };
}

export async function remoteProcessStatus(cluster: Cluster, state: RemoteProcessState, signal?: AbortSignal): Promise<RemoteProcessStatus> {
  const r = await cluster.exec(state.node, ['bash', '-c', STATUS_SCRIPT, 'moebench-status', state.dir, String(state.pgid), state.leaderStart, state.token], { signal, captureLimitBytes: 4096 });
  if (r.exitCode !== 0) throw failed(`Status of ${state.name}`, state.node, r);
  const fields = new Map(
    r.stdout
      .split('\n')
      .map((l) => l.trim().split('='))
      .filter((kv) => kv.length === 2)
      .map(([k, v]) => [k, v] as const),
  );
  const logBytes = Number(fields.get('log_bytes') ?? 0);
  switch (fields.get('state')) {
    case 'running':
      return { state: 'running', logBytes };
    case 'exited':
      return { state: 'exited', exitCode: Number(fields.get('exit_code')), logBytes };
    case 'gone':
      return { state: 'gone', logBytes };
    default:
      throw failed(`Status of ${state.name}`, state.node, r);
  }
}


/**
 * TERM the whole group, wait `graceMs`, KILL, and verify that nothing of it is left. The group is
 * the recorded pgid, and only while it proves to be the one started (leader start time, token):
 * nothing in the process directory on the node decides what is signalled.
 */
export async function stopRemoteProcess(cluster: Cluster, state: RemoteProcessState, options: { graceMs?: number; signal?: AbortSignal } = {}): Promise<StopOutcome> {
  const tenths = Math.max(1, Math.ceil((options.graceMs ?? 10_000) / 100));
  const r = await cluster.exec(state.node, ['bash', '-c', STOP_SCRIPT, 'moebench-stop', String(state.pgid), state.leaderStart, state.token, String(tenths)], { signal: options.signal, captureLimitBytes: 4096 });
  const outcome = r.stdout.trim().split('\n').pop();
  if (r.exitCode === 0 && (outcome === 'not-running' || outcome === 'terminated' || outcome === 'killed')) return outcome;
  throw failed(`Stopping ${state.name}`, state.node, r);
}

export function serializeRemoteProcess(state: RemoteProcessState): string {
  return JSON.stringify(state);
}

/** Validates persisted state (it comes from a file a user could edit) before it reaches a node. */
export function parseRemoteProcess(json: string): RemoteProcessState {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (err) {
    throw new UnsafeInputError(`Saved process state is not JSON: ${(err as Error).message}`);
  }
  const parsed = remoteProcessStateSchema.safeParse(data);
  if (!parsed.success) throw new UnsafeInputError(`Saved process state is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
