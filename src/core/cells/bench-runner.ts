/**
 * What the bench cell hands to the runners, sweep and faults modules: remote runners
 * (`runner: sglang | vllm`), server-configuration sweeps (`sweep:`) and fault injection
 * (`faults:`). bench.ts only dispatches here.
 */
import type { Badge, Block, OutputDoc } from '../output/doc';
import type { CellContext } from '../exec/cell';
import { sweepSteps, type BenchSpec } from '../spec/bench-spec';
import { launchedDeployment, type Deployment } from '../deploy';
import { analyzeFault, defaultStallMs, type FaultOutcome } from '../faults/analyze';
import { faultBlocks } from '../faults/doc';
import { FaultInjector, FaultSpecError } from '../faults/inject';
import { recordRunFaults } from '../faults/record';
import type { BenchmarkOutcome } from '../bench/benchmark';
import type { LiveRun } from '../bench/benchmark';
import { summaryTable } from '../metrics/summary-table';
import { runRemoteStep, type RemoteBenchTarget, type RemoteStepOutcome } from '../runners/remote-bench';
import { RunnerSpecError } from '../runners/argv';
import type { ToolProgress } from '../runners/progress';
import { runSweep, type RunBench } from '../sweep/run-sweep';
import { CancelledError } from '../util/errors';
import { failOnInvalidResults } from './bench-validity-gate';
import { resolveTarget } from '../exec/targets';
import { engineOf } from '../engines';
import type { EngineKind } from '../engines/catalog';

export { runSweep };

function deploymentOf(spec: BenchSpec, ctx: CellContext): Deployment | undefined {
  const target = resolveTarget(ctx.session, spec.target, spec.name);
  if (target.kind === 'url') return undefined;
  return launchedDeployment(target.deployment, { cell: spec.name, field: 'target', why: 'Remote runners and faults need a moebench-deploy deployment (or, for runners, a URL).' });
}

/** the API the tool drives: the spec's, else the engine's default (a URL: /generate unless the tool is vllm bench serve) */
function apiFor(spec: BenchSpec, engine: EngineKind | undefined): RemoteBenchTarget['api'] {
  if (spec.api) return spec.api;
  const api = engine ? engineOf(engine).defaultApi : 'generate';
  return api === 'generate' && spec.runner === 'vllm' ? 'completions' : api;
}

function remoteTarget(spec: BenchSpec, ctx: CellContext): RemoteBenchTarget {
  const d = deploymentOf(spec, ctx);
  if (d) {
    return {
      // the tool runs on a cluster node: it talks to the deployment's in-cluster address, not our forward
      baseUrl: d.plan.endpoint.url,
      api: apiFor(spec, d.engine),
      cluster: d.cluster,
      deployment: { name: d.name, engine: d.engine, engineVersion: d.plan.engine.version, simulated: d.simulated, commands: d.commands },
    };
  }
  return { baseUrl: spec.target.replace(/\/+$/, ''), api: apiFor(spec, undefined), cluster: ctx.session.defaultCluster(spec.name) };
}

function runnerNodes(spec: BenchSpec, target: RemoteBenchTarget): string[] {
  const nodes = spec.runnerNodes ?? (spec.runnerNode ? [spec.runnerNode] : []);
  if (nodes.length === 0) throw new RunnerSpecError(`runner: ${spec.runner} needs runnerNode (or runnerNodes)`, { cell: spec.name, field: 'runnerNode' }, `Name the cluster node that runs the benchmark, e.g. runnerNode: ${target.cluster.nodes[0]?.name ?? 'node1'}.`);
  for (const n of nodes) target.cluster.node(n);
  if (new Set(nodes).size !== nodes.length) throw new RunnerSpecError('runnerNodes lists a node twice', { cell: spec.name, field: 'runnerNodes' });
  return nodes;
}

