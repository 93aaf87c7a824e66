import { z } from 'zod';
import { parseSpec, type YamlSource } from './yaml-spec';
import { KNOWN_MODEL_IDS } from './models';
import { isVersionText } from '../util/version';

/**
 * `moebench-deploy`: one deployment, written the way the SGLang team describes theirs (prefill
 * and decode groups of nodes, DP attention, DeepEP, EPLB, TBO, a router in front).
 *
 * The schema records only what the user wrote: every default is applied by `resolveDeployment`
 * (resolve.ts), which also remembers where each setting came from so messages can point at the
 * line. Objects are strict: an unknown key is an error, so typos never silently do nothing.
 * Sections marked "overridable" may appear at the top level (for every group) and inside a group
 * (for that group only); the group's keys win key by key.
 */

const positiveInt = z.number().int().min(1);
const port = z.number().int().min(1).max(65535);
/** YAML turns `1` and `true` into numbers and booleans; flags and env values are strings */
const scalarText = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const envMap = z.record(z.string().regex(ENV_NAME, 'environment variable names use letters, digits and "_" and do not start with a digit'), scalarText);
const argList = z.array(scalarText);

export const ROLES = ['unified', 'prefill', 'decode'] as const;
export type GroupRole = (typeof ROLES)[number];

export const parallelSchema = z
  .object({
    tp: positiveInt.optional().describe('tensor-parallel size of one instance (all its GPUs across its nodes)'),
    dp: positiveInt.optional().describe('data-parallel size; with dpAttention, the number of attention DP groups'),
    ep: positiveInt.optional().describe('expert-parallel size (SGLang forces it to tp under DeepEP)'),
    pp: positiveInt.optional().describe('pipeline-parallel size'),
    dpAttention: z.boolean().optional().describe('--enable-dp-attention'),
    moeDenseTp: positiveInt.optional().describe('--moe-dense-tp-size: 1 runs the dense MLP layers data-parallel'),
    dpLmHead: z.boolean().optional().describe('--enable-dp-lm-head (needs dpAttention)'),
  })
  .strict();

export const A2A_BACKENDS = [
  // SGLang --moe-a2a-backend
  'none', 'deepep', 'mooncake', 'nixl', 'mori', 'ascend_fuseep', 'flashinfer', 'megamoe', 'ascend_tp',
  // on SGLang main after the catalog's source (fields/exec_.py@01d795f8aa71 ExecMoe.moe_a2a_backend)
  'deepep_v2',
  // vLLM --all2all-backend (deepep there is spelled by mode: deepep_high_throughput / deepep_low_latency)
  'pplx', 'allgather_reducescatter', 'naive', 'flashinfer_all2allv',
] as const;

export const eplbSchema = z.preprocess(
  (v) => (typeof v === 'boolean' ? { enabled: v } : v),
  z
    .object({
      enabled: z.boolean().optional().describe('--enable-eplb (default true when the eplb section is present)'),
      rebalanceIterations: positiveInt.optional().describe('--eplb-rebalance-num-iterations (SGLang default 1000)'),
      algorithm: z.enum(['auto', 'deepseek', 'deepseek_hierarchical', 'deepseek_vec', 'deepseek_vec_hierarchical', 'elasticity_aware', 'elasticity_aware_hierarchical']).optional(),
      layersPerChunk: positiveInt.optional().describe('--eplb-rebalance-layers-per-chunk'),
      minRebalancingUtilization: z.number().min(0).max(1).optional().describe('--eplb-min-rebalancing-utilization-threshold'),
      recorderMode: z.enum(['stat', 'stat_approx', 'per_pass', 'per_token']).optional().describe('--expert-distribution-recorder-mode'),
      windowSize: positiveInt.optional().describe('vLLM eplb window_size'),
    })
    .strict(),
);

export const moeSchema = z
  .object({
    a2a: z.enum(A2A_BACKENDS).optional().describe('all-to-all backend: SGLang --moe-a2a-backend, vLLM --all2all-backend'),
    mode: z.enum(['normal', 'low_latency', 'auto']).optional().describe('--deepep-mode (default: normal on prefill, low_latency on decode)'),
    redundantExperts: z.number().int().min(0).optional().describe('--ep-num-redundant-experts'),
    initExpertLocation: z.string().min(1).optional().describe('--init-expert-location: trivial, or a .json/.pt statistics file'),
    eplb: eplbSchema.optional(),
    dispatchAlgorithm: z.enum(['static', 'dynamic', 'fake', 'lp', 'random']).optional().describe('--ep-dispatch-algorithm'),
    tbo: z.boolean().optional().describe('--enable-two-batch-overlap (vLLM: --enable-dbo)'),
    deepGemm: z.boolean().optional().describe('JIT DeepGEMM kernels (env SGLANG_ENABLE_JIT_DEEPGEMM / SGL_ENABLE_JIT_DEEPGEMM, vLLM VLLM_USE_DEEP_GEMM)'),
    maxDispatchTokensPerRank: positiveInt.optional().describe('env SGLANG_DEEPEP_NUM_MAX_DISPATCH_TOKENS_PER_RANK (DeepEP low-latency buffer, at most 1024)'),
    runnerBackend: z.string().min(1).optional().describe('--moe-runner-backend'),
    deepepConfig: z.string().min(1).optional().describe('--deepep-config (inline JSON or a file path)'),
  })
  .strict();

