import { BenchTelemetry, telemetryBlocks } from './bench-telemetry';
import { mkdir } from 'node:fs/promises';
import { captureProfile } from '../telemetry/deep/profile/capture';
import { profileDocBlocks } from '../telemetry/deep/profile/report';
import * as path from 'node:path';
import type { CellContext, CellExecutor } from '../exec/cell';
import { parseSpec } from '../spec/yaml-spec';
import { resolveSecretHeaders } from './bench-secrets';
import { benchSpecSchema, sweepSteps, type BenchSpec, type SweepStep } from '../spec/bench-spec';
import { progressDoc, resultDoc } from './bench-output';
import type { StepResult } from './bench-plots';
import type { DeploymentHandle } from '../exec/handles';
import { prepareRows, runBenchmark, type BenchmarkConfig } from '../bench/benchmark';
import type { LiveRun } from '../bench/benchmark';
import { idleTimeoutMs } from '../load/idle-timeout';
import { fetchServerInfo } from '../telemetry/server/probe';
import type { ApiKind } from '../metrics/record';
import { CancelledError, CellReferenceError, RunInvalidError, SpecValidationError } from '../util/errors';
import { BenchServerViews, gateFailureMessage } from './bench-server-views';
import { faultHooks, runRemoteRunnerCell, runSweep } from './bench-runner';
import { failOnInvalidResults } from './bench-validity-gate';
import { resolveClientNodes } from './bench-clients';
import { withWorkloadBlocks } from './bench-workload';
import { workloadSpecOf } from '../load/workloads/spec';
import { resolveTarget, targetDeployment } from '../exec/targets';
import { engineOf } from '../engines';

const PROGRESS_INTERVAL_MS = 500;

interface ResolvedTarget {
  url: string;
  api: ApiKind;
  deployment?: { name: string; engine: string; simulated: boolean; commands: DeploymentHandle['commands'] };
  /** the deployment itself, when the target names one */
  handle?: DeploymentHandle;
}

async function benchTarget(spec: BenchSpec, ctx: CellContext): Promise<ResolvedTarget> {
  const t = resolveTarget(ctx.session, spec.target, spec.name);
  if (t.kind === 'url') {
    // SGLang answers /server_info; anything else is taken for an OpenAI-compatible server
    const api = spec.api ?? ((await fetchServerInfo(t.url, spec.headers)) ? 'generate' : 'completions');
    return { url: t.url, api };
  }
  const handle = t.deployment;
  const api = spec.api ?? engineOf(handle.engine).defaultApi;
  return { url: (await handle.endpoint()).replace(/\/+$/, ''), api, deployment: { name: handle.name, engine: handle.engine, simulated: handle.simulated, commands: handle.commands }, handle };
}

/** Turn the cell spec into the runner's config for one sweep step. */
export function benchConfig(spec: BenchSpec, target: ResolvedTarget, step: SweepStep, baseDir: string): BenchmarkConfig {
  const w = spec.workload;
  const answers = w.dataset === 'gsm8k' || w.dataset === 'mmlu';
  const gsp = w.sharedPrefix;
  return {
    name: spec.name,
    url: target.url,
    api: target.api,
    model: spec.model,
    headers: spec.headers,
    baseDir,
    dataset: {
      name: w.dataset,
      numPrompts: w.numPrompts,
      seed: w.seed,
      inputLen: w.inputLen,
      outputLen: w.outputLen,
      rangeRatio: w.rangeRatio,
      rangeSemantics: w.rangeSemantics,
      path: w.path,
      vocabSize: w.vocabSize,
      sharegptOutputLen: w.sharegptOutputLen,
      sharegptContextLen: w.sharegptContextLen,
      sharedPrefix: gsp && { numGroups: gsp.groups, promptsPerGroup: gsp.promptsPerGroup, systemPromptLen: gsp.systemPromptLen, questionLen: gsp.questionLen, outputLen: gsp.outputLen, rangeRatio: gsp.rangeRatio, ordered: gsp.ordered },
    },
    cacheBust: w.cacheBust,
    trace: spec.load.trace ? { path: spec.load.trace, timeScale: spec.load.traceTimeScale } : undefined,
    workload: workloadSpecOf(w),
    requestRate: step.requestRate,
    burstiness: spec.load.arrival === 'constant' || spec.load.burstiness === 'inf' ? Infinity : spec.load.burstiness,
    rescaleSchedule: spec.load.rescaleSchedule,
    maxConcurrency: step.maxConcurrency,
    durationSec: spec.load.durationSec,
    warmupRequests: spec.warmup,
    workers: spec.workers,
    definition: spec.metrics,
    percentiles: spec.percentiles,
    slo: spec.slo,
    idleTimeoutMs: idleTimeoutMs(spec.idleTimeoutSec, spec.slo),
    payload: { temperature: w.temperature, ignoreEos: w.ignoreEos ?? !answers, topP: w.topP, extraBody: w.extraBody },
  };
}

