import type { ExecOptions, ExecResult } from '../types';
import { CommandFailedError } from '../../util/errors';

/**
 * The Slurm commands the backend uses, as argv, and parsers of what they print. Formats are the
 * ones of Slurm 22.05 (man sbatch/squeue/scontrol/scancel) as seen on Debian 12's slurm-wlm
 * 22.05.8 (slurm-launch.md §3): `sbatch --parsable` prints `jobid` or `jobid;cluster`;
 * `squeue -h -o` prints one line per job with the fields we ask for, separated by `|`;
 * `scontrol show job -o` prints one line of `Key=Value` pairs (values may hold spaces only in
 * Command/WorkDir/StdOut-like paths, so keys are found by the ` Key=` that starts each pair).
 * No `sacct`: it needs slurmdbd, which many clusters (and the test lab) do not run.
 */

/** runs argv on the machine that has the Slurm client commands (this one, or a login node) */
export type SlurmRunner = (argv: readonly string[], options?: ExecOptions) => Promise<ExecResult>;

export class SlurmCommandError extends CommandFailedError {}

/** one job as squeue shows it */
export interface SqueueJob {
  jobId: string;
  name: string;
  /** long state: PENDING, RUNNING, COMPLETING, CANCELLED, TIMEOUT, NODE_FAIL, PREEMPTED, ... */
  state: string;
  /** why it waits or ended: Resources, Priority, PartitionConfig, None, ... */
  reason: string;
  nodeCount: number;
  /** compressed hostlist, e.g. node[1-3]; empty while pending */
  nodeList: string;
  /** elapsed time as squeue prints it (0:07, 1-02:03:04) */
  elapsed: string;
  timeLimit: string;
}

/** `%i|%j|%T|%r|%D|%N|%M|%l` */
export const SQUEUE_FORMAT = '%i|%j|%T|%r|%D|%N|%M|%l';

export function parseSqueueJobs(text: string): SqueueJob[] {
  const jobs: SqueueJob[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const f = line.split('|');
    if (f.length < 8) continue;
    const [jobId, name, state, reason, nodes, nodeList, elapsed, timeLimit] = f;
    jobs.push({ jobId: jobId.trim(), name, state: state.trim(), reason: reason.trim(), nodeCount: Number(nodes) || 0, nodeList: nodeList.trim(), elapsed: elapsed.trim(), timeLimit: timeLimit.trim() });
  }
  return jobs;
}

/** one step as `squeue -h -s -o '%i|%j|%N'` shows it (`12.3|prefill-0.rank-0|node2`, `12.batch|batch|node1`) */
export interface SqueueStep {
  stepId: string;
  jobId: string;
  /** after the dot: a number, or batch / extern / interactive */
  step: string;
  name: string;
  nodeList: string;
}

export const STEP_FORMAT = '%i|%j|%N';

export function parseSqueueSteps(text: string): SqueueStep[] {
  const steps: SqueueStep[] = [];
  for (const line of text.split('\n')) {
    const f = line.split('|');
    if (f.length < 3 || !f[0].includes('.')) continue;
    const stepId = f[0].trim();
    const dot = stepId.indexOf('.');
    steps.push({ stepId, jobId: stepId.slice(0, dot), step: stepId.slice(dot + 1), name: f[1], nodeList: f[2].trim() });
  }
  return steps;
}

/** `sbatch --parsable`: `12` or `12;cluster` (man sbatch) */
export function parseSbatchParsable(stdout: string): string {
  const line = stdout.trim().split('\n').pop() ?? '';
  const id = line.split(';')[0].trim();
  if (!/^[0-9]+$/.test(id)) throw new SlurmCommandError(`sbatch printed no job id: ${JSON.stringify(stdout.trim().slice(0, 200))}`);
  return id;
}

const KNOWN_MULTIWORD = /^(Command|WorkDir|StdErr|StdIn|StdOut|Comment|Reason)$/;

/**
 * `scontrol show job -o ID` / `scontrol show node -o`: one record per line of `Key=Value` pairs.
 * A value runs until the next ` Key=` (a key is letters, digits, `/`, `:`, `_`, `.` and `-`),
 * so paths with spaces in StdOut= or Command= stay whole.
 */
export function parseScontrolRecords(text: string): Record<string, string>[] {
  const records: Record<string, string>[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('=')) continue;
    const rec: Record<string, string> = {};
    const re = /(?:^|\s)([A-Za-z][A-Za-z0-9/:_.-]*)=/g;
    const marks: { key: string; start: number; valueStart: number }[] = [];
    for (let m = re.exec(line); m; m = re.exec(line)) marks.push({ key: m[1], start: m.index, valueStart: m.index + m[0].length });
    marks.forEach((mk, i) => {
      const end = i + 1 < marks.length ? marks[i + 1].start : line.length;
      const value = line.slice(mk.valueStart, end);
      // a key inside a multi-word value (rare) would have split it: keep the first reading
      if (!(mk.key in rec) || !KNOWN_MULTIWORD.test(mk.key)) rec[mk.key] = value.trim();
    });
    if (Object.keys(rec).length) records.push(rec);
  }
  return records;
}

