import { z } from 'zod';
import { nameSchema } from './common';

const sshNodeSchema = z.union([
  z.string().min(1),
  z
    .object({
      name: z.string().optional(),
      host: z.string().min(1),
      user: z.string().optional(),
      port: z.number().int().min(1).max(65535).optional(),
      identityFile: z.string().optional(),
      proxyJump: z.string().optional(),
    })
    .strict(),
]);

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

export const clusterSpecSchema = z.discriminatedUnion('kind', [
  z
    .object({
      name: nameSchema,
      kind: z.literal('local'),
      gpusPerNode: z.number().int().min(0).max(64).optional().describe('GPUs on this machine; detected with nvidia-smi when omitted'),
      preamble: z.string().optional().describe('shell lines run before every command (venv/conda/modules)'),
      workDir: z.string().optional(),
      doctor: doctorSpecSchema.optional(),
    })
    .strict(),
  z
    .object({
      name: nameSchema,
      kind: z.literal('sim'),
      nodes: z.union([z.number().int().min(1).max(128), z.array(nameSchema).min(1)]).default(2).describe('a count, or node names'),
      gpusPerNode: z.number().int().min(1).max(16).default(8),
      seed: z.number().int().optional().describe('seed for the emulated servers (same seed, same token and expert counts)'),
      nodeOverrides: z
        .record(z.string(), z.object({ gpus: z.number().int().min(0).max(16).optional(), sglangVersion: z.string().min(1).optional() }).strict())
        .optional()
        .describe('per-node differences to rehearse the doctor: {node3: {gpus: 7, sglangVersion: "0.5.9"}}'),
      doctor: doctorSpecSchema.optional(),
    })
    .strict(),
  z
    .object({
      name: nameSchema,
      kind: z.literal('ssh'),
      nodes: z.array(sshNodeSchema).min(1).describe('ssh_config aliases, or {host, user, port, identityFile, proxyJump}'),
      gpusPerNode: z.number().int().min(0).max(64).default(8),
      preamble: z.string().optional().describe('shell lines run before every command (venv/conda/modules)'),
      workDir: z.string().optional(),
      sshConfig: z.string().optional().describe('path of the ssh_config file (default ~/.ssh/config)'),
      knownHosts: z.string().optional().describe('path of known_hosts (default ~/.ssh/known_hosts)'),
      doctor: doctorSpecSchema.optional(),
    })
    .strict(),
]);
export type ClusterSpec = z.output<typeof clusterSpecSchema>;
