import { z } from 'zod';
import { nameSchema } from '../../util/name-schema';
import { clusterCommonFields } from '../cluster-spec';
import { sshHostFields } from '../ssh/kind';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Slurm time formats (man sbatch --time): M, M:S, H:M:S, D-H, D-H:M, D-H:M:S, or UNLIMITED/INFINITE */
const TIME = /^(?:[0-9]+(?::[0-9]{1,2}){0,2}|[0-9]+-[0-9]{1,2}(?::[0-9]{1,2}){0,2}|UNLIMITED|INFINITE|unlimited|infinite)$/;
/** a Slurm name (partition, account, qos, node): what sinfo/sacctmgr accept, nothing a shell or #SBATCH line could misread */
const slurmName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'use letters, digits, ".", "_" or "-"');
/** one option as `--name` or `--name=value` (one line, no shell meaning: it is passed as one argv token / #SBATCH line) */
const optionToken = z
  .string()
  .regex(/^--[A-Za-z][A-Za-z0-9-]*(?:=[^\n\r]*)?$/, 'write one option per item as --name or --name=value')
  .describe('a long option of sbatch/srun, e.g. --exclusive, --constraint=h200');

const sshLogin = z
  .object({
    ssh: z.union([
      z.string().min(1),
      z.object(sshHostFields).strict(),
    ]),
  })
  .strict();

export const containerSchema = z
  .object({
    runtime: z.enum(['pyxis', 'apptainer']).default('pyxis').describe('pyxis/enroot srun flags (--container-image), or `apptainer exec`'),
    image: z
      .string()
      .min(1)
      .regex(/^[^\s]+$/, 'an image reference has no spaces')
      .describe('pyxis: registry image (nvcr.io#nvidia/…, lmsysorg/sglang:…) or a .sqsh path; apptainer: a .sif path or docker:// URI'),
    mounts: z
      .array(z.string().regex(/^[^\s,:]+:[^\s,:]+(?::(?:ro|rw))?$/, 'write host:container or host:container:ro'))
      .optional()
      .describe('bind mounts, host:container[:ro] (model and cache directories)'),
    workdir: z.string().min(1).optional().describe('working directory inside the container'),
    mountHome: z.boolean().default(false).describe('pyxis: mount the home directory into the container (off, like srt-slurm)'),
  })
  .strict();
export type ContainerSpec = z.output<typeof containerSchema>;

export const slurmSpecSchema = z
  .object({
    name: clusterCommonFields.name,
    kind: z.literal('slurm'),
    login: z
      .union([z.literal('local'), sshLogin])
      .default('local')
      .describe('where the Slurm commands run: `local` (this machine is a login node), or {ssh: alias | {host, user, port, identityFile, proxyJump}}'),
    partition: slurmName.optional().describe('sbatch --partition'),
    account: slurmName.optional().describe('sbatch --account'),
    qos: slurmName.optional().describe('sbatch --qos'),
    timeLimit: z.string().regex(TIME, 'use a Slurm time: minutes, HH:MM:SS or D-HH:MM:SS').optional().describe('sbatch --time (default: the partition’s)'),
    nodes: z.number().int().min(1).max(4096).optional().describe('how many nodes to allocate; deploy cells name them node1..nodeN'),
    nodelist: z.array(slurmName).min(1).optional().describe('exactly these nodes (sbatch --nodelist); deploy cells use their names'),
    gpusPerNode: z.number().int().min(0).max(64).default(8),
    gpuRequest: z
      .enum(['gres', 'gpus-per-node', 'none'])
      .default('gres')
      .describe('how GPUs are asked for: --gres=gpu:N (default), --gpus-per-node=N (some clusters refuse one or the other), or not at all'),
    container: containerSchema.optional().describe('run every rank in this container image; omitted: the nodes’ own environment'),
    sbatch: z.array(optionToken).optional().describe('extra #SBATCH directives, e.g. [--exclusive, --constraint=h200]'),
    srun: z.array(optionToken).optional().describe('extra options for every srun step, e.g. [--mpi=pmix]'),
    env: z
      .record(z.string().regex(ENV_NAME, 'an environment variable name'), z.string())
      .optional()
      .describe('environment of the Slurm commands and every step (SLURM_CONF, …)'),
    preamble: z.string().optional().describe('shell lines run in every step before its command (module load, venv)'),
    logDir: z.string().min(1).optional().describe('directory on the login node for the batch job’s output (default ~/.moebench/slurm)'),
    doctor: clusterCommonFields.doctor,
  })
  .strict()
  .superRefine((spec, ctx) => {
    if (spec.nodes === undefined && spec.nodelist === undefined) ctx.addIssue({ code: 'custom', path: ['nodes'], message: 'say how many nodes to allocate (nodes: N) or which (nodelist: [...])' });
    if (spec.nodes !== undefined && spec.nodelist !== undefined && spec.nodes !== spec.nodelist.length) {
      ctx.addIssue({ code: 'custom', path: ['nodes'], message: `nodes: ${spec.nodes} disagrees with the ${spec.nodelist.length} names of nodelist (give one of them)` });
    }
    if (spec.nodelist && new Set(spec.nodelist).size !== spec.nodelist.length) ctx.addIssue({ code: 'custom', path: ['nodelist'], message: 'a node is listed twice' });
  });
export type SlurmSpec = z.output<typeof slurmSpecSchema>;

/** the names deploy cells use: the nodelist's, else node1..nodeN (mapped to the allocation in hostlist order) */
export function slotNames(spec: Pick<SlurmSpec, 'nodes' | 'nodelist'>): string[] {
  if (spec.nodelist) return [...spec.nodelist];
  return Array.from({ length: spec.nodes ?? 1 }, (_, i) => `node${i + 1}`);
}

/** the job's name: how a reload finds the allocation again (squeue --me -n) */
export function jobNameOf(clusterName: string): string {
  return `moebench-${clusterName}`;
}

export { nameSchema };