/** a job as `scontrol show job -o` describes it: enough to say why it is not running */
export interface JobDetail {
  jobId: string;
  name: string;
  state: string;
  reason: string;
  exitCode: string;
  nodeList: string;
  batchHost: string;
  runTime: string;
  timeLimit: string;
}

export function parseJobDetail(text: string): JobDetail | undefined {
  const rec = parseScontrolRecords(text)[0];
  if (!rec || !rec.JobId) return undefined;
  const none = (v: string | undefined): string => (v === undefined || v === '(null)' ? '' : v);
  return {
    jobId: rec.JobId,
    name: none(rec.JobName),
    state: none(rec.JobState),
    reason: none(rec.Reason),
    exitCode: none(rec.ExitCode),
    nodeList: none(rec.NodeList),
    batchHost: none(rec.BatchHost),
    runTime: none(rec.RunTime),
    timeLimit: none(rec.TimeLimit),
  };
}

/** one node of `scontrol show node -o`: where its servers are reached and how many GPUs it has */
export interface NodeDetail {
  name: string;
  address: string;
  gpus: number;
  state: string;
}

export function parseNodeDetails(text: string): NodeDetail[] {
  return parseScontrolRecords(text)
    .filter((r) => r.NodeName)
    .map((r) => ({ name: r.NodeName, address: r.NodeAddr || r.NodeHostName || r.NodeName, gpus: gpusOfGres(r.Gres ?? ''), state: r.State ?? '' }));
}

