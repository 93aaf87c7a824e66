import { z } from 'zod';
import { nameSchema } from '../util/name-schema';


/** `doctor:` — the preflight checks of src/core/doctor, run on every node after the login check */
export const doctorSpecSchema = z.union([
  z.boolean(),
  z
    .object({
      modelPath: z.string().min(1).optional().describe('a path on the nodes whose filesystem must hold the model (free space is checked there)'),
      modelSizeGB: z.number().positive().optional().describe('GB the model needs on disk'),
      engine: z.enum(['sglang', 'vllm']).default('sglang').describe("the engine's Python package whose version is compared across nodes"),
      ports: z.array(z.number().int().min(1).max(65535)).optional().describe('ports the deployment will listen on; each must be free'),
      deepepSmoke: z.array(z.string().min(1)).min(1).optional().describe('argv of a DeepEP smoke test run on every node, e.g. [python3, tests/test_low_latency.py]'),
      failOn: z.enum(['error', 'mismatch', 'never']).default('error').describe('fail the cell on an error (default), on any difference between nodes, or never'),
    })
    .strict(),
]);
export type DoctorSpec = z.output<typeof doctorSpecSchema>;

/** fields every cluster kind's cell has (launch/<kind>/kind.ts adds its own) */
export const clusterCommonFields = {
  name: nameSchema,
  doctor: doctorSpecSchema.optional(),
};

