import type { EngineKind } from '../engines/catalog';
import type { Cluster, RankState, StopOutcome } from '../launch/types';
import type { CellEventSink } from '../exec/events';
import type { DeploymentHandle } from '../exec/handles';
import type { Plan, PlannedProcess } from '../plan';
import { toDisposable, type Disposable } from '../util/disposable';
import { CancelledError, CommandFailedError, isAbortError } from '../util/errors';
import { failureDoc, previewDoc, progressDoc, statusDoc } from './docs';
import { DeploymentFailedError } from './errors';
import { checkNodeGpus, describeGpuCheck, type GpuCheck } from './gpu-check';
import { oneTokenGenerate, probeHealth } from './http-probe';
import { endpointProcess, listenHost } from './listen-host';
import { LogRelay } from './log-relay';
import { removeDeploymentRecord, saveDeploymentRecord, type DeploymentRecord } from './record';
import type { DeploymentPhase, DeploymentView, ProcessPhase } from './types';

export interface DeploymentOptions {
  /** the record file (`<notebook dir>/.moebench/deployments/<name>.json`); none = not persisted */
  recordFile?: string;
  /** supervisor directory on the nodes (default ~/.moebench/deployments) */
  baseDir?: string;
  origin?: 'started' | 'reattached';
  /** the cell that launched it, for error locations */
  cell?: string;
}

export interface DeployStartOptions {
  emit: CellEventSink;
  signal?: AbortSignal;
  /** give up on a server that is not healthy after this long (default 30 min: big checkpoints load slowly) */
  healthTimeoutMs?: number;
  /** first /health poll interval; it backs off to `healthIntervalMs` (default 1 s) */
  healthIntervalMs?: number;
  /** how often every rank's liveness is checked while waiting (default 2 s) */
  statusIntervalMs?: number;
  /** how long the one-token check may keep retrying (default 60 s) */
  generateTimeoutMs?: number;
  /** TERM -> KILL grace when cleaning up after a failure (default 10 s) */
  graceMs?: number;
  logFlushIntervalMs?: number;
}

export interface StartResult {
  readyInMs: number;
  endpoint: string;
  generated: string;
}

export interface StopReport {
  processes: { id: string; node: string; outcome: StopOutcome | 'not started' | 'failed' }[];
  gpuChecks: GpuCheck[];
  /** stops that could not be carried out (node unreachable): the record is kept for a retry */
  errors: string[];
}

interface Entry {
  process: PlannedProcess;
  remote?: RankState;
  phase: ProcessPhase;
  exitCode?: number;
  /** why a rank is gone, when its launcher knows (a Slurm job ended by the scheduler: state and reason) */
  reason?: string;
}

/** a rank died while we waited for it */
class RankExited extends Error {
  constructor(readonly processId: string) {
    super(`${processId} exited`);
  }
}

function remoteName(p: PlannedProcess): string {
  return p.id.replace(/\//g, '.');
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new CancelledError());
      return;
    }
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new CancelledError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * One deployment on one cluster: starts its ranks through its cluster's launcher in the plan's
 * order, watches them come up, and stops every process group again. Implements the
 * DeploymentHandle bench cells use. All state that matters after a reload is in the record file.
 */
export class Deployment implements DeploymentHandle {
  readonly name: string;
  readonly clusterName: string;
  readonly engine: EngineKind;
  readonly simulated: boolean;
  readonly commands: { node: string; argv: string[]; env: Record<string, string> }[];
  private readonly entries: Entry[];
  private phaseValue: DeploymentPhase = 'planned';
  private originValue: 'started' | 'reattached';
  private startedAt = new Date().toISOString();
  private readyAt: string | undefined;
  private readonly listeners = new Set<() => void>();
  private startRun: { promise: Promise<StartResult>; abort: AbortController; stopRequested: boolean } | undefined;
  private stopping: Promise<StopReport> | undefined;
  private saving: Promise<void> = Promise.resolve();