/** `gpu:8`, `gpu:h200:8(S:0-1)`, `gpu:8,shard:4` -> 8 */
export function gpusOfGres(gres: string): number {
  let n = 0;
  for (const part of gres.split(',')) {
    const m = /^gpu(?::[^:(]+)?:([0-9]+)/.exec(part.trim());
    if (m) n += Number(m[1]);
  }
  return n;
}

/** `scontrol show hostnames LIST`: one name per line */
export function parseHostnames(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** Job states after which a job holds no nodes (man squeue, JOB STATE CODES). */
export const ENDED_STATES = new Set(['BOOT_FAIL', 'CANCELLED', 'COMPLETED', 'DEADLINE', 'FAILED', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PREEMPTED', 'REVOKED', 'SPECIAL_EXIT', 'TIMEOUT']);

/** what a user reads about a job that ended without us: "TIMEOUT (time limit reached)" */
export function describeEnd(state: string, reason: string): string {
  const why: Record<string, string> = {
    TIMEOUT: 'the time limit was reached',
    PREEMPTED: 'preempted by a higher-priority job',
    NODE_FAIL: 'a node failed',
    CANCELLED: 'cancelled (scancel, by a user or an administrator)',
    BOOT_FAIL: 'a node failed to boot',
    DEADLINE: 'its deadline passed',
    OUT_OF_MEMORY: 'out of memory',
    FAILED: 'the batch script failed',
    COMPLETED: 'the batch script ended',
  };
  const base = why[state] ? `${state}: ${why[state]}` : state;
  return reason && reason !== 'None' ? `${base}; Slurm reason: ${reason}` : base;
}

/**
 * What a pending reason means (man squeue, JOB REASON CODES), for the cell. Unknown codes are
 * shown as Slurm prints them.
 */
export function describePending(reason: string): string {
  const why: Record<string, string> = {
    Resources: 'waiting for nodes to become free',
    Priority: 'other jobs of higher priority are ahead in the queue',
    PartitionNodeLimit: 'it asks more nodes than the partition allows',
    PartitionConfig: 'it asks more than the partition has (nodes, GPUs or time)',
    PartitionTimeLimit: 'its time limit exceeds the partition’s',
    ReqNodeNotAvail: 'a requested node is not available (down, drained or reserved)',
    QOSMaxNodePerJobLimit: 'it asks more nodes than its QOS allows',
    AssocGrpGRES: 'the account’s GPU limit is reached',
    Dependency: 'it waits for another job',
    BeginTime: 'its start time is in the future',
    JobHeldUser: 'held by the user (scontrol release)',
    JobHeldAdmin: 'held by an administrator',
    BadConstraints: 'its constraints cannot be met',
    InvalidAccount: 'the account is invalid',
    InvalidQOS: 'the QOS is invalid',
    None: 'not evaluated yet',
  };
  return why[reason] ? `${reason}: ${why[reason]}` : reason;
}

/** reasons that cannot resolve by waiting: the cell says so instead of waiting for hours */
export const HOPELESS_PENDING = new Set(['PartitionNodeLimit', 'PartitionConfig', 'PartitionTimeLimit', 'BadConstraints', 'InvalidAccount', 'InvalidQOS', 'QOSMaxNodePerJobLimit', 'JobHeldAdmin']);

/** args: dir script */
const SUBMIT_SCRIPT = 'd=$1; case $d in "~") d=$HOME;; "~/"*) d=$HOME/${d#"~/"};; esac; mkdir -p -- "$d" && cd -- "$d" && printf "%s" "$2" | sbatch --parsable';

/** the Slurm calls, over a runner, with the errors a user can act on */
export class SlurmCli {
  constructor(
    private readonly run: SlurmRunner,
    /** environment for every Slurm command (SLURM_CONF, ...) */
    private readonly env: Readonly<Record<string, string>> = {},
    /** where the commands run, for messages */
    private readonly where = 'this machine',
  ) {}

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    return this.run(argv, { ...options, env: { ...this.env, ...(options.env ?? {}) } });
  }

  private async ok(argv: readonly string[], options: ExecOptions = {}): Promise<string> {
    const r = await this.exec(argv, { captureLimitBytes: 1024 * 1024, ...options });
    if (r.exitCode !== 0) {
      const detail = (r.stderr.trim() || r.stdout.trim() || `exit ${r.exitCode ?? r.signal}`).split('\n').slice(-4).join('\n');
      const missing = r.exitCode === 127 ? ' (is the Slurm client installed there, and on PATH?)' : '';
      throw new SlurmCommandError(`${argv[0]} on ${this.where} failed${missing}: ${detail}`, {}, 'Check that the Slurm commands work there (sinfo), and the cluster cell’s partition/account/qos.');
    }
    return r.stdout;
  }

  /**
   * `sbatch --parsable` with the script on stdin, submitted from `logDir` (created; `~/` is the
   * login user's home) so the batch output lands there. Script and directory reach bash as
   * arguments, never pasted into its text.
   */
  async submit(script: string, logDir: string, signal?: AbortSignal): Promise<string> {
    const out = await this.ok(['bash', '-c', SUBMIT_SCRIPT, 'moebench-sbatch', logDir, script], { signal });
    return parseSbatchParsable(out);
  }

  async job(jobId: string, signal?: AbortSignal): Promise<SqueueJob | undefined> {
    // -t all: a job that just ended is still listed (until MinJobAge), with its end state
    const out = await this.ok(['squeue', '-h', '-t', 'all', '-j', jobId, '-o', SQUEUE_FORMAT], { signal }).catch((err: unknown) => {
      // squeue exits 1 with "Invalid job id specified" once a job is purged
      if (err instanceof SlurmCommandError && /Invalid job id/i.test(err.message)) return '';
      throw err;
    });
    return parseSqueueJobs(out).find((j) => j.jobId === jobId);
  }

  /** the user's own jobs of this name, newest first */
  async jobsNamed(name: string, signal?: AbortSignal): Promise<SqueueJob[]> {
    const out = await this.ok(['squeue', '-h', '--me', '-n', name, '-o', SQUEUE_FORMAT], { signal });
    return parseSqueueJobs(out).sort((a, b) => Number(b.jobId) - Number(a.jobId));
  }

  async steps(jobId: string, signal?: AbortSignal): Promise<SqueueStep[]> {
    const out = await this.ok(['squeue', '-h', '-s', '-j', jobId, '-o', STEP_FORMAT], { signal }).catch((err: unknown) => {
      if (err instanceof SlurmCommandError && /Invalid job id/i.test(err.message)) return '';
      throw err;
    });
    return parseSqueueSteps(out);
  }

  async jobDetail(jobId: string, signal?: AbortSignal): Promise<JobDetail | undefined> {
    const r = await this.exec(['scontrol', 'show', 'job', '-o', jobId], { signal, captureLimitBytes: 256 * 1024 });
    if (r.exitCode !== 0) return undefined;
    return parseJobDetail(r.stdout);
  }

  async hostnames(nodeList: string, signal?: AbortSignal): Promise<string[]> {
    return parseHostnames(await this.ok(['scontrol', 'show', 'hostnames', nodeList], { signal }));
  }

  async nodes(nodeList: string, signal?: AbortSignal): Promise<NodeDetail[]> {
    return parseNodeDetails(await this.ok(['scontrol', 'show', 'node', '-o', nodeList], { signal }));
  }

  /** `scancel [--signal=SIG] ID` (ID may be JOB.STEP) */
  async cancel(id: string, options: { signal?: string; abort?: AbortSignal } = {}): Promise<void> {
    const argv = ['scancel', ...(options.signal ? [`--signal=${options.signal}`] : []), id];
    await this.ok(argv, { signal: options.abort });
  }

  /** `sinfo` of a partition: node count per state, for the cluster cell */
  async partitionSummary(partition: string | undefined, signal?: AbortSignal): Promise<{ partition: string; state: string; nodes: number; gres: string }[]> {
    const out = await this.ok(['sinfo', '-h', ...(partition ? ['-p', partition] : []), '-o', '%P|%t|%D|%G'], { signal });
    return out
      .split('\n')
      .filter((l) => l.includes('|'))
      .map((l) => {
        const [p, state, nodes, gres] = l.split('|');
        return { partition: p.replace(/\*$/, ''), state, nodes: Number(nodes) || 0, gres };
      });
  }
}
