import { CommandFailedError, UnsafeInputError } from '../../util/errors';
import type { FollowOptions, FollowResult, Launcher, RankSpec, RankState, RankStatus, StopOutcome } from '../types';
import { stepArgv } from './batch';
import type { SlurmCluster } from './cluster';
import { slurmRankStateSchema, type SlurmRankState } from './state';

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** signals fault injection may send (scancel --signal takes these names) */
const SIGNALS = new Set(['TERM', 'KILL', 'INT', 'HUP', 'STOP', 'CONT', 'USR1', 'USR2', 'QUIT', 'ABRT', 'SEGV']);

/** args: jobid stepid... ; pids of the processes of these steps on this node (their environment names the step) */
const STEP_PIDS_SCRIPT = `job=$1; shift
for d in /proc/[0-9]*; do
  e=$(tr '\\0' '\\n' < "$d/environ" 2>/dev/null) || continue
  case "$e" in *"SLURM_JOB_ID=$job"*) ;; *) continue ;; esac
  for s in "$@"; do
    if printf '%s\\n' "$e" | grep -qx "SLURM_STEP_ID=$s"; then echo "\${d#/proc/}"; break; fi
  done
done`;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Each rank is one `srun --jobid --overlap --nodes=1 --ntasks=1 --nodelist=<node>` step of the
 * cluster's allocation. The `srun` client runs on the login side under the shell supervisor, so
 * it outlives the window and the CLI, and its output (the rank's output, which srun relays) is
 * that rank's log file there. Stop and signals go through `scancel JOB.STEP`, found by the step's
 * name; a step the scheduler ended is reported with the job's state and Slurm's reason.
 */
export class SlurmLauncher implements Launcher {
  readonly kind = 'slurm';

  constructor(private readonly cluster: SlurmCluster) {}

  private get client(): Launcher {
    return this.cluster.login.cluster.launcher;
  }

  async start(rank: RankSpec): Promise<RankState> {
    const host = this.cluster.hostOf(rank.node);
    const stepName = `${rank.deploymentId}.${rank.name}`;
    if (!ID.test(stepName)) throw new UnsafeInputError(`Invalid step name ${JSON.stringify(stepName)}`, { node: rank.node });
    const job = await this.cluster.jobState(rank.signal);
    if (job.ended) throw new CommandFailedError(`Cannot start ${rank.name}: ${job.description}`, { node: rank.node }, 'Run the cluster cell again for a new allocation.');
    const argv = stepArgv(this.cluster.spec, { jobId: this.cluster.jobId, host, stepName }, rank.argv);
    // rank env (and the cluster's Slurm env) on the srun client: srun exports its environment to the task (--export=ALL)
    const client = await this.client.start({ ...rank, node: this.cluster.login.node, argv, env: { ...(this.cluster.spec.env ?? {}), ...(rank.env ?? {}) } });
    if (client.launcher !== undefined && client.launcher !== 'shell') throw new CommandFailedError(`The login side of ${this.cluster.name} did not start ${rank.name} with the shell supervisor`, { node: rank.node });
    const state: SlurmRankState = {
      launcher: 'slurm',
      cluster: this.cluster.name,
      node: rank.node,
      deploymentId: rank.deploymentId,
      name: rank.name,
      startedAt: client.startedAt,
      argv: [...rank.argv],
      jobId: this.cluster.jobId,
      host,
      stepName,
      client: client as SlurmRankState['client'],
    };
    return state;
  }

  parseState(data: unknown): RankState {
    const parsed = slurmRankStateSchema.safeParse(data);
    if (!parsed.success) throw new UnsafeInputError(`Saved Slurm rank state is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const s = parsed.data;
    if (s.jobId !== this.cluster.jobId) {
      throw new CommandFailedError(`The rank ${s.name} was started in Slurm job ${s.jobId}; cluster ${this.cluster.name} now holds job ${this.cluster.jobId}`, { node: s.node }, `Job ${s.jobId} has ended (or was replaced); its ranks are gone with it.`);
    }
    const state: SlurmRankState = { ...s, client: this.client.parseState(s.client) as SlurmRankState['client'] };
    return state;
  }

  private own(rank: RankState): SlurmRankState {
    if (rank.launcher !== 'slurm' || !('stepName' in rank)) throw new CommandFailedError(`${rank.name} was not started by the Slurm launcher`, { node: rank.node });
    return rank as SlurmRankState;
  }

  private clientState(rank: RankState): RankState {
    return this.own(rank).client as RankState;
  }

  /** the job's steps of this rank (normally one) */
  private async steps(s: SlurmRankState, signal?: AbortSignal): Promise<string[]> {
    return (await this.cluster.cli.steps(s.jobId, signal)).filter((x) => x.name === s.stepName).map((x) => x.stepId);
  }

  async status(rank: RankState, signal?: AbortSignal): Promise<RankStatus> {
    const s = this.own(rank);
    const c = await this.client.status(this.clientState(rank), signal);
    if (c.state === 'running') return c;
    // srun ended: because the rank did, or because the scheduler ended the whole job
    const job = await this.cluster.jobState(signal);
    if (job.ended) return { state: 'gone', logBytes: c.logBytes, reason: job.description };
    return c.state === 'gone' ? { ...c, reason: c.reason ?? `the srun client of step ${s.stepName} on the login side is gone` } : c;
  }

  async stop(rank: RankState, options: { graceMs?: number; signal?: AbortSignal } = {}): Promise<StopOutcome> {
    const s = this.own(rank);
    const graceMs = options.graceMs ?? 10_000;
    let steps = await this.steps(s, options.signal);
    let outcome: StopOutcome = 'not-running';
    if (steps.length) {
      // TERM to the rank's processes, the grace, then scancel of the step (KILL)
      for (const id of steps) await this.cluster.cli.cancel(id, { signal: 'TERM', abort: options.signal }).catch(() => undefined);
      outcome = 'terminated';
      const deadline = Date.now() + graceMs;
      while ((steps = await this.steps(s, options.signal)).length && Date.now() < deadline) await sleep(200);
      if (steps.length) {
        outcome = 'killed';
        for (const id of steps) await this.cluster.cli.cancel(id, { abort: options.signal }).catch(() => undefined);
      }
    }
    // the srun client on the login side ends with its step; make sure
    const clientOutcome = await this.client.stop(this.clientState(rank), { graceMs: 2000, signal: options.signal });
    if (outcome === 'not-running' && clientOutcome !== 'not-running') outcome = clientOutcome;
    // verify: no step of this rank is left in the job
    const deadline = Date.now() + 30_000;
    while ((steps = await this.steps(s, options.signal)).length) {
      if (Date.now() > deadline) throw new CommandFailedError(`Step ${steps.join(', ')} (${s.stepName}) is still in job ${s.jobId} after scancel`, { node: s.node }, `Check it with squeue -s -j ${s.jobId}; a node may be stuck completing.`);
      await sleep(300);
    }
    return outcome;
  }

  async signal(rank: RankState, signal: string): Promise<void> {
    if (!SIGNALS.has(signal)) throw new UnsafeInputError(`Unknown signal ${JSON.stringify(signal)}`, { node: rank.node }, `Use one of ${[...SIGNALS].join(', ')}.`);
    const s = this.own(rank);
    const steps = await this.steps(s);
    if (steps.length === 0) throw new CommandFailedError(`${s.name} has no running step in job ${s.jobId}`, { node: s.node });
    for (const id of steps) await this.cluster.cli.cancel(id, { signal });
  }

  tail(rank: RankState, maxBytes: number, signal?: AbortSignal): Promise<string> {
    return this.client.tail(this.clientState(rank), maxBytes, signal);
  }

  logSize(rank: RankState, signal?: AbortSignal): Promise<number> {
    return this.client.logSize(this.clientState(rank), signal);
  }

  follow(rank: RankState, options: FollowOptions): Promise<FollowResult> {
    return this.client.follow(this.clientState(rank), options);
  }

  async processIds(node: string, ranks: readonly RankState[], signal?: AbortSignal): Promise<number[]> {
    const mine = ranks.filter((r) => r.launcher === 'slurm' && r.node === node).map((r) => this.own(r));
    if (mine.length === 0) return [];
    const all = await this.cluster.cli.steps(this.cluster.jobId, signal);
    const stepIds = all.filter((x) => mine.some((m) => m.stepName === x.name)).map((x) => x.step);
    if (stepIds.length === 0) return [];
    const r = await this.cluster.exec(node, ['bash', '-c', STEP_PIDS_SCRIPT, 'moebench-step-pids', this.cluster.jobId, ...stepIds], { signal, captureLimitBytes: 64 * 1024 });
    return r.stdout
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((n) => Number.isInteger(n) && n > 1);
  }
}
