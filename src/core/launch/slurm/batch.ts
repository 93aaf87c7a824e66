import type { ContainerSpec, SlurmSpec } from './spec';
import { jobNameOf, slotNames } from './spec';

/**
 * What a slurm cluster submits and runs, as text and argv: the batch script that holds the
 * allocation, and the `srun` step that runs one rank. Pure; nothing here talks to Slurm.
 *
 * Layout (as NVIDIA srt-slurm does PD+EP, src/srtctl/core/slurm.py `start_srun_process`
 * @c88ef731): one allocation, every process its own `srun --jobid --overlap` step pinned to one
 * named node. One step per rank with the rank written into its command means no task ever reads
 * `$SLURM_NODEID` — SGLang's own Slurm example expands it in the batch shell, where it is 0 for
 * every node (sgl-project/sglang docs/references/multi_node_deployment/multi_node.md@0351c1fa,
 * open fix PR #36116).
 */

/** `#SBATCH` lines of the allocation, in the order sbatch documents them */
export function sbatchDirectives(spec: SlurmSpec): string[] {
  const count = spec.nodelist?.length ?? spec.nodes ?? 1;
  const d = [`--job-name=${jobNameOf(spec.name)}`, `--nodes=${count}`];
  if (spec.nodelist) d.push(`--nodelist=${spec.nodelist.join(',')}`);
  d.push('--ntasks-per-node=1');
  // a requeued allocation would come back without our ranks (and maybe on other nodes): end it instead
  d.push('--no-requeue');
  if (spec.gpusPerNode > 0 && spec.gpuRequest === 'gres') d.push(`--gres=gpu:${spec.gpusPerNode}`);
  if (spec.gpusPerNode > 0 && spec.gpuRequest === 'gpus-per-node') d.push(`--gpus-per-node=${spec.gpusPerNode}`);
  if (spec.partition) d.push(`--partition=${spec.partition}`);
  if (spec.account) d.push(`--account=${spec.account}`);
  if (spec.qos) d.push(`--qos=${spec.qos}`);
  if (spec.timeLimit) d.push(`--time=${spec.timeLimit}`);
  // relative to the submit directory (the log dir): %x job name, %j job id
  d.push('--output=%x-%j.out');
  for (const extra of spec.sbatch ?? []) d.push(extra);
  return d;
}

/**
 * The batch script. It only holds the allocation and lists its nodes: every rank is a step
 * started from the login node, so a rank can be started, stopped and restarted on its own, and
 * the job ends when the last deployment on it stops (or the scheduler ends it).
 */
export function batchScript(spec: SlurmSpec): string {
  return [
    '#!/bin/bash',
    ...sbatchDirectives(spec).map((x) => `#SBATCH ${x}`),
    '# MoE Bench: this job holds the allocation; each rank runs as its own step, started from the',
    '# login node with `srun --jobid=$SLURM_JOB_ID --overlap --nodes=1 --ntasks=1 --nodelist=<node>`.',
    '# Node ranks and --dist-init-addr are written into each step by the plan, never taken from',
    '# $SLURM_NODEID here (in this shell it is 0 for every node).',
    'echo "moebench allocation $SLURM_JOB_ID on $SLURM_JOB_NODELIST"',
    'scontrol show hostnames "$SLURM_JOB_NODELIST"',
    'exec sleep infinity',
    '',
  ].join('\n');
}

/** pyxis flags (NVIDIA/pyxis: `--container-image` is a squashfs file when it starts with / or ./, else a registry image) */
function pyxisFlags(c: ContainerSpec): string[] {
  const f = [`--container-image=${c.image}`, '--no-container-entrypoint'];
  if (!c.mountHome) f.push('--no-container-mount-home');
  if (c.mounts?.length) f.push(`--container-mounts=${c.mounts.join(',')}`);
  if (c.workdir) f.push(`--container-workdir=${c.workdir}`);
  return f;
}

function apptainerPrefix(c: ContainerSpec): string[] {
  const p = ['apptainer', 'exec', '--nv'];
  for (const m of c.mounts ?? []) p.push('--bind', m);
  if (c.workdir) p.push('--pwd', c.workdir);
  p.push(c.image);
  return p;
}

export interface StepTarget {
  /** the job id, or a placeholder in previews */
  jobId: string;
  /** the Slurm node name the step runs on */
  host: string;
  /** the step's name (squeue -s shows it; stop and status find the step by it) */
  stepName: string;
}

/**
 * argv of the step that runs `argv` on one node of the allocation. `container: false` runs it
 * on the bare node (exec, telemetry, shell cells), whatever the cluster's container.
 */
export function stepArgv(spec: SlurmSpec, target: StepTarget, argv: readonly string[], options: { container?: boolean } = {}): string[] {
  const container = options.container === false ? undefined : spec.container;
  const out = ['srun', `--jobid=${target.jobId}`, '--overlap', '--nodes=1', '--ntasks=1', `--nodelist=${target.host}`, `--job-name=${target.stepName}`];
  if (container?.runtime === 'pyxis') out.push(...pyxisFlags(container));
  out.push(...(spec.srun ?? []));
  if (container?.runtime === 'apptainer') out.push(...apptainerPrefix(container));
  if (spec.preamble && spec.preamble.trim() !== '') out.push('bash', '-c', `${spec.preamble}\nexec "$@"`, 'moebench-preamble');
  out.push(...argv);
  return out;
}

/** the job's node count */
export function allocationSize(spec: SlurmSpec): number {
  return slotNames(spec).length;
}