  constructor(
    readonly plan: Plan,
    readonly cluster: Cluster,
    private readonly options: DeploymentOptions = {},
  ) {
    this.name = plan.name;
    this.clusterName = cluster.name;
    this.engine = plan.engine.kind;
    this.simulated = cluster.kind === 'sim';
    this.commands = plan.processes.map((p) => ({ node: p.node, argv: [...p.argv], env: { ...p.env } }));
    this.entries = plan.processes.map((p) => ({ process: p, phase: 'pending' }));
    this.originValue = options.origin ?? 'started';
  }

  /** a deployment found running from its record (window reload, another session) */
  static fromRecord(record: DeploymentRecord, cluster: Cluster, options: Omit<DeploymentOptions, 'origin' | 'baseDir'> = {}): Deployment {
    const d = new Deployment(record.plan, cluster, { ...options, baseDir: record.baseDir, origin: 'reattached' });
    d.startedAt = record.startedAt;
    d.readyAt = record.readyAt;
    for (const saved of record.processes) {
      const e = d.entries.find((x) => x.process.id === saved.id);
      if (e) {
        // a record is a file a user could edit: its launcher validates each rank before it reaches a node
        e.remote = cluster.launcher.parseState(saved.remote);
        e.phase = 'running';
      }
    }
    d.phaseValue = record.readyAt ? 'ready' : 'starting';
    return d;
  }

  get phase(): DeploymentPhase {
    return this.phaseValue;
  }

  get origin(): 'started' | 'reattached' {
    return this.originValue;
  }

  /** a re-attached deployment that a cell re-ran with the same plan now belongs to that cell */
  adopt(): void {
    this.originValue = 'started';
    this.changed();
  }

  get recordFile(): string | undefined {
    return this.options.recordFile;
  }

  onDidChange(listener: () => void): Disposable {
    this.listeners.add(listener);
    return toDisposable(() => void this.listeners.delete(listener));
  }

  private changed(): void {
    for (const l of [...this.listeners]) {
      try {
        l();
      } catch {
        // a view's listener must not break the launcher
      }
    }
  }

  private setPhase(p: DeploymentPhase): void {
    this.phaseValue = p;
    this.changed();
  }

  private setProcessPhase(e: Entry, phase: ProcessPhase, exitCode?: number): void {
    e.phase = phase;
    if (exitCode !== undefined) e.exitCode = exitCode;
    this.changed();
  }

  view(): DeploymentView {
    return {
      name: this.name,
      clusterName: this.clusterName,
      clusterKind: this.cluster.kind,
      engine: { ...this.plan.engine },
      simulated: this.simulated,
      phase: this.phaseValue,
      origin: this.originValue,
      endpointUrl: this.plan.endpoint.url,
      endpointVia: this.plan.endpoint.via,
      processes: this.entries.map((e) => ({
        id: e.process.id,
        role: e.process.role,
        instanceId: e.process.instanceId,
        node: e.process.node,
        nodeRank: e.process.nodeRank,
        nnodes: e.process.nnodes,
        gpuIds: [...e.process.gpuIds],
        port: e.process.port,
        pgid: e.remote?.pgid,
        phase: e.phase,
        exitCode: e.exitCode,
        reason: e.reason,
      })),
    };
  }

  /** supervisor state of every process started, for callers that persist or inspect them */
  remoteStates(): { id: string; remote: RankState }[] {
    return this.entries.flatMap((e) => (e.remote ? [{ id: e.process.id, remote: e.remote }] : []));
  }

  record(): DeploymentRecord {
    return {
      version: 1,
      name: this.name,
      cluster: this.clusterName,
      clusterKind: this.cluster.kind,
      baseDir: this.options.baseDir,
      startedAt: this.startedAt,
      readyAt: this.readyAt,
      plan: this.plan,
      processes: this.remoteStates(),
    };
  }