/**
 * `moebench-bench`: drives load against a deployment (or a URL), one run per sweep step, with a
 * live progress doc while it runs and SGLang's summary table, validity badges and charts after.
 */
export class BenchCellExecutor implements CellExecutor {
  readonly language = 'moebench-bench';

  /** `profile:` wraps the chosen steps in SGLang's profiler; the tables and trace paths join the result */
  private async maybeProfile<T>(spec: BenchSpec, stepIndex: number, ctx: CellContext, runStep: () => Promise<T>): Promise<T> {
    const wanted = spec.profile?.steps ?? [0];
    if (!spec.profile || !wanted.includes(stepIndex)) return runStep();
    const handle = targetDeployment(ctx.session, spec.target, spec.name);
    if (!handle) {
      throw new SpecValidationError('`profile:` needs a deployment target (traces are fetched from its nodes)', { cell: ctx.cell.name, field: 'profile' }, 'Target a deployment by name.');
    }
    const cluster = ctx.session.clusters.get(handle.clusterName, ctx.cell.name);
    const targets = (await handle.servers()).filter((s) => s.role !== 'router').map((s) => ({ endpoint: `${s.role}@${s.node}`, url: s.url, nodes: [s.node] }));
    const dir = path.join(path.dirname(ctx.session.runStoreDir), 'profiles', `${spec.name}-step${stepIndex}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    await mkdir(dir, { recursive: true });
    const captured = await captureProfile(
      { cluster, targets, runDir: dir, request: { numSteps: spec.profile.numSteps, activities: spec.profile.activities }, signal: ctx.signal, onNotice: (n) => ctx.emit({ kind: 'log', stream: 'stderr', text: `profiler: ${n.message}\n` }) },
      runStep,
    );
    ctx.emit({ kind: 'doc', id: `${spec.name}-profile-${stepIndex}`, doc: { title: `${spec.name}: profile of step ${stepIndex + 1}`, blocks: profileDocBlocks(captured.summaries, dir) } });
    return captured.result;
  }

  /** `collect:` joins GPU / server / expert telemetry to the runs; it needs a deployment to know the nodes */
  private async startTelemetry(spec: BenchSpec, ctx: CellContext): Promise<BenchTelemetry | undefined> {
    if (!spec.collect?.length) return undefined;
    const handle = targetDeployment(ctx.session, spec.target, spec.name);
    if (!handle) {
      throw new SpecValidationError('`collect:` needs a deployment target (the nodes and servers to watch come from it)', { cell: ctx.cell.name, field: 'collect' }, 'Target a deployment by name, or use a moebench-monitor cell with explicit nodes and URLs.');
    }
    return BenchTelemetry.start(spec.collect, handle, ctx);
  }

  async execute(source: string, ctx: CellContext): Promise<void> {
    // parsed once; a sweep hands each derived spec to run() as it is
    return this.run(parseSpec(benchSpecSchema, source, { cell: ctx.cell.name, kind: 'moebench-bench' }).spec, ctx);
  }

  private async run(parsed: BenchSpec, ctx: CellContext): Promise<void> {
    const spec = await resolveSecretHeaders(parsed, ctx);
    // server-configuration sweeps and SGLang's / vLLM's own benchmarks live in bench-runner.ts
    if (spec.sweep) return runSweep(spec, ctx, (derived, c) => this.run(derived, c));
    if (spec.runner !== 'builtin') return runRemoteRunnerCell(spec, ctx);
    const target = await benchTarget(spec, ctx);
    const baseDir = path.dirname(ctx.session.notebookPath);
    const steps = sweepSteps(spec.load, spec.workload);
    const faults = faultHooks(spec, ctx, steps.length);
    const rows = await prepareRows(benchConfig(spec, target, steps[0], baseDir));
    const results: StepResult[] = [];
    const progressId = `${spec.name}-progress`;
    const resultId = `${spec.name}-result`;
    let cancelled = false;
    const telemetry = await this.startTelemetry(spec, ctx);
    const serverViews = await BenchServerViews.forTarget(target.handle);
    const clients = resolveClientNodes(spec, ctx);

    try {
      for (const step of steps) {
        if (ctx.signal.aborted) {
          cancelled = true;
          break;
        }
        const config = benchConfig(spec, target, step, baseDir);
        let live: LiveRun | undefined;
        let last = { atMs: Date.now(), done: 0, tokens: 0 };
        // when tokens or finished requests last moved: silence with streams open is shown as a stall
        let activityAtMs = Date.now();
        const tick = (): void => {
          if (!live) return;
          const p = live.progress();
          const now = Date.now();
          const dt = Math.max(1, now - last.atMs) / 1000;
          const done = p.completed + p.failed;
          const reqPerSec = (done - last.done) / dt;
          const tokPerSec = (p.outputTokens - last.tokens) / dt;
          if (done !== last.done || p.outputTokens !== last.tokens || p.inFlight === 0) activityAtMs = now;
          last = { atMs: now, done, tokens: p.outputTokens };
          const stall = { sec: (now - activityAtMs) / 1000, timeoutSec: (config.idleTimeoutMs ?? 0) / 1000 };
          const doc = progressDoc({ name: spec.name, stepIndex: step.index, steps: steps.length, stepLabel: step.label, total: config.durationSec || config.workload ? undefined : config.trace ? rows.length : config.dataset.numPrompts, durationSec: config.durationSec, progress: p, reqPerSec, tokPerSec, simulated: target.deployment?.simulated ?? false, stall });
          ctx.emit({ kind: 'doc', id: progressId, doc, persist: false });
          ctx.emit({ kind: 'status', text: `${spec.name}: ${doc.blocks[0].type === 'progress' ? doc.blocks[0].detail ?? '' : ''}` });
        };
        const timer = setInterval(tick, PROGRESS_INTERVAL_MS);
        try {
          const runStep = () => runBenchmark(config, {
            runStoreDir: ctx.session.runStoreDir,
            signal: ctx.signal,
            onStart: (run, runDir) => {
              live = run;
              faults?.attach(run);
              telemetry?.stepStarted(step.index, step.label, runDir);
              tick();
            },
            rows,
            spec,
            toolVersion: ctx.session.toolVersion,
            tags: spec.tags,
            step: steps.length > 1 ? { index: step.index, of: steps.length, label: step.label, requestRate: Number.isFinite(step.requestRate) ? step.requestRate : 'inf', maxConcurrency: step.maxConcurrency ?? null } : undefined,
            deployment: target.deployment,
            clients,
          });
          const { outcome } = await serverViews.around(step.label, config.warmupRequests, ctx.signal, () => this.maybeProfile(spec, step.index, ctx, runStep), telemetry?.reqTimeStats);
          results.push({ step, outcome });
          // the measured window (t0 to t0 + the summary's duration, which every throughput divides
          // by), on the telemetry samples' clock: energy per token is integrated over exactly it
          if (outcome.window) telemetry?.stepMeasured(step.index, outcome.window);
          await faults?.finish(outcome);
          cancelled = outcome.cancelled;
          const s = outcome.summary;
          ctx.emit({ kind: 'log', stream: 'stdout', text: `${spec.name} [${step.label}] run ${outcome.runId}: ${s.completed} completed, ${s.failed} failed, ${s.requestThroughput.toFixed(2)} req/s, ${s.outputThroughput.toFixed(1)} output tok/s\n` });
        } finally {
          clearInterval(timer);
          await faults?.dispose();
        }
        // a partial sweep is still worth seeing: redraw after every step
        ctx.session.runs.set(spec.name, { runIds: results.map((r) => r.outcome.runId), cell: spec.name }, spec.name);
        ctx.emit({ kind: 'doc', id: resultId, doc: withWorkloadBlocks(serverViews.decorate(resultDoc(spec.name, results, cancelled)), results.map((r) => ({ label: r.step.label, outcome: r.outcome })), serverViews.steps) });
        if (cancelled) break;
      }
    } catch (err) {
      // collectors must not outlive a failed run (they hold one nvidia-smi stream per node)
      await telemetry?.stop([], 0, undefined).catch(() => undefined);
      throw err;
    }
    if (telemetry) {
      const r = await telemetry.stop(
        results.map((x) => x.outcome.summary.totalOutputTokens),
        ctx.host.setting('cost.dollarsPerGpuHour', 0),
        undefined,
      );
      const doc = withWorkloadBlocks(serverViews.decorate(resultDoc(spec.name, results, cancelled)), results.map((r) => ({ label: r.step.label, outcome: r.outcome })), serverViews.steps);
      doc.blocks.push(...telemetryBlocks(r, steps.map((s) => s.label)));
      ctx.emit({ kind: 'doc', id: resultId, doc });
    }
    const invalid = serverViews.invalid();
    // the same escape hatch as the validity badges (fault-injection runs expect failures)
    if (invalid.length && !cancelled && !ctx.host.setting('bench.allowInvalid', false)) {
      throw new RunInvalidError(gateFailureMessage(invalid, spec.name), { cell: spec.name }, 'The result is drawn above, marked INVALID; fix the deployment (see the badge) and run again, or allow invalid results (`moebench run --allow-invalid`).');
    }
    // a fault-injection cell fails requests on purpose: its result is the fault analysis, its badges still show
    if (!cancelled && !spec.faults?.length) failOnInvalidResults(spec.name, results.map((r) => ({ label: r.step.label, validity: r.outcome.validity })), ctx);
    if (cancelled) throw new CancelledError(`Benchmark "${spec.name}" cancelled after ${results.length} of ${steps.length} step(s); finished requests are kept in the run store`);
  }
}
