import type { BenchSpec, SweepStep } from '../spec/bench-spec';
import type { Cluster } from '../launch/types';
import type { ApiKind } from '../metrics/record';
import type { RunSummary } from '../metrics/summary';
import type { ValidityCheck } from '../metrics/validity';
import { isObject } from '../results/importers/build';
import { importText, SOURCE_NAMES, type ImportedRunMeta, type ImportSource } from '../results/importers';
import { parsePythonJson } from '../results/importers/loose-json';
import { newRunId, RunWriter } from '../results/run-store';
import type { RunMeta } from '../results/types';
import { CommandFailedError } from '../util/errors';
import { SGLANG_BENCH_MODULES, sglangBenchArgv, sglangModuleOrder, splitLoad, vllmBenchArgv, type RunnerTarget } from './argv';
import { mergeNodeResults, type NodeResult } from './merge';
import { runnerRelDir, runToolOnNode, type NodeAttempt } from './node-run';
import type { ToolProgress } from './progress';

export interface RemoteBenchTarget extends RunnerTarget {
  cluster: Cluster;
  deployment?: { name: string; engine: string; engineVersion?: string; simulated: boolean; commands: RunMeta['provenance']['commands'] };
}

export interface RemoteStepContext {
  runStoreDir: string;
  toolVersion: string;
  signal: AbortSignal;
  nodes: string[];
  step: SweepStep;
  steps: number;
  onLine: (node: string, line: string) => void;
  onProgress: (node: string, p: ToolProgress) => void;
}

export interface RemoteStepOutcome {
  runId: string;
  runDir: string;
  summary: RunSummary;
  validity: ValidityCheck[];
  simulated: boolean;
  notes: string[];
  /** per node: the exact command and where its result file was */
  commands: { node: string; argv: string[]; outputFile: string }[];
  model?: string;
  engineVersion?: string;
}

const MODULE_MISSING = /No module named '?sglang(\.benchmark)?|No module named '?vllm|vllm: (command )?not found|ModuleNotFoundError/;

function attemptsFor(spec: BenchSpec, target: RemoteBenchTarget, runId: string, name: string, share: ReturnType<typeof splitLoad>[number]): NodeAttempt[] {
  const dir = runnerRelDir(runId, name);
  if (spec.runner === 'vllm') return [{ argv: vllmBenchArgv(spec, target, share, { resultDir: dir, resultFile: 'result.json' }), outputFile: `${dir}/result.json` }];
  return sglangModuleOrder(target.deployment?.engine === 'sglang' ? target.deployment.engineVersion : undefined).map((module, k) => {
    // each attempt runs in its own supervisor directory (name-k), so its file goes there
    const attemptDir = runnerRelDir(runId, `${name}-${k}`);
    return { argv: sglangBenchArgv(spec, target, share, { module, outputFile: `${attemptDir}/result.jsonl` }), outputFile: `${attemptDir}/result.jsonl`, retryIf: (log: string) => MODULE_MISSING.test(log) };
  });
}

function errorRateCheck(completed: number, failed: number): ValidityCheck[] {
  if (!Number.isFinite(failed)) return [];
  const total = completed + failed;
  const rate = total > 0 ? failed / total : 0;
  if (failed === 0) return [{ id: 'error-rate', level: 'ok', text: 'no errors', detail: `${total} requests, none failed (as reported by the tool)`, value: 0 }];
  return [{ id: 'error-rate', level: rate > 0.01 ? 'error' : 'warn', text: `${(rate * 100).toFixed(1)}% errors`, detail: `${failed} of ${total} requests failed (as reported by the tool)`, value: rate }];
}

/**
 * One load step with SGLang's bench_serving or vllm bench serve on one or several nodes: the
 * workload is split over the nodes, each runs under its cluster's launcher, their result files are
 * imported with the existing importers and merged, and the merged result is stored as one run
 * (meta.json marks it as the tool's numbers, with the exact commands).
 */
