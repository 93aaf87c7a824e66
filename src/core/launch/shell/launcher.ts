import type { Cluster, FollowOptions, FollowResult, Launcher, RankSpec, RankState, RankStatus, StopOutcome } from '../types';
import { CommandFailedError, UnsafeInputError } from '../../util/errors';
import { followRemoteLog } from './log-follow';
import { parseRemoteProcess, remoteProcessStatus, startRemoteProcess, stopRemoteProcess, type RemoteProcessState } from './process';
import { EXPAND_DIR, SIGNAL_SCRIPT } from './scripts';

/** signals fault injection may send (names as `kill -<name>` takes them) */
const SIGNALS = new Set(['TERM', 'KILL', 'INT', 'HUP', 'STOP', 'CONT', 'USR1', 'USR2', 'QUIT', 'ABRT', 'SEGV']);

/** args: dir bytes ; the last `bytes` of the rank's log, nothing when there is none */
const TAIL_SCRIPT = `d=$1; ${EXPAND_DIR}; [ -f "$d/log" ] || exit 0; tail -c "$2" -- "$d/log"`;
/** args: dir ; the byte size of the rank's log, 0 when absent */
const SIZE_SCRIPT = `d=$1; ${EXPAND_DIR}; if [ -f "$d/log" ]; then wc -c < "$d/log"; else echo 0; fi`;

/**
 * The shell supervisor as a Launcher: each rank in its own session and process group, with its
 * pid, log and exit code in a directory on the node (scripts.ts), over any cluster that runs
 * argv through `exec` (ssh, local, sim). The one place that knows that layout.
 */
export class ShellLauncher implements Launcher {
  readonly kind = 'shell';

  constructor(private readonly cluster: Cluster) {}

  start(rank: RankSpec): Promise<RankState> {
    return startRemoteProcess(this.cluster, rank.node, rank);
  }

  status(rank: RankState, signal?: AbortSignal): Promise<RankStatus> {
    return remoteProcessStatus(this.cluster, this.own(rank), signal);
  }

  stop(rank: RankState, options: { graceMs?: number; signal?: AbortSignal } = {}): Promise<StopOutcome> {
    return stopRemoteProcess(this.cluster, this.own(rank), options);
  }

  async signal(rank: RankState, signal: string): Promise<void> {
    if (!SIGNALS.has(signal)) throw new UnsafeInputError(`Unknown signal ${JSON.stringify(signal)}`, { node: rank.node }, `Use one of ${[...SIGNALS].join(', ')}.`);
    const s = this.own(rank);
    // the recorded group, and only while it proves to be ours (scripts.ts SIGNAL_SCRIPT)
    const r = await this.cluster.exec(s.node, ['bash', '-c', SIGNAL_SCRIPT, 'moebench-signal', String(s.pgid), s.leaderStart, s.token, signal], { captureLimitBytes: 4096 });
    if (r.exitCode !== 0) throw new CommandFailedError(`kill -${signal} of ${s.name} on ${s.node} failed: ${r.stderr.trim() || `exit ${r.exitCode}`}`, { node: s.node });
  }

  async tail(rank: RankState, maxBytes: number, signal?: AbortSignal): Promise<string> {
    const s = this.own(rank);
    const n = Math.max(1, Math.floor(maxBytes));
    const r = await this.cluster.exec(s.node, ['bash', '-c', TAIL_SCRIPT, 'moebench-tail', s.dir, String(n)], { signal, captureLimitBytes: n + 4096 });
    if (r.exitCode !== 0) throw new CommandFailedError(`Reading the log of ${s.name} on ${s.node} failed: ${r.stderr.trim()}`, { node: s.node });
    return r.stdout;
  }

  async logSize(rank: RankState, signal?: AbortSignal): Promise<number> {
    const s = this.own(rank);
    const r = await this.cluster.exec(s.node, ['sh', '-c', SIZE_SCRIPT, 'moebench-logsize', s.dir], { signal, captureLimitBytes: 4096 });
    const n = Number(r.stdout.trim());
    if (r.exitCode !== 0 || !Number.isFinite(n)) throw new CommandFailedError(`Reading the log size of ${s.name} on ${s.node} failed: ${r.stderr.trim() || `exit ${r.exitCode}`}`, { node: s.node });
    return n;
  }

  follow(rank: RankState, options: FollowOptions): Promise<FollowResult> {
    return followRemoteLog(this.cluster, this.own(rank), options);
  }

  async processIds(node: string, ranks: readonly RankState[], signal?: AbortSignal): Promise<number[]> {
    const pgids = ranks.map((r) => this.own(r)).filter((r) => r.node === node).map((r) => r.pgid);
    try {
      const r = await this.cluster.exec(node, ['ps', '-e', '-o', 'pid=,pgid='], { signal, captureLimitBytes: 4 * 1024 * 1024 });
      return r.exitCode === 0 ? [...new Set([...pgids, ...pidsInGroups(r.stdout, pgids)])] : [...pgids];
    } catch {
      // the node may be unreachable; the leaders' pids are still known
      return [...pgids];
    }
  }

  parseState(data: unknown): RankState {
    return parseRemoteProcess(JSON.stringify(data));
  }

  private own(rank: RankState): RemoteProcessState {
    if (rank.launcher !== undefined && rank.launcher !== this.kind) {
      throw new UnsafeInputError(`${rank.name} was started by the ${rank.launcher} launcher, not by the shell supervisor`, { node: rank.node });
    }
    return rank as RemoteProcessState;
  }
}

/** pids whose process group is one of `pgids`, from `ps -e -o pid=,pgid=` */
export function pidsInGroups(psOutput: string, pgids: readonly number[]): number[] {
  const groups = new Set(pgids);
  const out: number[] = [];
  for (const line of psOutput.split('\n')) {
    const [pid, pgid] = line.trim().split(/\s+/).map(Number);
    if (Number.isInteger(pid) && groups.has(pgid)) out.push(pid);
  }
  return out;
}
