import type { Cluster } from '../launch/types';
import { listenHost, type Deployment } from '../deploy';
import type { PlannedProcess } from '../plan';
import { CommandFailedError, MoeBenchError } from '../util/errors';
import type { InjectedFault } from './analyze';
import type { CutNodeFault, FaultSpec, KillFault, SlowDownFault } from '../spec/faults-spec';

export class FaultSpecError extends MoeBenchError {}

/**
 * Fixed script: signal the process group recorded in a supervisor directory's pid file (the
 * current one, also after a restart). Args: dir signal-name. The name comes from a fixed list.
 */
const SIGNALS = new Set(['KILL', 'TERM', 'STOP', 'CONT']);

/** The load run's clock, so fault times and request times share one origin. */
export interface RunClock {
  /** ms since the load's t0; undefined while warming up */
  elapsedMs(): number | undefined;
}

interface Pending {
  timer: ReturnType<typeof setTimeout>;
}


/**
 * Carries out a bench cell's faults against a deployment at their times: kill a rank's process
 * group (and optionally start it again), stall a server through SGLang's /slow_down, or cut a
 * node. "Cut" pauses (SIGSTOP) every process group of the deployment on that node: its sockets
 * stay open but nothing answers, as when a network partition drops packets (no resets); it is
 * resumed (SIGCONT) after `forSec`. Real packet filtering needs root on the node, which a
 * benchmark should not ask for. Every fault that is undone later is undone on dispose at the
 * latest, so a cancelled run never leaves a node paused or a server slowed down.
 */
export class FaultInjector {
  private readonly events: InjectedFault[] = [];
  private readonly timers = new Set<Pending>();
  private readonly undo = new Map<number, () => Promise<void>>();
  private readonly inflight = new Set<Promise<void>>();
  private clock: RunClock | undefined;
  private poll: ReturnType<typeof setInterval> | undefined;
  private disposed = false;

  constructor(
    private readonly faults: readonly FaultSpec[],
    private readonly deployment: Deployment,
    private readonly log: (line: string) => void,
  ) {
    for (const f of faults) this.resolve(f);
  }

  get cluster(): Cluster {
    return this.deployment.cluster;
  }

  /** Checks every fault names something that exists, before any load is sent. */
  private resolve(f: FaultSpec): void {
    if (f.kill) this.processFor(f.kill.role, f.kill.instance, f.kill.rank);
    if (f.slowDown) this.processFor(f.slowDown.role, f.slowDown.instance, 0);
    if (f.cutNode) {
      const n = f.cutNode.node;
      if (!this.deployment.plan.processes.some((p) => p.node === n)) {
        throw new FaultSpecError(`Node ${n} runs nothing of deployment ${this.deployment.name}`, { field: 'faults' }, `Nodes in use: ${[...new Set(this.deployment.plan.processes.map((p) => p.node))].join(', ')}.`);
      }
    }
  }

  private processFor(role: string, instance: number, rank: number): PlannedProcess {
    const p = role === 'router' ? this.deployment.plan.processes.find((x) => x.role === 'router') : this.deployment.plan.processes.find((x) => x.role === role && x.instanceId === `${role}-${instance}` && x.nodeRank === rank);
    if (!p) {
      const known = this.deployment.plan.processes.map((x) => x.id).join(', ');
      throw new FaultSpecError(`Deployment ${this.deployment.name} has no ${role === 'router' ? 'router' : `${role}-${instance}/rank-${rank}`}`, { field: 'faults' }, `Its processes: ${known}.`);
    }
    return p;
  }

  /** Start the clock: faults are scheduled once the load leaves its warmup. */
  attach(clock: RunClock): void {
    this.clock = clock;
    const tryStart = (): boolean => {
      const now = clock.elapsedMs();
      if (now === undefined || this.disposed) return false;
      this.faults.forEach((f, index) => this.schedule(f, index, now));
      return true;
    };
    if (tryStart()) return;
    this.poll = setInterval(() => {
      if (tryStart() && this.poll) {
        clearInterval(this.poll);
        this.poll = undefined;
      }
    }, 20);
  }

  private now(): number {
    return this.clock?.elapsedMs() ?? 0;
  }

