import { z } from 'zod';
import { workloadFields, workloadIssues } from '../load/workloads/spec';
import { DATASET_NAMES } from '../load/datasets';
import { runnerFields } from './runner-spec';
import { sweepFields } from './sweep-spec';
import { faultsFields } from './faults-spec';
import { NODE_BINARY_PATTERN } from '../load/client-nodes';

/** RFC 9110 token, and the characters Node refuses in a header value (CR/LF would split the request) */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

const nameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'use letters, digits, ".", "_" or "-" (max 63)');
const rate = z.union([z.number().positive(), z.literal('inf')]);
const oneOrMany = <T extends z.ZodType>(item: T) => z.union([item, z.array(item).min(1)]);

export const benchSpecSchema = z
  .object({
    name: nameSchema.describe('names the runs; report cells refer to it'),
    target: z
      .string()
      .min(1)
      .refine((t) => !/^https?:\/\//i.test(t) || isHttpUrl(t), 'not a valid http(s) URL')
      .describe('a deployment name from a deploy cell, or a URL such as http://127.0.0.1:30000'),
    api: z.enum(['generate', 'completions', 'chat']).optional().describe('SGLang /generate, /v1/completions or /v1/chat/completions; default: /generate for SGLang, completions otherwise'),
    model: z.string().optional().describe('model name sent to the OpenAI APIs (default: first of /v1/models)'),
    headers: z
      .record(z.string().regex(HEADER_NAME, "a header name is letters, digits and !#$%&'*+-.^_`|~"), z.string().refine((v) => !BAD_HEADER_VALUE.test(v), 'a header value cannot hold line breaks, NUL or characters beyond Latin-1'))
      .optional()
      .describe('extra request headers; write a credential as ${secret:NAME} (read from the secret store or MOEBENCH_SECRET_NAME, never stored)'),
    metrics: z.enum(['sglang', 'vllm']).default('sglang').describe("whose metric definitions: SGLang bench_serving's (default) or vLLM bench serve's"),
    workload: z
      .object({
        dataset: z.enum(DATASET_NAMES).default('random'),
        path: z.string().optional().describe('dataset file (sharegpt, gsm8k, mmlu, alpaca-eval, jsonl), relative to the notebook'),
        numPrompts: z.number().int().positive().default(1000),
        inputLen: z.number().int().positive().default(1024),
        outputLen: z.number().int().positive().default(1024),
        rangeRatio: z.number().min(0).max(1).default(0).describe("SGLang: lengths uniform in [max(1, L·r), L]; with rangeSemantics: vllm, in [L(1−r), L(1+r)]"),
        rangeSemantics: z.enum(['sglang', 'vllm']).default('sglang'),
        seed: z.number().int().default(42),
        cacheBust: z.boolean().default(true).describe('prefix prompts with a per-run salt so a repeated run cannot hit a warm prefix cache'),
        vocabSize: z.number().int().positive().optional().describe('random-ids vocabulary (default 32000)'),
        sharegptOutputLen: z.number().int().min(4).optional(),
        sharegptContextLen: z.number().int().positive().optional(),
        sharedPrefix: z
          .object({
            groups: z.number().int().positive().optional(),
            promptsPerGroup: z.number().int().positive().optional(),
            systemPromptLen: z.number().int().positive().optional(),
            questionLen: z.number().int().positive().optional(),
            outputLen: z.number().int().positive().optional(),
            rangeRatio: z.number().min(0).max(1).optional(),
            ordered: z.boolean().optional(),
          })
          .strict()
          .optional(),
        ignoreEos: z.boolean().optional().describe('default true (bench_serving), false for gsm8k and mmlu so answers can end'),
        temperature: z.number().min(0).default(0),
        topP: z.number().gt(0).max(1).optional(),
        extraBody: z.record(z.string(), z.unknown()).optional().describe('merged into every request body'),
        // traces with prefix structure and multi-turn sessions (src/core/load/workloads/spec.ts)
        ...workloadFields,
      })
      .strict()
      .default({ dataset: 'random', numPrompts: 1000, inputLen: 1024, outputLen: 1024, rangeRatio: 0, rangeSemantics: 'sglang', seed: 42, cacheBust: true, temperature: 0 }),
    load: z
      .object({
        requestRate: oneOrMany(rate).default('inf').describe('req/s; "inf" sends everything at once; a list is a sweep'),
        maxConcurrency: oneOrMany(z.number().int().positive()).optional().describe('closed loop: at most this many in flight; a list is a sweep'),
        arrival: z.enum(['poisson', 'constant']).default('poisson'),
        burstiness: z.union([z.number().positive(), z.literal('inf')]).default(1).describe('gamma shape of the gaps: 1 = Poisson, < 1 burstier'),
        rescaleSchedule: z.boolean().default(false).describe("vLLM's schedule: gaps rescaled so the last request lands at N / rate"),
        durationSec: z.number().positive().optional().describe('stop sending after this long (instead of after numPrompts)'),
        trace: z.string().optional().describe('JSONL with "timestamp" (ms) per request, optionally input_length/output_length'),
        traceTimeScale: z.number().positive().optional().describe('2 = replay at half speed'),
      })
      .strict()
      .default({ requestRate: 'inf', arrival: 'poisson', burstiness: 1, rescaleSchedule: false }),
    warmup: z.number().int().min(0).default(1).describe('warmup requests (first prompt, at most 32 output tokens), excluded from the metrics'),
    workers: z.number().int().positive().max(256).optional().describe('load threads driving this cell (default: one per ~1,000 streams or req/s, up to cores - 1)'),
    // --- client nodes (issue 14 part 5; src/core/cells/bench-clients.ts)
    clients: z
      .object({
        nodes: z.array(z.string().min(1)).min(1).describe('cluster nodes that run the load (each gets the bundled CLI over SFTP)'),
        workers: z.number().int().positive().max(256).default(1).describe('load threads on each client node; each is one slice of the schedule and of the concurrency'),
        node: z
          .string()
          .regex(NODE_BINARY_PATTERN, 'a command name or an absolute path (letters, digits, . _ + @ -)')
          .default('node')
          .describe('Node.js 20+ on the client nodes: a command name on their PATH or an absolute path'),
        cluster: z.string().optional().describe('the cluster of the nodes (default: the deployment\'s, or the only cluster)'),
      })
      .strict()
      .optional()
      .describe('drive the load from cluster nodes instead of this machine: the records stream back into one run with one set of metrics'),
    slo: z
      .object({ ttftMs: z.number().positive().optional(), tpotMs: z.number().positive().optional(), e2eMs: z.number().positive().optional() })
      .strict()
      .optional()
      .describe('goodput: completed requests meeting every SLO, per second'),
    idleTimeoutSec: z.number().positive().max(3600).optional().describe('a stream with no data for this long fails as stalled and the run goes on (default: 300 × slo.tpotMs or 3 × slo.ttftMs, at least 60 s, at most 600 s)'),
    percentiles: z.array(z.number().min(0).max(100)).min(1).default([90, 95, 99]),
    tags: z.record(z.string(), z.string()).optional(),
    profile: z
      .object({
        steps: z.array(z.number().int().min(0)).min(1).optional().describe('sweep step indexes to profile (default: the first)'),
        numSteps: z.number().int().positive().optional().describe('forward passes to record (the server stops by itself); default: the whole step'),
        activities: z.array(z.enum(['CPU', 'GPU', 'MEM', 'CUDA_PROFILER'])).min(1).optional().describe('torch profiler activities (default CPU, GPU)'),
      })
      .strict()
      .optional()
      .describe("SGLang's torch profiler (/start_profile, /stop_profile) around a step: traces from every rank's node into .moebench/profiles, a top-kernels table and the GEMM / attention / all-to-all split"),
    collect: z.array(z.enum(['gpus', 'serverMetrics', 'experts', 'gpuDeep', 'nic', 'schedLogs'])).optional().describe('telemetry joined to the runs (needs a deployment target): gpus (nvidia-smi stream), serverMetrics (/metrics), experts (expert load), gpuDeep (DCGM SM/tensor/DRAM/PCIe/NVLink, nvidia-smi fallback), nic (InfiniBand/RoCE counters), schedLogs (SGLang scheduler log lines per rank)'),
    // remote runners, server-configuration sweeps and fault injection (src/core/runners, sweep, faults)
    ...runnerFields,
    ...sweepFields,
    ...faultsFields,
  })
  .strict()
  .superRefine((spec, ctx) => {
    const rate = spec.load.requestRate;
    const rateSet = Array.isArray(rate) ? rate.length > 1 || rate[0] !== 'inf' : rate !== 'inf';
    for (const issue of workloadIssues(spec.workload, spec.load.trace !== undefined, rateSet)) ctx.addIssue({ code: 'custom', path: ['workload', ...issue.path], message: issue.message });
    const w = spec.workload;
    const own = w.trace !== undefined ? 'trace' : w.conversations !== undefined ? 'conversations' : w.agents !== undefined ? 'agents' : undefined;
    if (own && spec.runner !== 'builtin') ctx.addIssue({ code: 'custom', path: ['workload', own], message: `${spec.runner}'s own benchmark cannot replay this workload (prompts from hash_ids, dependent turns): use runner: builtin` });
  });

export type BenchSpec = z.output<typeof benchSpecSchema>;

/** One sweep step: a rate and a concurrency. */
export interface SweepStep {
  index: number;
  label: string;
  requestRate: number;
  maxConcurrency?: number;
}

/** A list in requestRate or maxConcurrency is a sweep; both lists give their product. */
export function sweepSteps(load: BenchSpec['load'], workload?: { trace?: string; conversations?: unknown; agents?: unknown }): SweepStep[] {
  // a workload trace sets its own times, like load.trace; sessions start by their own rule
  if (workload?.trace !== undefined) load = { ...load, trace: workload.trace };
  const sessions = workload?.conversations !== undefined || workload?.agents !== undefined;
  const rates = (Array.isArray(load.requestRate) ? load.requestRate : [load.requestRate]).map((r) => (r === 'inf' ? Infinity : r));
  const concs: (number | undefined)[] = load.maxConcurrency === undefined ? [undefined] : Array.isArray(load.maxConcurrency) ? load.maxConcurrency : [load.maxConcurrency];
  const steps: SweepStep[] = [];
  for (const r of rates) {
    for (const c of concs) {
      const parts: string[] = [];
      if (load.trace === undefined && !sessions && (Number.isFinite(r) || rates.length > 1)) parts.push(`rate ${Number.isFinite(r) ? r : 'inf'}`);
      if (c !== undefined) parts.push(`concurrency ${c}`);
      const base = load.trace !== undefined ? 'trace' : sessions ? 'sessions' : undefined;
      steps.push({ index: steps.length, label: base === 'trace' ? 'trace' : base ? [base, ...parts].join(', ') : parts.join(', ') || 'all at once', requestRate: r, maxConcurrency: c });
    }
  }
  return steps;
}
