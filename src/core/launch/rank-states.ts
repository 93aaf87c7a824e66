import { z } from 'zod';
import { remoteProcessStateSchema } from './shell/process';
import { slurmRankStateSchema } from './slurm/state';

/**
 * The persisted rank state of every launcher (a deployment record holds one per rank). A record
 * is a file a user could edit, so it is validated against its launcher's schema when read, before
 * anything in it reaches a node. A launcher with its own state adds its schema here.
 */
export const rankStateSchema = z.union([remoteProcessStateSchema, slurmRankStateSchema]);