  private schedule(f: FaultSpec, index: number, nowMs: number): void {
    const plannedAtMs = f.at * 1000;
    const entry: Pending = {
      timer: setTimeout(() => {
        this.timers.delete(entry);
        this.track(this.fire(f, index, plannedAtMs));
      }, Math.max(0, plannedAtMs - nowMs)),
    };
    this.timers.add(entry);
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private later(ms: number, action: () => Promise<void>): void {
    const entry: Pending = {
      timer: setTimeout(() => {
        this.timers.delete(entry);
        this.track(action());
      }, ms),
    };
    this.timers.add(entry);
  }

  private async fire(f: FaultSpec, index: number, plannedAtMs: number): Promise<void> {
    const ev: InjectedFault = { index, kind: f.kill ? 'kill' : f.slowDown ? 'slowDown' : 'cutNode', label: '', plannedAtMs, atMs: this.now(), endedAtMs: null, detail: [] };
    this.events.push(ev);
    try {
      if (f.kill) await this.kill(f.kill, ev);
      else if (f.slowDown) await this.slowDown(f.slowDown, ev);
      else if (f.cutNode) await this.cutNode(f.cutNode, ev);
      this.log(`fault: ${ev.label} at ${(ev.atMs / 1000).toFixed(2)} s`);
    } catch (err) {
      ev.error = err instanceof Error ? err.message : String(err);
      this.log(`fault: ${ev.label || ev.kind} failed: ${ev.error}`);
    }
  }

  private async signalGroup(p: PlannedProcess, signal: string): Promise<void> {
    if (!SIGNALS.has(signal)) throw new FaultSpecError(`Unknown signal ${signal}`);
    const state = this.deployment.remoteStates().find((s) => s.id === p.id);
    if (!state) throw new CommandFailedError(`${p.id} was never started`, { node: p.node });
    await this.cluster.launcher.signal(state.remote, signal);
  }

  private async kill(k: KillFault, ev: InjectedFault): Promise<void> {
    const p = this.processFor(k.role, k.instance, k.rank);
    ev.label = `kill ${p.id} (SIG${k.signal})`;
    await this.signalGroup(p, k.signal);
    ev.atMs = this.now();
    ev.detail.push(`SIG${k.signal} to the process group of ${p.id} on ${p.node}`);
    if (k.restartAfterSec !== undefined) {
      const state = this.deployment.remoteStates().find((s) => s.id === p.id);
      let done = false;
      const restart = async (): Promise<void> => {
        if (done || !state) return;
        done = true;
        this.undo.delete(ev.index);
        // same command, same rank name: the launcher's record of it is the deployment's
        await this.deployment.restartRank(p.id);
        ev.endedAtMs = this.now();
        ev.detail.push(`restarted with the same command after ${k.restartAfterSec} s`);
        this.log(`fault: restarted ${p.id} at ${(ev.endedAtMs / 1000).toFixed(2)} s`);
      };
      this.undo.set(ev.index, restart);
      this.later(k.restartAfterSec * 1000, restart);
    }
  }

  private async postSlowDown(p: PlannedProcess, seconds: number | null): Promise<void> {
    const base = await this.cluster.httpEndpoint(p.node, p.port, listenHost(p));
    const res = await fetch(`${base}/slow_down`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ forward_sleep_time: seconds }), signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer();
    if (!res.ok) throw new CommandFailedError(`POST ${base}/slow_down answered HTTP ${res.status}`, { node: p.node }, 'The server must be SGLang (vLLM has no /slow_down).');
  }

  private async slowDown(s: SlowDownFault, ev: InjectedFault): Promise<void> {
    const p = this.processFor(s.role, s.instance, 0);
    ev.label = `slow down ${p.instanceId} (${s.sleepSec} s per forward pass, ${s.forSec} s)`;
    await this.postSlowDown(p, s.sleepSec);
    ev.atMs = this.now();
    ev.detail.push(`POST /slow_down {"forward_sleep_time": ${s.sleepSec}} to ${p.instanceId} on ${p.node}`);
    let undone = false;
    const reset = async (): Promise<void> => {
      if (undone) return;
      undone = true;
      this.undo.delete(ev.index);
      await this.postSlowDown(p, null);
      ev.endedAtMs = this.now();
      ev.detail.push('reset with {"forward_sleep_time": null}');
    };
    this.undo.set(ev.index, reset);
    this.later(s.forSec * 1000, reset);
  }

  private async cutNode(c: CutNodeFault, ev: InjectedFault): Promise<void> {
    const procs = this.deployment.plan.processes.filter((p) => p.node === c.node && this.deployment.remoteStates().some((s) => s.id === p.id));
    ev.label = `cut ${c.node} (${procs.map((p) => p.id).join(', ')} paused ${c.forSec} s)`;
    await Promise.all(procs.map((p) => this.signalGroup(p, 'STOP')));
    ev.atMs = this.now();
    ev.detail.push(`SIGSTOP to ${procs.length} process group(s) on ${c.node}: connections stay open, nothing answers`);
    let undone = false;
    const resume = async (): Promise<void> => {
      if (undone) return;
      undone = true;
      this.undo.delete(ev.index);
      await Promise.all(procs.map((p) => this.signalGroup(p, 'CONT')));
      ev.endedAtMs = this.now();
      ev.detail.push('resumed with SIGCONT');
    };
    this.undo.set(ev.index, resume);
    this.later(c.forSec * 1000, resume);
  }

  /** faults as carried out so far */
  injected(): InjectedFault[] {
    return [...this.events].sort((a, b) => a.index - b.index);
  }

  /**
   * Stop scheduling, undo what is still in effect (resume a paused node, reset /slow_down, run a
   * restart that was asked for but not yet due) and wait for actions in progress. A killed rank
   * without `restartAfterSec` stays dead: the deployment is degraded until it is restarted.
   */
  async dispose(): Promise<void> {
    this.disposed = true;
    if (this.poll) clearInterval(this.poll);
    for (const t of this.timers) clearTimeout(t.timer);
    this.timers.clear();
    await Promise.allSettled([...this.inflight]);
    const pending = [...this.undo.values()];
    await Promise.allSettled(pending.map((u) => u()));
  }
}