  /** writes are queued so the file always holds the latest state, never an interleaving */
  /**
   * Start one rank again with its planned command (fault injection's restart after a kill). The
   * new state replaces the old in the record, so stop and status act on the new processes.
   */
  async restartRank(processId: string): Promise<void> {
    const e = this.entries.find((x) => x.process.id === processId);
    if (!e) throw new CommandFailedError(`Deployment ${this.name} has no process ${processId}`);
    const p = e.process;
    e.remote = await this.cluster.launcher.start({ node: p.node, deploymentId: this.name, name: remoteName(p), argv: p.argv, env: p.env, baseDir: this.options.baseDir });
    this.setProcessPhase(e, 'running');
    await this.persist();
  }

  private persist(): Promise<void> {
    const file = this.options.recordFile;
    if (!file) return Promise.resolve();
    const record = this.record();
    this.saving = this.saving.then(() => saveDeploymentRecord(file, record)).catch(() => undefined);
    return this.saving;
  }

  private unpersist(): Promise<void> {
    const file = this.options.recordFile;
    if (!file) return Promise.resolve();
    this.saving = this.saving.then(() => removeDeploymentRecord(file)).catch(() => undefined);
    return this.saving;
  }

  // ---- DeploymentHandle ----

  endpoint(): Promise<string> {
    const p = endpointProcess(this.plan);
    return this.cluster.httpEndpoint(this.plan.endpoint.node, this.plan.endpoint.port, p ? listenHost(p) : undefined);
  }

  /** a URL on this machine that reaches the socket `p` listens on (its --host, on its node) */
  private reach(p: PlannedProcess): Promise<string> {
    return this.cluster.httpEndpoint(p.node, p.port, listenHost(p));
  }

  async servers(): Promise<{ role: 'unified' | 'prefill' | 'decode' | 'router'; node: string; url: string }[]> {
    const answering = this.plan.processes.filter((p) => p.nodeRank === 0);
    return Promise.all(answering.map(async (p) => ({ role: p.role, node: p.node, url: await this.reach(p) })));
  }

  // ---- start ----

  /**
   * Start every rank, wait for each instance's /health in the plan's order, start the router,
   * wait for it, and send a one-token generate through the endpoint. On any failure (a rank
   * exits, a timeout, cancellation) every process started is stopped before this throws.
   */
  start(options: DeployStartOptions): Promise<StartResult> {
    if (this.startRun || this.stopping) {
      return Promise.reject(new CommandFailedError(`Deployment ${this.name} is already ${this.startRun ? 'starting' : 'stopping'}`, { cell: this.options.cell }, 'Wait for it, or stop it first.'));
    }
    if (this.phaseValue === 'ready' || this.phaseValue === 'degraded') {
      // starting over a live deployment would forget its process groups: stop (or restart) it first
      return Promise.reject(new CommandFailedError(`Deployment ${this.name} is already running`, { cell: this.options.cell }, 'Stop or restart it.'));
    }
    const abort = new AbortController();
    const run = { abort, stopRequested: false, promise: Promise.resolve() as unknown as Promise<StartResult> };
    run.promise = this.runStart(options, run).finally(() => {
      if (this.startRun === run) this.startRun = undefined;
    });
    this.startRun = run;
    return run.promise;
  }

