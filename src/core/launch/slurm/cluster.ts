import type { HostServices } from '../../host';
import { CellReferenceError, CommandFailedError, SpecValidationError } from '../../util/errors';
import { specificHost, urlHostOf } from '../endpoint-host';
import { ENV_ALLOW_HINT, envNameAllowed, envNameRisk } from '../env-policy';
import type { Cluster, ClusterDescription, ClusterNodeInfo, ConnectionState, ExecOptions, ExecResult, Launcher } from '../types';
import { acquireAllocation, waitGone, type Allocation, type AllocationEvent } from './allocation';
import { stepArgv } from './batch';
import { SlurmCli, describeEnd, ENDED_STATES } from './cli';
import { SlurmLauncher } from './launcher';
import { slotNames, type SlurmSpec } from './spec';

/** Where the Slurm commands run: a one-node cluster (this machine, or a login node over SSH). */
export interface LoginSide {
  cluster: Cluster;
  node: string;
  /** compute nodes are reachable from here directly (this machine), or only through the login node */
  local: boolean;
}

/** states in which the allocation's nodes run our steps */
const HOLDING_STATES = new Set(['RUNNING', 'CONFIGURING', 'SUSPENDED', 'RESIZING', 'COMPLETING']);

/** step names of exec calls (telemetry, shell cells); deployments' steps are `<deployment>.<rank>` */
export const EXEC_STEP_NAME = 'moebench-exec';

/**
 * `kind: slurm`: one allocation (an `sbatch` job that only holds its nodes), like `salloc`. The
 * cluster cell submits it, or finds it again after a reload by its job name, and waits for it
 * showing PENDING with Slurm's reason. Its nodes are the cluster's nodes; every command on a node
 * (`exec`: telemetry, shell cells, checks) and every rank of a deployment (the launcher) is an
 * `srun --jobid --overlap` step, started from the login side. The allocation ends when the
 * cluster is disposed with nothing of ours running in it (session end, cell re-run), when
 * `release()` is called, or when the scheduler ends it — then every node reports why.
 */
export class SlurmCluster implements Cluster {
  readonly kind = 'slurm' as const;
  readonly launcher: Launcher;
  readonly cli: SlurmCli;
  private endedReason: string | undefined;
  private released = false;

  private constructor(
    readonly spec: SlurmSpec,
    readonly login: LoginSide,
    readonly allocation: Allocation,
    cli: SlurmCli,
  ) {
    this.cli = cli;
    this.launcher = new SlurmLauncher(this);
  }

  get name(): string {
    return this.spec.name;
  }

  get jobId(): string {
    return this.allocation.jobId;
  }

  get nodes(): readonly ClusterNodeInfo[] {
    return this.allocation.slots.map((s) => ({ name: s.name, address: s.address, gpus: s.gpus }));
  }

  static async create(spec: SlurmSpec, login: LoginSide, ctx: { host: HostServices; emit?: (e: AllocationEvent) => void; signal?: AbortSignal }): Promise<SlurmCluster> {
    const allow = ctx.host.setting<string[]>('env.allowNames', []);
    for (const name of Object.keys(spec.env ?? {})) {
      if (!envNameAllowed(name, allow)) throw new SpecValidationError(`env.${name} is refused: ${envNameRisk(name)}`, { cell: spec.name, field: `env.${name}` }, ENV_ALLOW_HINT);
    }
    const cli = new SlurmCli((argv, o) => login.cluster.exec(login.node, argv, o), spec.env ?? {}, login.local ? 'this machine' : login.node);
    const allocation = await acquireAllocation(spec, cli, { emit: ctx.emit, signal: ctx.signal, logDir: spec.logDir ?? '~/.moebench/slurm' });
    return new SlurmCluster(spec, login, allocation, cli);
  }

  node(name: string): ClusterNodeInfo {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new CellReferenceError(`Cluster "${this.name}" has no node "${name}"`, { node: name }, `Its nodes are ${slotNames(this.spec).join(', ')} (Slurm job ${this.jobId}).`);
    return n;
  }

  /** the Slurm node a cluster node name stands for */
  hostOf(name: string): string {
    this.node(name);
    const s = this.allocation.slots.find((x) => x.name === name);
    if (!s) throw new CellReferenceError(`Cluster "${this.name}" has no node "${name}"`, { node: name });
    return s.host;
  }

