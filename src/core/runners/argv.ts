import type { BenchSpec, SweepStep } from '../spec/bench-spec';
import type { ApiKind } from '../metrics/record';
import { parseVersion, compareVersions } from '../util/version';
import { MoeBenchError } from '../util/errors';

/** A unsupported combination of workload and runner; points at the field. */
export class RunnerSpecError extends MoeBenchError {}

/**
 * Where SGLang's serving benchmark lives. Newer releases moved it to `sglang.benchmark.serving`
 * and left `sglang.bench_serving` as a deprecation shim; older ones have only the latter.
 * v0.5.18 documentation calls the new module, so from there on it is tried first; the other is
 * always the fallback (a "No module named" failure retries with it).
 */
export const SGLANG_BENCH_MODULES = { legacy: 'sglang.bench_serving', current: 'sglang.benchmark.serving' } as const;
const CURRENT_MODULE_KNOWN_SINCE = '0.5.18';

export function sglangModuleOrder(engineVersion: string | undefined): string[] {
  let newFirst = false;
  if (engineVersion) {
    try {
      newFirst = compareVersions(parseVersion(engineVersion), CURRENT_MODULE_KNOWN_SINCE) >= 0;
    } catch {
      newFirst = false;
    }
  }
  return newFirst ? [SGLANG_BENCH_MODULES.current, SGLANG_BENCH_MODULES.legacy] : [SGLANG_BENCH_MODULES.legacy, SGLANG_BENCH_MODULES.current];
}

/** bench_serving --backend for our API kind (serving.py _BACKEND_API_PATHS) */
export function sglangBackend(api: ApiKind): string {
  return api === 'generate' ? 'sglang' : api === 'chat' ? 'sglang-oai-chat' : 'sglang-oai';
}

/** One node's share of the load: the workload is split so N nodes together send what the spec asks. */
export interface NodeShare {
  index: number;
  of: number;
  numPrompts: number;
  /** req/s of this node (a rate split over N Poisson sources is again Poisson at the full rate) */
  requestRate: number;
  maxConcurrency?: number;
  /** distinct per node, or every node would send the same prompts and hit the prefix cache */
  seed: number;
}

export function splitLoad(spec: BenchSpec, step: SweepStep, nodes: number): NodeShare[] {
  const n = Math.max(1, nodes);
  const total = spec.workload.numPrompts;
  const shares: NodeShare[] = [];
  for (let i = 0; i < n; i++) {
    const prompts = Math.floor(total / n) + (i < total % n ? 1 : 0);
    const conc = step.maxConcurrency === undefined ? undefined : Math.max(1, Math.floor(step.maxConcurrency / n) + (i < step.maxConcurrency % n ? 1 : 0));
    shares.push({ index: i, of: n, numPrompts: Math.max(1, prompts), requestRate: Number.isFinite(step.requestRate) ? step.requestRate / n : Infinity, maxConcurrency: conc, seed: spec.workload.seed + i });
  }
  return shares;
}

const RUNNER_DATASETS: Record<string, string | undefined> = {
  random: 'random',
  'random-ids': 'random-ids',
  sharegpt: 'sharegpt',
  'generated-shared-prefix': 'generated-shared-prefix',
};

function datasetFlags(spec: BenchSpec, tool: 'sglang' | 'vllm'): string[] {
  const w = spec.workload;
  const name = RUNNER_DATASETS[w.dataset];
  if (!name || (tool === 'vllm' && name !== 'random' && name !== 'sharegpt')) {
    throw new RunnerSpecError(
      `The ${tool === 'sglang' ? 'SGLang bench_serving' : 'vllm bench serve'} runner cannot run the "${w.dataset}" dataset`,
      { cell: spec.name, field: 'workload.dataset' },
      tool === 'sglang' ? 'Use random, random-ids, sharegpt or generated-shared-prefix, or runner: builtin.' : 'Use random or sharegpt, or runner: builtin.',
    );
  }
  const out = ['--dataset-name', name];
  if (w.path) out.push('--dataset-path', w.path);
  if (name === 'random' || name === 'random-ids') {
    out.push('--random-input-len', String(w.inputLen), '--random-output-len', String(w.outputLen));
    if (tool === 'vllm' && w.rangeRatio >= 1) {
      throw new RunnerSpecError('vllm bench serve needs --random-range-ratio below 1', { cell: spec.name, field: 'workload.rangeRatio' }, 'vLLM draws lengths in [L(1−r), L(1+r)]; use a ratio in [0, 1).');
    }
    out.push('--random-range-ratio', String(w.rangeRatio));
  }
  if (name === 'sharegpt') {
    if (w.sharegptOutputLen !== undefined) out.push('--sharegpt-output-len', String(w.sharegptOutputLen));
    if (w.sharegptContextLen !== undefined && tool === 'sglang') out.push('--sharegpt-context-len', String(w.sharegptContextLen));
  }
  const g = w.sharedPrefix;
  if (name === 'generated-shared-prefix' && g) {
    if (g.groups !== undefined) out.push('--gsp-num-groups', String(g.groups));
    if (g.promptsPerGroup !== undefined) out.push('--gsp-prompts-per-group', String(g.promptsPerGroup));
    if (g.systemPromptLen !== undefined) out.push('--gsp-system-prompt-len', String(g.systemPromptLen));
    if (g.questionLen !== undefined) out.push('--gsp-question-len', String(g.questionLen));
    if (g.outputLen !== undefined) out.push('--gsp-output-len', String(g.outputLen));
    if (g.rangeRatio !== undefined) out.push('--gsp-range-ratio', String(g.rangeRatio));
    if (g.ordered) out.push('--gsp-ordered');
  }
  return out;
}