function runnerProgressDoc(spec: BenchSpec, stepLabel: string, stepIndex: number, steps: number, progress: Map<string, ToolProgress>, simulated: boolean): OutputDoc {
  const done = [...progress.values()].reduce((a, p) => a + p.done, 0);
  const total = [...progress.values()].reduce((a, p) => a + p.total, 0);
  return {
    title: steps > 1 ? `${spec.name} — step ${stepIndex + 1}/${steps}: ${stepLabel}` : spec.name,
    simulated,
    blocks: [{ type: 'progress', label: `${spec.runner === 'vllm' ? 'vllm bench serve' : 'bench_serving'} on ${[...progress.keys()].join(', ') || 'the runner node'}`, fraction: total > 0 ? done / total : null, detail: total > 0 ? `${done}/${total} requests` : 'starting' }],
  };
}

function runnerResultDoc(spec: BenchSpec, results: readonly { label: string; requestRate: number; maxConcurrency?: number; outcome: RemoteStepOutcome }[]): OutputDoc {
  const badges: Badge[] = results.flatMap((r) => r.outcome.validity.map((v) => ({ level: v.level, text: results.length > 1 ? `${r.label}: ${v.text}` : v.text, detail: v.detail })));
  badges.push({ level: 'info', text: spec.runner === 'vllm' ? 'measured by vllm bench serve' : 'measured by SGLang bench_serving', detail: 'Numbers are the tool\'s own, imported from its result file; MoE Bench\'s client sent nothing.' });
  const table = summaryTable(results.map((r) => ({ label: r.label, requestRate: r.requestRate, maxConcurrency: r.maxConcurrency, summary: r.outcome.summary })));
  const first = results[0]?.outcome;
  const blocks: Block[] = [
    { type: 'badges', items: badges },
    { type: 'table', title: 'Serving benchmark result', columns: table.columns, rows: table.rows },
  ];
  if (first) {
    blocks.push({
      type: 'kv',
      title: 'Runner',
      items: [
        ['Nodes', first.commands.map((c) => c.node).join(', ')],
        ...first.commands.map((c): [string, string] => [`Command on ${c.node}`, c.argv.join(' ')]),
        ['Model', first.model ?? null],
        ['Engine version', first.engineVersion ?? null],
        ['Runs', results.map((r) => r.outcome.runId).join(', ')],
      ],
    });
    blocks.push({ type: 'text', text: first.notes.join('\n\n') });
  }
  return { title: results.length > 1 ? `${spec.name} — ${results.length} steps` : spec.name, simulated: results.some((r) => r.outcome.simulated), runIds: results.map((r) => r.outcome.runId), blocks };
}

/** `runner: sglang | vllm`: every load step runs SGLang's / vLLM's own benchmark on the runner node(s). */
export async function runRemoteRunnerCell(spec: BenchSpec, ctx: CellContext): Promise<void> {
  if (spec.faults?.length) throw new RunnerSpecError('faults need runner: builtin', { cell: spec.name, field: 'faults' }, "Fault analysis reads every request's timing, which only MoE Bench's own client records.");
  const target = remoteTarget(spec, ctx);
  const nodes = runnerNodes(spec, target);
  const steps = sweepSteps(spec.load);
  const results: { label: string; requestRate: number; maxConcurrency?: number; outcome: RemoteStepOutcome }[] = [];
  const simulated = target.deployment?.simulated ?? target.cluster.kind === 'sim';
  for (const step of steps) {
    if (ctx.signal.aborted) throw new CancelledError(`Benchmark "${spec.name}" cancelled after ${results.length} of ${steps.length} step(s)`);
    const progress = new Map<string, ToolProgress>();
    let lastDocAt = 0;
    const outcome = await runRemoteStep(spec, target, {
      runStoreDir: ctx.session.runStoreDir,
      toolVersion: ctx.session.toolVersion,
      signal: ctx.signal,
      nodes,
      step,
      steps: steps.length,
      onLine: (node, line) => ctx.emit({ kind: 'log', stream: 'stdout', text: `${line}\n`, source: node }),
      onProgress: (node, p) => {
        progress.set(node, p);
        const now = Date.now();
        if (now - lastDocAt < 300 && p.done < p.total) return;
        lastDocAt = now;
        ctx.emit({ kind: 'doc', id: `${spec.name}-progress`, doc: runnerProgressDoc(spec, step.label, step.index, steps.length, progress, simulated), persist: false });
      },
    });
    results.push({ label: step.label, requestRate: step.requestRate, maxConcurrency: step.maxConcurrency, outcome });
    const s = outcome.summary;
    ctx.emit({ kind: 'log', stream: 'stdout', text: `${spec.name} [${step.label}] run ${outcome.runId}: ${s.completed} completed, ${s.requestThroughput.toFixed(2)} req/s, ${s.outputThroughput.toFixed(1)} output tok/s (${spec.runner} runner on ${nodes.join(', ')})\n` });
    ctx.session.runs.set(spec.name, { runIds: results.map((r) => r.outcome.runId), cell: spec.name }, spec.name);
    ctx.emit({ kind: 'doc', id: `${spec.name}-result`, doc: runnerResultDoc(spec, results) });
  }
  failOnInvalidResults(spec.name, results.map((r) => ({ label: r.label, validity: r.outcome.validity })), ctx);
}