  /** runs argv on the login side with the cluster's Slurm environment */
  loginExec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    return this.cli.exec(argv, options);
  }

  /** a step on the bare node (no container): `srun --jobid=J --overlap -N1 -n1 --nodelist=host argv` */
  exec(node: string, argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const host = this.hostOf(node);
    if (this.endedReason) return Promise.reject(new CommandFailedError(`Slurm job ${this.jobId} of cluster ${this.name} is over (${this.endedReason})`, { node }, 'Run the cluster cell again for a new allocation.'));
    return this.loginExec(stepArgv(this.spec, { jobId: this.jobId, host, stepName: EXEC_STEP_NAME }, argv, { container: false }), options);
  }

  async httpEndpoint(node: string, port: number, host?: string): Promise<string> {
    const address = specificHost(host) ?? this.node(node).address;
    // compute nodes answer this machine directly when it is the login node; else through a forward from the login node
    if (this.login.local) return `http://${urlHostOf(address)}:${port}`;
    return this.login.cluster.httpEndpoint(this.login.node, port, address);
  }

  /** the Cluster view's line: the job, what it is known to be doing, and where it runs */
  describe(): ClusterDescription {
    const state = this.released ? 'released' : this.endedReason ? 'ended' : 'RUNNING';
    const spec = this.spec;
    const tooltip = [
      `Slurm job ${this.jobId} (${this.allocation.submitted ? 'submitted by this session' : 'found again by its name'})${this.endedReason ? `: ${this.endedReason}` : ''}`,
      `nodes: ${this.allocation.slots.map((s) => s.host).join(', ')}`,
      ...(spec.partition ? [`partition: ${spec.partition}`] : []),
      ...(spec.account ? [`account: ${spec.account}`] : []),
      ...(spec.qos ? [`qos: ${spec.qos}`] : []),
      ...(spec.timeLimit ? [`time limit: ${spec.timeLimit}`] : []),
      `Slurm commands run on ${this.login.local ? 'this machine' : `${this.login.node} (over SSH)`}`,
    ];
    return { summary: `Slurm job ${this.jobId} · ${state}`, tooltip, hosts: Object.fromEntries(this.allocation.slots.map((s) => [s.name, s.host])) };
  }

  connectionState(): ConnectionState {
    if (this.released) return { state: 'failed', reason: `allocation ${this.jobId} released` };
    if (this.endedReason) return { state: 'failed', reason: this.endedReason };
    return { state: 'connected' };
  }

  /**
   * The job's state now; a job the scheduler ended (time limit, preemption, node failure,
   * scancel from elsewhere) is remembered with Slurm's reason, and every node reports it.
   */
  async jobState(signal?: AbortSignal): Promise<{ state: string; reason: string; ended: boolean; description?: string }> {
    let job = await this.cli.job(this.jobId, signal);
    // COMPLETING: the job is ending; its final state (CANCELLED, TIMEOUT, NODE_FAIL...) follows shortly
    for (let i = 0; i < 50 && job?.state === 'COMPLETING'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      job = await this.cli.job(this.jobId, signal);
    }
    const d = job ? undefined : await this.cli.jobDetail(this.jobId, signal);
    const state = job?.state ?? d?.state ?? 'GONE';
    const reason = job?.reason ?? d?.reason ?? '';
    // anything but running means our steps are gone: ended, or (requeue disabled, but an admin may) pending again
    const ended = !job || ENDED_STATES.has(state) || !HOLDING_STATES.has(state);
    if (ended) {
      this.endedReason = `job ${this.jobId} ${describeEnd(state, reason)}`;
      return { state, reason, ended, description: this.endedReason };
    }
    return { state, reason, ended };
  }

  /** steps of ours (deployment ranks, exec) still in the job */
  async ourSteps(signal?: AbortSignal): Promise<string[]> {
    const steps = await this.cli.steps(this.jobId, signal);
    return steps.filter((s) => s.step !== 'batch' && s.step !== 'extern').map((s) => `${s.stepId} ${s.name}`);
  }

  /** scancel the allocation and wait until Slurm no longer lists it as holding nodes */
  async release(): Promise<{ state: string; reason: string } | undefined> {
    if (this.released) return undefined;
    this.released = true;
    await this.cli.cancel(this.jobId);
    return waitGone(this.cli, this.jobId);
  }

  async dispose(): Promise<void> {
    try {
      // a deployment left running (it outlives the window on purpose) keeps its allocation; exec
      // steps (telemetry streams, shell cells) belong to this session and end with it
      const deploymentSteps = (await this.ourSteps()).filter((s) => !s.endsWith(` ${EXEC_STEP_NAME}`));
      if (!this.released && !this.endedReason && deploymentSteps.length === 0) await this.release();
    } catch {
      // Slurm unreachable: the job stays; the next cluster cell run finds it by name
    } finally {
      await this.login.cluster.dispose();
    }
  }
}