function rateText(rate: number): string {
  return Number.isFinite(rate) ? String(rate) : 'inf';
}

export interface RunnerTarget {
  /** the endpoint as the runner node reaches it (in-cluster address), never our SSH forward */
  baseUrl: string;
  api: ApiKind;
  model?: string;
}

/**
 * `python3 -m <module> ...` for one node's share. Flags per serving.py @00f9ec47 `cli_main`
 * (older bench_serving.py has the same names for everything used here). `--output-details`
 * keeps per-request TTFT/ITL so several nodes' results merge per request.
 */
export function sglangBenchArgv(spec: BenchSpec, target: RunnerTarget, share: NodeShare, o: { module: string; outputFile: string; python?: string }): string[] {
  const argv = [o.python ?? spec.runnerPython ?? 'python3', '-m', o.module, '--backend', sglangBackend(target.api), '--base-url', target.baseUrl];
  if (spec.model ?? target.model) argv.push('--model', spec.model ?? target.model ?? '');
  argv.push(...datasetFlags(spec, 'sglang'));
  if (spec.workload.temperature !== 0) {
    // bench_serving always sends temperature 0.0 and has no flag for it
    throw new RunnerSpecError('SGLang bench_serving always samples at temperature 0', { cell: spec.name, field: 'workload.temperature' }, 'Remove workload.temperature, or use runner: builtin or vllm.');
  }
  argv.push('--num-prompts', String(share.numPrompts), '--request-rate', rateText(share.requestRate));
  if (share.maxConcurrency !== undefined) argv.push('--max-concurrency', String(share.maxConcurrency));
  argv.push('--seed', String(share.seed));
  // bench_serving's default is 1 warmup request; only say it when the spec differs
  if (spec.warmup !== 1) argv.push('--warmup-requests', String(spec.warmup));
  if (spec.workload.ignoreEos === false) argv.push('--disable-ignore-eos');
  const extra = { ...(spec.workload.extraBody ?? {}), ...(spec.workload.topP !== undefined ? { top_p: spec.workload.topP } : {}) };
  if (Object.keys(extra).length) argv.push('--extra-request-body', JSON.stringify(extra));
  argv.push('--output-file', o.outputFile, '--output-details', '--tag', spec.name);
  argv.push(...(spec.runnerArgs ?? []));
  return argv;
}

/** vllm bench serve's --backend / --endpoint for our API kind */
function vllmEndpoint(api: ApiKind): { backend: string; endpoint: string } {
  if (api === 'chat') return { backend: 'openai-chat', endpoint: '/v1/chat/completions' };
  if (api === 'generate') return { backend: 'sglang', endpoint: '/generate' };
  return { backend: 'vllm', endpoint: '/v1/completions' };
}

/**
 * `vllm bench serve ...` for one node's share; flags per vllm/benchmarks/serve.py @009e6d4a.
 * vLLM sends no temperature unless told, so the spec's is always passed; `--save-detailed`
 * keeps per-request latencies for merging.
 */
export function vllmBenchArgv(spec: BenchSpec, target: RunnerTarget, share: NodeShare, o: { resultDir: string; resultFile: string }): string[] {
  const e = vllmEndpoint(target.api);
  const argv = ['vllm', 'bench', 'serve', '--backend', e.backend, '--base-url', target.baseUrl, '--endpoint', e.endpoint];
  if (spec.model ?? target.model) argv.push('--model', spec.model ?? target.model ?? '');
  argv.push(...datasetFlags(spec, 'vllm'));
  argv.push('--num-prompts', String(share.numPrompts), '--request-rate', rateText(share.requestRate));
  const burst = spec.load.arrival === 'constant' || spec.load.burstiness === 'inf' ? undefined : spec.load.burstiness;
  if (burst !== undefined && burst !== 1) argv.push('--burstiness', String(burst));
  if (share.maxConcurrency !== undefined) argv.push('--max-concurrency', String(share.maxConcurrency));
  argv.push('--seed', String(share.seed), '--num-warmups', String(spec.warmup), '--temperature', String(spec.workload.temperature));
  if (spec.workload.ignoreEos !== false) argv.push('--ignore-eos');
  if (spec.workload.topP !== undefined) argv.push('--top-p', String(spec.workload.topP));
  if (spec.workload.extraBody) argv.push('--extra-body', JSON.stringify(spec.workload.extraBody));
  argv.push('--percentile-metrics', 'ttft,tpot,itl,e2el', '--metric-percentiles', spec.percentiles.join(','));
  argv.push('--save-result', '--save-detailed', '--result-dir', o.resultDir, '--result-filename', o.resultFile, '--label', spec.name);
  argv.push(...(spec.runnerArgs ?? []));
  return argv;
}