/** Fault injection around one builtin load run; undefined when the spec has no faults. */
export interface FaultHooks {
  attach(run: LiveRun): void;
  /** analyse, record into the run directory, and show the fault doc */
  finish(outcome: BenchmarkOutcome): Promise<FaultOutcome[]>;
  dispose(): Promise<void>;
}

export function faultHooks(spec: BenchSpec, ctx: CellContext, stepCount: number): FaultHooks | undefined {
  const faults = spec.faults;
  if (!faults?.length) return undefined;
  if (stepCount > 1) throw new FaultSpecError('faults need a single load step', { cell: spec.name, field: 'faults' }, 'Give one requestRate and one maxConcurrency (not lists) when injecting faults.');
  const d = deploymentOf(spec, ctx);
  if (!d) throw new FaultSpecError('faults need a deployment as the target', { cell: spec.name, field: 'target' }, 'Name the deployment of a moebench-deploy cell: faults act on its processes.');
  const injector = new FaultInjector(faults, d, (line) => ctx.emit({ kind: 'log', stream: 'stdout', text: `${line}\n`, source: 'faults' }));
  const recoverAfter = spec.faultAnalysis?.recoverAfter ?? 5;
  return {
    attach: (run) =>
      injector.attach({
        elapsedMs: () => {
          const p = run.progress();
          return p.phase === 'warmup' ? undefined : p.elapsedMs;
        },
      }),
    finish: async (outcome) => {
      // undo what is still in effect first, so the outcome lists every restart and resume
      await injector.dispose();
      const injected = injector.injected();
      const firstAt = Math.min(...injected.map((f) => f.atMs), Infinity);
      const stallMs = spec.faultAnalysis?.stallMs ?? defaultStallMs(outcome.records, Number.isFinite(firstAt) ? firstAt : Infinity);
      const outcomes = injected.map((f) => analyzeFault(outcome.records, f, { recoverAfter, stallMs }));
      if (outcome.runDir) await recordRunFaults(outcome.runDir, { injected, outcomes, analysis: { recoverAfter, stallMs } });
      for (const o of outcomes) ctx.emit({ kind: 'log', stream: 'stdout', text: `${o.text}\n`, source: 'faults' });
      const notInjected = faults.length - injected.length;
      const blocks = faultBlocks(outcome.records, injected, outcomes);
      if (notInjected > 0) blocks.push({ type: 'text', text: `${notInjected} fault(s) were due after the load had ended and were not injected.` });
      ctx.emit({ kind: 'doc', id: `${spec.name}-faults`, doc: { title: `${spec.name} — faults`, simulated: outcome.simulated, runIds: [outcome.runId], blocks } });
      return outcomes;
    },
    dispose: () => injector.dispose(),
  };
}

/** the bench cell's own executor, for sweeps */
export type { RunBench };
