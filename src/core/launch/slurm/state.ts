import { z } from 'zod';
import { remoteProcessStateSchema } from '../shell/process';

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * What a reload needs to find a Slurm rank again: the job, the Slurm node, the step's name, and
 * the `srun` client on the login side (a shell-supervisor rank there). Validated when a record is
 * read (a record is a file a user could edit).
 */
export const slurmRankStateSchema = z.object({
  launcher: z.literal('slurm'),
  cluster: z.string(),
  node: z.string(),
  deploymentId: z.string().regex(ID),
  name: z.string().regex(ID),
  startedAt: z.string(),
  argv: z.array(z.string()),
  pgid: z.number().int().optional(),
  jobId: z.string().regex(/^[0-9]+$/),
  host: z.string().regex(ID),
  stepName: z.string().regex(ID),
  client: remoteProcessStateSchema,
});
export type SlurmRankState = z.infer<typeof slurmRankStateSchema>;