export const memorySchema = z
  .object({
    fraction: z.number().gt(0).lt(1).optional().describe('--mem-fraction-static (vLLM --gpu-memory-utilization)'),
    chunkedPrefill: z.number().int().refine((v) => v === -1 || v > 0, 'a positive token count, or -1 to disable chunking').optional().describe('--chunked-prefill-size, the GLOBAL value: SGLang divides it by dp under DP attention'),
    maxRunningRequests: positiveInt.optional().describe('--max-running-requests (vLLM --max-num-seqs)'),
    maxTotalTokens: positiveInt.optional().describe('--max-total-tokens'),
    maxPrefillTokens: positiveInt.optional().describe('--max-prefill-tokens (vLLM --max-num-batched-tokens)'),
    contextLength: positiveInt.optional().describe('--context-length (vLLM --max-model-len)'),
    pageSize: positiveInt.optional().describe('--page-size'),
    cudaGraphBatchSizes: z.array(positiveInt).min(1).optional().describe('decode CUDA-graph batch sizes (per DP rank under DP attention)'),
    cudaGraphMaxBs: positiveInt.optional().describe('largest decode CUDA-graph batch size'),
    disableCudaGraph: z.boolean().optional(),
    disableRadixCache: z.boolean().optional().describe('--disable-radix-cache (vLLM --no-enable-prefix-caching)'),
  })
  .strict();

export const serverSchema = z
  .object({
    host: z.string().min(1).optional().describe('bind address (default 0.0.0.0 on ssh clusters, the node address on sim/local); node_address = each node its own address, like --host ${node_ip}'),
    trustRemoteCode: z.boolean().optional(),
    watchdogTimeoutSec: z.number().positive().optional().describe('--watchdog-timeout'),
    decodeLogInterval: positiveInt.optional().describe('--decode-log-interval'),
    enableMetrics: z.boolean().optional().describe('--enable-metrics (Prometheus /metrics on the server port)'),
    attentionBackend: z.string().min(1).optional().describe('--attention-backend'),
    numReservedDecodeTokens: positiveInt.optional().describe('--num-reserved-decode-tokens'),
    python: z.string().min(1).optional().describe('Python interpreter on the nodes (default python3)'),
  })
  .strict();

export const portsSchema = z
  .object({
    server: port.optional().describe('HTTP port of each server (default 30000)'),
    distInit: port.optional().describe('port of --dist-init-addr on the rank-0 node (default 5757); DP attention also uses the next 6'),
    bootstrap: port.optional().describe('--disaggregation-bootstrap-port of prefill servers (default 8998)'),
  })
  .strict();

export const transferSchema = z
  .object({
    backend: z.enum(['mooncake', 'nixl', 'ascend', 'fake', 'mori', 'mooncake_tcp']).optional().describe('--disaggregation-transfer-backend (default mooncake)'),
    ibDevices: z.union([z.array(z.string().min(1)).min(1), z.string().min(1)]).optional().describe('--disaggregation-ib-device: names (joined with commas), or a JSON map / file'),
  })
  .strict();

const overridable = {
  moe: moeSchema.optional(),
  memory: memorySchema.optional(),
  server: serverSchema.optional(),
  ports: portsSchema.optional(),
  transfer: transferSchema.optional(),
  env: envMap.optional(),
};

export const groupSchema = z
  .object({
    nodes: z.array(z.string().min(1)).min(1).describe('cluster node names; split evenly over the replicas'),
    replicas: positiveInt.optional().describe('independent server instances in this group (default 1)'),
    gpusPerNode: positiveInt.optional().describe('GPUs each instance uses on a node (default: all of the node)'),
    baseGpuId: z.number().int().min(0).optional().describe('--base-gpu-id, to share a node between groups'),
    parallel: parallelSchema.optional(),
    ...overridable,
    extraArgs: argList.optional().describe('flags appended to this group\'s server command, as written'),
  })
  .strict();

export const ROUTER_POLICIES = ['random', 'round_robin', 'cache_aware', 'power_of_two', 'bucket', 'manual', 'consistent_hashing', 'prefix_hash'] as const;

