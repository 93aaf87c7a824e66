import { z } from 'zod';
import { clusterCommonFields } from '../cluster-spec';
import type { ClusterKindEntry } from '../kind';

export const localSpecSchema = z
  .object({
    name: clusterCommonFields.name,
    kind: z.literal('local'),
    gpusPerNode: z.number().int().min(0).max(64).optional().describe('GPUs on this machine; detected with nvidia-smi when omitted'),
    preamble: z.string().optional().describe('shell lines run before every command (venv/conda/modules)'),
    workDir: z.string().optional(),
    doctor: clusterCommonFields.doctor,
  })
  .strict();
export type LocalSpec = z.output<typeof localSpecSchema>;

/** `kind: local`: this machine, through the shell supervisor. */
export const localKind: ClusterKindEntry<LocalSpec> = {
  kind: 'local',
  schema: localSpecSchema,
  async create(spec) {
    const { LocalCluster, detectLocalGpus } = await import('./local-cluster');
    return new LocalCluster(spec.name, spec.gpusPerNode ?? (await detectLocalGpus()), spec.preamble, spec.workDir);
  },
  preview(spec) {
    const gpus = spec.gpusPerNode ?? 8;
    const notes = spec.gpusPerNode === undefined ? ['local: GPUs are detected when the cluster cell runs; this preview assumes 8 (set gpusPerNode to change it)'] : [];
    return { cluster: { name: spec.name, kind: 'local', nodes: [{ name: 'local', address: '127.0.0.1', gpus }] }, notes };
  },
};