  private async runStart(options: DeployStartOptions, run: { abort: AbortController; stopRequested: boolean }): Promise<StartResult> {
    const { emit } = options;
    const work = run.abort.signal;
    const onOuterAbort = (): void => run.abort.abort();
    if (options.signal?.aborted) run.abort.abort();
    options.signal?.addEventListener('abort', onOuterAbort, { once: true });
    const t0 = Date.now();
    this.startedAt = new Date().toISOString();
    this.readyAt = undefined;
    this.originValue = 'started';
    for (const e of this.entries) {
      e.remote = undefined;
      e.exitCode = undefined;
      e.phase = 'pending';
    }
    this.setPhase('starting');
    emit({ kind: 'doc', id: 'deploy-preview', doc: previewDoc(this.plan, this.simulated) });
    let step = 'starting server ranks';
    const progress = (s: string): void => {
      step = s;
      emit({ kind: 'status', text: `${this.name}: ${s}` });
      emit({ kind: 'doc', id: 'deploy-progress', doc: progressDoc(this.view(), s), persist: false });
    };

    // a rank that exits while we wait turns into a rejection of `failed`
    let rejectFailed: (err: unknown) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => (rejectFailed = reject));
    failed.catch(() => undefined);
    const aborted = new Promise<never>((_, reject) => work.addEventListener('abort', () => reject(new CancelledError()), { once: true }));
    aborted.catch(() => undefined);
    const race = <T>(p: Promise<T>): Promise<T> => Promise.race([p, failed, aborted]);
    // starts still in flight when something fails must finish, or a process could start unrecorded
    const starts: Promise<void>[] = [];
    const startAll = (entries: Entry[]): Promise<void> => {
      const p = this.startEntries(entries, relay);
      starts.push(p.catch(() => undefined));
      return race(p);
    };

    const checking = new Set<string>();
    const check = async (e: Entry): Promise<void> => {
      if (!e.remote || checking.has(e.process.id) || work.aborted) return;
      checking.add(e.process.id);
      try {
        const s = await this.cluster.launcher.status(e.remote, work);
        if (s.state === 'exited') {
          this.setProcessPhase(e, 'exited', s.exitCode);
          rejectFailed(new RankExited(e.process.id));
        } else if (s.state === 'gone') {
          e.reason = s.reason;
          this.setProcessPhase(e, 'gone');
          rejectFailed(new RankExited(e.process.id));
        }
      } catch {
        // a status check that fails (connection hiccup) is retried by the next poll
      } finally {
        checking.delete(e.process.id);
      }
    };
    const relay = new LogRelay(this.cluster, emit, {
      flushIntervalMs: options.logFlushIntervalMs,
      onEnded: (id) => {
        const e = this.entries.find((x) => x.process.id === id);
        if (e) void check(e);
      },
    });
    const poll = setInterval(() => {
      for (const e of this.entries) if (e.remote && (e.phase === 'starting' || e.phase === 'healthy')) void check(e);
    }, options.statusIntervalMs ?? 2000);
    poll.unref();

