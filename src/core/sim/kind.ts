import { z } from 'zod';
import { nameSchema } from '../util/name-schema';
import { clusterCommonFields } from '../launch/cluster-spec';
import type { ClusterKindEntry } from '../launch/kind';

export const simSpecSchema = z
  .object({
    name: clusterCommonFields.name,
    kind: z.literal('sim'),
    nodes: z.union([z.number().int().min(1).max(128), z.array(nameSchema).min(1)]).default(2).describe('a count, or node names'),
    gpusPerNode: z.number().int().min(1).max(16).default(8),
    seed: z.number().int().optional().describe('seed for the emulated servers (same seed, same token and expert counts)'),
    nodeOverrides: z
      .record(z.string(), z.object({ gpus: z.number().int().min(0).max(16).optional(), sglangVersion: z.string().min(1).optional() }).strict())
      .optional()
      .describe('per-node differences to rehearse the doctor: {node3: {gpus: 7, sglangVersion: "0.5.9"}}'),
    doctor: clusterCommonFields.doctor,
  })
  .strict();
export type SimSpec = z.output<typeof simSpecSchema>;

const nodeNames = (spec: SimSpec): string[] => (typeof spec.nodes === 'number' ? Array.from({ length: spec.nodes }, (_, i) => `node${i + 1}`) : spec.nodes);

/** `kind: sim`: emulated GPU nodes on this machine (the emulator is loaded only when one is used). */
export const simKind: ClusterKindEntry<SimSpec> = {
  kind: 'sim',
  schema: simSpecSchema,
  async create(spec) {
    const { createSimCluster } = await import('./cluster');
    return createSimCluster({ name: spec.name, nodes: nodeNames(spec), gpusPerNode: spec.gpusPerNode, seed: spec.seed, nodeOverrides: spec.nodeOverrides });
  },
  preview(spec) {
    return {
      cluster: { name: spec.name, kind: 'sim', nodes: nodeNames(spec).map((name) => ({ name, address: name, gpus: spec.gpusPerNode })) },
      notes: ['sim: each node gets its own loopback address when the cluster starts; node names stand in for them here'],
    };
  },
};