export const routerSchema = z
  .object({
    enabled: z.boolean().optional().describe('default: on for PD and for several unified replicas'),
    kind: z.enum(['sglang_router', 'mini_lb']).optional().describe('default: sglang_router from SGLang 0.4.8 on, mini_lb before'),
    node: z.string().min(1).optional().describe('node that runs the router (default: the first prefill / unified node)'),
    host: z.string().min(1).optional().describe('bind address of the router (default as for servers); node_address = the router node\'s address'),
    port: port.optional().describe('router port (default 8000; never 30000, which the servers use)'),
    policy: z.enum(ROUTER_POLICIES).optional(),
    prefillPolicy: z.enum(ROUTER_POLICIES).optional(),
    decodePolicy: z.enum(ROUTER_POLICIES).optional(),
    env: envMap.optional(),
    extraArgs: argList.optional(),
  })
  .strict();

/** top-level extraArgs: a list for every server, or per role */
export const extraArgsSchema = z.preprocess(
  (v) => (Array.isArray(v) ? { all: v } : v),
  z
    .object({
      all: argList.optional(),
      unified: argList.optional(),
      prefill: argList.optional(),
      decode: argList.optional(),
      router: argList.optional(),
    })
    .strict(),
);

export const engineSchema = z
  .object({
    kind: z.enum(['sglang', 'vllm']).optional().describe('default sglang'),
    version: z
      .union([z.string(), z.number()])
      .transform((v) => String(v))
      .refine(isVersionText, 'write a release like "0.5.15" or "0.4.6.post2", or "latest"')
      .optional()
      .describe('engine release; flag spellings follow it (default: the newest the catalog knows)'),
  })
  .strict();

export const deploySpecSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'use letters, digits, ".", "_" or "-" (max 63)'),
    cluster: z.string().min(1).describe('name of a moebench-cluster cell'),
    engine: engineSchema.optional(),
    model: z.string().min(1).describe('model path on the nodes, or a Hugging Face id'),
    servedModelName: z.string().min(1).optional(),
    modelHint: z.enum(KNOWN_MODEL_IDS).optional().describe('known model family, for expert-count checks'),
    routedExperts: positiveInt.optional().describe('routed experts per MoE layer, when the model is not a known one'),
    modelShape: z
      .object({
        moeIntermediateSize: positiveInt.describe("config.json moe_intermediate_size"),
        hiddenSize: positiveInt.optional().describe('config.json hidden_size'),
        fp8BlockN: positiveInt.optional().describe('quantization_config.weight_block_size[0] of a block-FP8 checkpoint'),
        fp8BlockK: positiveInt.optional().describe('quantization_config.weight_block_size[1] of a block-FP8 checkpoint'),
      })
      .strict()
      .optional()
      .describe('checkpoint shape facts for models MoE Bench does not know (TP-size checks)'),
    unified: groupSchema.optional(),
    prefill: groupSchema.optional(),
    decode: groupSchema.optional(),
    ...overridable,
    router: routerSchema.optional(),
    extraArgs: extraArgsSchema.optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const pd = spec.prefill !== undefined || spec.decode !== undefined;
    if (spec.unified && pd) {
      ctx.addIssue({ code: 'custom', path: ['unified'], message: 'use either unified, or prefill + decode (PD disaggregation), not both' });
    } else if (!spec.unified && !pd) {
      ctx.addIssue({ code: 'custom', path: [], message: 'add a unified group, or prefill and decode groups' });
    } else if (pd && !spec.prefill) {
      ctx.addIssue({ code: 'custom', path: ['decode'], message: 'PD disaggregation needs a prefill group next to decode' });
    } else if (pd && !spec.decode) {
      ctx.addIssue({ code: 'custom', path: ['prefill'], message: 'PD disaggregation needs a decode group next to prefill' });
    }
  });

export type DeploySpec = z.output<typeof deploySpecSchema>;
export type GroupSpec = z.output<typeof groupSchema>;
export type MoeSpec = z.output<typeof moeSchema>;
export type MemorySpec = z.output<typeof memorySchema>;
export type ServerSpec = z.output<typeof serverSchema>;
export type PortsSpec = z.output<typeof portsSchema>;
export type TransferSpec = z.output<typeof transferSchema>;
export type RouterSpec = z.output<typeof routerSchema>;
export type EplbSpec = z.output<typeof eplbSchema>;

export const DEPLOY_LANGUAGE = 'moebench-deploy';

/**
 * Parse a deploy cell. Throws SpecValidationError listing every schema problem with its line;
 * the YamlSource maps later validation issues (validate.ts) back to lines too.
 */
export function parseDeploySpec(text: string, cellName?: string): { spec: DeploySpec; source: YamlSource } {
  return parseSpec(deploySpecSchema, text, { cell: cellName, kind: DEPLOY_LANGUAGE });
}