    try {
      progress(step);
      const servers = this.entries.filter((e) => e.process.role !== 'router');
      await startAll(servers);
      let generated = '';
      for (const action of this.plan.actions) {
        if (action.kind === 'start') {
          const e = this.entries.find((x) => x.process.id === action.processId);
          if (e && !e.remote) {
            progress(action.description);
            await startAll([e]);
          }
        } else if (action.kind === 'wait-healthy') {
          progress(action.description);
          await race(this.waitHealthy(action.target, options, work));
        } else if (action.kind === 'check-generate') {
          progress(action.description);
          generated = await race(this.checkGenerate(options, work));
        }
      }
      for (const e of this.entries) if (e.phase === 'starting') this.setProcessPhase(e, 'healthy');
      this.readyAt = new Date().toISOString();
      this.setPhase('ready');
      await this.persist();
      // the last startup lines go out before the ready doc, not after it
      await relay.dispose();
      const endpoint = await this.endpoint();
      const readyInMs = Date.now() - t0;
      emit({ kind: 'doc', id: 'deploy-status', doc: statusDoc(this.view(), { endpoint, readyInSec: readyInMs / 1000, generated }) });
      emit({ kind: 'status', text: `${this.name}: ready at ${endpoint}` });
      return { readyInMs, endpoint, generated };
    } catch (err) {
      run.abort.abort();
      await Promise.allSettled(starts);
      const cancelled = isAbortError(err) || (options.signal?.aborted ?? false) || run.stopRequested;
      clearInterval(poll);
      relay.flush();
      if (cancelled) {
        // stop() does the cleanup itself (and reports it); a cancelled cell cleans up here
        if (!run.stopRequested) {
          emit({ kind: 'status', text: `${this.name}: cancelled, stopping what was started` });
          const report = await this.stopAll({ graceMs: options.graceMs });
          this.setPhase('stopped');
          throw new CancelledError(`Deployment ${this.name} was cancelled; ${summarizeStop(report)}`);
        }
        throw new CancelledError(`Deployment ${this.name} was stopped while starting`);
      }
      const failure = await this.describeFailure(err, relay, step);
      emit({ kind: 'status', text: `${this.name}: failed, stopping the other processes` });
      const report = await this.stopAll({ graceMs: options.graceMs });
      this.setPhase('failed');
      emit({ kind: 'doc', id: 'deploy-status', doc: failureDoc(this.view(), { ...failure, stopSummary: summarizeStop(report) }) });
      const tailLines = (failure.logTail ?? '').split('\n').filter((l) => l.trim() !== '').slice(-15);
      const message = `${failure.title}${tailLines.length ? `\n--- last lines of ${failure.processId ?? 'its'} log${failure.node ? ` on ${failure.node}` : ''} ---\n${tailLines.join('\n')}` : ''}`;
      throw new DeploymentFailedError(message, { cell: this.options.cell, node: failure.node }, failure.hint, { processId: failure.processId, exitCode: failure.exitCode, logTail: failure.logTail });
    } finally {
      clearInterval(poll);
      options.signal?.removeEventListener('abort', onOuterAbort);
      await relay.dispose();
    }
  }

  /**
   * Not cancellable on purpose: a start takes well under a second, and aborting it halfway could
   * leave a process running whose process group we never learnt.
   */
  private async startEntries(entries: Entry[], relay: LogRelay): Promise<void> {
    const results = await Promise.allSettled(
      entries.map(async (e) => {
        const p = e.process;
        const state = await this.cluster.launcher.start({ node: p.node, deploymentId: this.name, name: remoteName(p), argv: p.argv, env: p.env, baseDir: this.options.baseDir });
        e.remote = state;
        this.setProcessPhase(e, 'starting');
        relay.follow(p.id, state);
      }),
    );
    // every start that succeeded is recorded before an error propagates, so cleanup finds it
    await this.persist();
    const bad = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (bad) throw bad.reason;
  }

  private rank0(target: string): Entry {
    const e = target === 'router' ? this.entries.find((x) => x.process.role === 'router') : this.entries.find((x) => x.process.instanceId === target && x.process.nodeRank === 0);
    if (!e) throw new CommandFailedError(`The plan has no process for ${target}`);
    return e;
  }

  private async waitHealthy(target: string, options: DeployStartOptions, signal: AbortSignal): Promise<void> {
    const e = this.rank0(target);
    const base = await this.reach(e.process);
    const deadline = Date.now() + (options.healthTimeoutMs ?? 30 * 60_000);
    const maxInterval = options.healthIntervalMs ?? 1000;
    let interval = Math.min(200, maxInterval);
    for (;;) {
      const r = await probeHealth(base, this.plan.paths.health, signal);
      if (r.ok) {
        const members = target === 'router' ? [e] : this.entries.filter((x) => x.process.instanceId === target);
        for (const m of members) if (m.phase === 'starting') this.setProcessPhase(m, 'healthy');
        return;
      }
      if (Date.now() > deadline) {
        throw new DeploymentFailedError(`${target} did not answer ${this.plan.paths.health} within ${Math.round((options.healthTimeoutMs ?? 1_800_000) / 1000)} s (last answer: ${r.detail})`, { cell: this.options.cell, node: e.process.node }, 'Check its log (loading weights can take long: raise the timeout), the port, and the host it binds.', { processId: e.process.id });
      }
      await sleep(interval, signal);
      interval = Math.min(maxInterval, interval * 1.5);
    }
  }

  private async checkGenerate(options: DeployStartOptions, signal: AbortSignal): Promise<string> {
    const base = await this.endpoint();
    const deadline = Date.now() + (options.generateTimeoutMs ?? 60_000);
    for (;;) {
      const r = await oneTokenGenerate(base, this.plan, signal);
      if (r.ok) return r.text;
      if (Date.now() > deadline) {
        const e = this.rank0(this.plan.endpoint.via === 'router' ? 'router' : (this.plan.instances[0]?.id ?? ''));
        throw new DeploymentFailedError(`A one-token generate through ${this.plan.endpoint.url} failed: ${r.detail}`, { cell: this.options.cell, node: e.process.node }, 'Every server answered /health; see the router and server logs for why requests fail.', { processId: e.process.id });
      }
      await sleep(1000, signal);
    }
  }

  private async describeFailure(err: unknown, relay: LogRelay, step: string): Promise<{ title: string; processId?: string; node?: string; exitCode?: number; logTail?: string; hint?: string }> {
    let processId: string | undefined;
    if (err instanceof RankExited) processId = err.processId;
    else if (err instanceof DeploymentFailedError) processId = err.detail.processId;
    const e = processId ? this.entries.find((x) => x.process.id === processId) : undefined;
    let logTail: string | undefined;
    if (e?.remote) {
      logTail = await this.logTail(e.process.id, 16 * 1024).catch(() => relay.recentLines(e.process.id, 60).join('\n'));
    }
    if (err instanceof RankExited && e) {
      const how = e.phase === 'exited' ? `exited with status ${e.exitCode ?? '?'}` : e.reason ? `is gone: ${e.reason}` : 'disappeared (killed, or its node rebooted)';
      return { title: `${e.process.id} on ${e.process.node} ${how} during startup (step: ${step})`, processId, node: e.process.node, exitCode: e.exitCode, logTail, hint: 'The other processes were stopped. Fix the cause its log shows and run the cell again.' };
    }
    if (err instanceof DeploymentFailedError) return { title: err.message, processId, node: e?.process.node ?? err.where.node, logTail, hint: err.hint };
    const message = err instanceof Error ? err.message : String(err);
    return { title: `Starting ${this.name} failed (step: ${step}): ${message}`, node: err instanceof CommandFailedError ? err.where.node : undefined, hint: err instanceof CommandFailedError ? err.hint : undefined };
  }

  // ---- status, logs ----

  /** ask every node about its processes (and, when alive, /health of each instance's rank 0) */
  async refresh(options: { signal?: AbortSignal; probeHealth?: boolean } = {}): Promise<DeploymentView> {
    if (this.startRun || this.stopping || this.phaseValue === 'stopped') return this.view();
    await Promise.all(
      this.entries.map(async (e) => {
        if (!e.remote) return;
        try {
          const s = await this.cluster.launcher.status(e.remote, options.signal);
          if (s.state === 'exited') e.exitCode = s.exitCode;
          if (s.state === 'gone') e.reason = s.reason;
          if (s.state !== 'running') e.phase = s.state;
          else if (options.probeHealth && e.process.nodeRank === 0) {
            const base = await this.reach(e.process);
            e.phase = (await probeHealth(base, this.plan.paths.health, options.signal, 3000)).ok ? 'healthy' : 'running';
          } else if (e.phase !== 'healthy') e.phase = 'running';
        } catch {
          // unreachable node: keep the last known phase
        }
      }),
    );
    const started = this.entries.filter((e) => e.remote);
    const dead = started.filter((e) => e.phase === 'exited' || e.phase === 'gone');
    if (started.length && dead.length === started.length) this.phaseValue = 'stopped';
    else if (dead.length && (this.phaseValue === 'ready' || this.phaseValue === 'starting')) this.phaseValue = 'degraded';
    this.changed();
    return this.view();
  }

  /** the last `maxBytes` of a process's log, read on its node */
  async logTail(processId: string, maxBytes = 64 * 1024, signal?: AbortSignal): Promise<string> {
    const e = this.entries.find((x) => x.process.id === processId);
    if (!e) throw new CommandFailedError(`Deployment ${this.name} has no process ${processId}`);
    if (!e.remote) return '';
    return this.cluster.launcher.tail(e.remote, maxBytes, signal);
  }

  // ---- stop ----

  /**
   * Stop every process group on every node (router first), then check each node's GPUs. Cancels a
   * start in progress. Safe to call twice: the second call waits for the first.
   */
  stop(options: { graceMs?: number; signal?: AbortSignal } = {}): Promise<StopReport> {
    if (this.stopping) return this.stopping;
    const p = this.runStop(options).finally(() => {
      this.stopping = undefined;
    });
    this.stopping = p;
    return p;
  }

  private async runStop(options: { graceMs?: number; signal?: AbortSignal }): Promise<StopReport> {
    const run = this.startRun;
    if (run) {
      run.stopRequested = true;
      run.abort.abort();
      await run.promise.catch(() => undefined);
    }
    this.setPhase('stopping');
    const report = await this.stopAll(options);
    this.setPhase('stopped');
    return report;
  }

  /** stop + start with the same plan */
  async restart(options: DeployStartOptions): Promise<StartResult> {
    await this.stop({ graceMs: options.graceMs });
    return this.start(options);
  }

  private async stopAll(options: { graceMs?: number; signal?: AbortSignal }): Promise<StopReport> {
    const started = this.entries.filter((e) => e.remote);
    // pids of every group member, per node, before the groups go away (for the GPU check)
    const nodes = [...new Set(started.map((e) => e.process.node))];
    const pidsByNode = new Map<string, number[]>();
    await Promise.all(
      nodes.map(async (n) => {
        const ranks = started.filter((e) => e.process.node === n).flatMap((e) => (e.remote ? [e.remote] : []));
        pidsByNode.set(n, await this.cluster.launcher.processIds(n, ranks, options.signal));
      }),
    );
    const outcomes = new Map<string, StopReport['processes'][number]['outcome']>();
    const errors: string[] = [];
    const stopOne = async (e: Entry): Promise<void> => {
      if (!e.remote) return;
      const wasAlive = e.phase !== 'exited' && e.phase !== 'gone';
      if (wasAlive) this.setProcessPhase(e, 'stopping');
      try {
        const outcome = await this.cluster.launcher.stop(e.remote, { graceMs: options.graceMs, signal: options.signal });
        outcomes.set(e.process.id, outcome);
        if (outcome !== 'not-running' || wasAlive) this.setProcessPhase(e, 'stopped');
      } catch (err) {
        outcomes.set(e.process.id, 'failed');
        errors.push(`${e.process.id} on ${e.process.node}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    // the router first, so it stops sending requests to servers that are going away
    await Promise.all(started.filter((e) => e.process.role === 'router').map(stopOne));
    await Promise.all(started.filter((e) => e.process.role !== 'router').map(stopOne));
    const gpuChecks = await Promise.all(nodes.map((n) => checkNodeGpus(this.cluster, n, pidsByNode.get(n) ?? [], { signal: options.signal })));
    if (errors.length === 0) await this.unpersist();
    else await this.persist();
    return {
      processes: this.entries.map((e) => ({ id: e.process.id, node: e.process.node, outcome: outcomes.get(e.process.id) ?? 'not started' })),
      gpuChecks,
      errors,
    };
  }
}

export function summarizeStop(report: StopReport): string {
  const stopped = report.processes.filter((p) => p.outcome === 'terminated' || p.outcome === 'killed').length;
  const killed = report.processes.filter((p) => p.outcome === 'killed').length;
  const parts = [`stopped ${stopped} process${stopped === 1 ? '' : 'es'}${killed ? ` (${killed} needed SIGKILL)` : ''}`];
  const leftover = report.gpuChecks.filter((c) => c.result === 'leftover');
  if (leftover.length) parts.push(leftover.map(describeGpuCheck).join('; '));
  const skipped = report.gpuChecks.filter((c) => c.result === 'no-nvidia-smi' || c.result === 'failed');
  if (skipped.length) parts.push(skipped.map(describeGpuCheck).join('; '));
  if (report.errors.length) parts.push(`could not stop: ${report.errors.join('; ')}`);
  return parts.join('; ');
}
