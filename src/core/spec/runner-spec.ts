import { z } from 'zod';

/**
 * Bench spec fields that choose who generates the load: our own client (`builtin`), or SGLang's
 * / vLLM's own serving benchmark started on a cluster node. Spread into benchSpecSchema.
 */
export const RUNNER_KINDS = ['builtin', 'sglang', 'vllm'] as const;
export type RunnerKind = (typeof RUNNER_KINDS)[number];

const nodeName = z.string().min(1);

export const runnerFields = {
  runner: z.enum(RUNNER_KINDS).default('builtin').describe("builtin (MoE Bench's client), sglang (python3 -m sglang.bench_serving on a node) or vllm (vllm bench serve on a node)"),
  runnerNode: nodeName.optional().describe('cluster node that runs the sglang / vllm benchmark'),
  runnerNodes: z.array(nodeName).min(1).optional().describe('several nodes generate load at once; the workload is split over them and their results merge into one run'),
  runnerArgs: z.array(z.union([z.string(), z.number()]).transform((v) => String(v))).optional().describe('extra flags appended to the benchmark command, as written'),
  runnerPython: z.string().min(1).optional().describe('Python interpreter on the runner node (default python3)'),
};