export async function runRemoteStep(spec: BenchSpec, target: RemoteBenchTarget, ctx: RemoteStepContext): Promise<RemoteStepOutcome> {
  const runId = newRunId(spec.name);
  const shares = splitLoad(spec, ctx.step, ctx.nodes.length);
  const source: ImportSource = spec.runner === 'vllm' ? 'vllm-bench-serve' : 'sglang-bench-serving';
  const results = await Promise.all(
    ctx.nodes.map(async (node, i) => {
      const name = `runner-${i}`;
      const r = await runToolOnNode(
        { cluster: target.cluster, node, runId, name, signal: ctx.signal, onLine: (l) => ctx.onLine(node, l), onProgress: (p) => ctx.onProgress(node, p) },
        attemptsFor(spec, target, runId, name, shares[i]),
      );
      const imported = importText(r.text, `${node}:~/${r.outputFile}`, source);
      // bench_serving appends to its file: the last line is this run
      const run = imported[imported.length - 1];
      const raw = lastObject(r.text);
      if (!run) throw new CommandFailedError(`The result file on ${node} holds no run`, { node, file: r.outputFile });
      return { node, run, raw, argv: r.argv, outputFile: r.outputFile } satisfies NodeResult & { argv: string[]; outputFile: string };
    }),
  );
  const merged = mergeNodeResults(results, spec.percentiles);
  const first = results[0].run.meta;
  const serverInfo = first.provenance.serverInfo;
  const simulated = target.deployment?.simulated === true || (isObject(serverInfo) && serverInfo['simulated'] === true);
  const module = results[0].argv.includes(SGLANG_BENCH_MODULES.current) ? SGLANG_BENCH_MODULES.current : results[0].argv.includes(SGLANG_BENCH_MODULES.legacy) ? SGLANG_BENCH_MODULES.legacy : 'vllm bench serve';
  const notes = [
    `Measured by ${SOURCE_NAMES[source]} (${module}) on ${ctx.nodes.join(', ')}, not by MoE Bench's client.`,
    ...(ctx.nodes.length > 1 ? [`The workload was split over the ${ctx.nodes.length} nodes: prompts and max concurrency divided, the request rate divided (N Poisson sources at r/N make one at r), seeds ${shares.map((s) => s.seed).join(', ')} so no two nodes send the same prompts.`] : []),
    ...merged.notes,
    ...first.definitionNotes,
  ];
  const meta: Omit<ImportedRunMeta, 'schemaVersion' | 'status' | 'createdAt'> & { runner: unknown } = {
    id: runId,
    name: spec.name,
    step: ctx.steps > 1 ? { index: ctx.step.index, of: ctx.steps, label: ctx.step.label, requestRate: Number.isFinite(ctx.step.requestRate) ? ctx.step.requestRate : 'inf', maxConcurrency: ctx.step.maxConcurrency ?? null } : undefined,
    spec,
    target: { url: target.baseUrl, api: target.api as ApiKind, deployment: target.deployment?.name, engine: target.deployment?.engine, model: first.target.model, simulated },
    provenance: {
      toolVersion: `${ctx.toolVersion} (runner: ${SOURCE_NAMES[source]})`,
      client: { hostname: ctx.nodes.join(','), platform: 'unknown', arch: 'unknown', cpus: 0, cpuModel: 'unknown', nodeVersion: 'unknown', pid: 0 },
      seeds: { dataset: spec.workload.seed, arrivals: spec.workload.seed },
      serverInfo: serverInfo ?? null,
      engineVersion: first.provenance.engineVersion ?? target.deployment?.engineVersion,
      commands: target.deployment?.commands,
    },
    tags: spec.tags,
    source,
    importedFrom: { file: results.map((r) => `${r.node}:~/${r.outputFile}`).join(', '), index: 0 },
    definitionNotes: notes,
    extras: { ...first.extras, runner_nodes: ctx.nodes.join(',') },
    runner: { kind: spec.runner, module, nodes: results.map((r) => ({ node: r.node, argv: r.argv, outputFile: r.outputFile })) },
  };
  const writer = await RunWriter.create(ctx.runStoreDir, meta);
  const validity = errorRateCheck(merged.summary.completed, merged.summary.failed);
  await writer.writeSummary({ summary: merged.summary, series: { outputTokensPerSec: [], concurrentRequestsPerSec: [] }, validity, client: { eventLoopDelayP99Ms: Number.NaN, eventLoopDelayMaxMs: Number.NaN, cpuPct: Number.NaN }, cancelled: false });
  await writer.close('completed');
  return {
    runId,
    runDir: writer.dir,
    summary: merged.summary,
    validity,
    simulated,
    notes,
    commands: results.map((r) => ({ node: r.node, argv: r.argv, outputFile: r.outputFile })),
    model: first.target.model,
    engineVersion: meta.provenance.engineVersion,
  };
}

/** the whole file when it is one JSON object (vLLM), else its last line (bench_serving appends) */
function lastObject(text: string): unknown {
  const parse = (t: string): unknown => {
    try {
      return parsePythonJson(t);
    } catch {
      return undefined;
    }
  };
  const whole = parse(text);
  if (isObject(whole)) return whole;
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.length ? parse(lines[lines.length - 1]) : undefined;
}
