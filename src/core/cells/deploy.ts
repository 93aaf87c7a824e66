import type { CellContext, CellExecutor } from '../exec/cell';
import type { Cluster } from '../launch/types';
import type { CellEventSink } from '../exec/events';
import type { Session } from '../exec/session';
import { parseDeploySpec, planParsedDeployCell, type LocatedIssue, type Plan, type PlanCluster } from '../plan';
import { asLaunched, Deployment, launchedDeployment, sessionDeployments, type StartResult, type StopReport } from '../deploy';
import { deploymentsDir, listDeploymentRecords, recordPath } from '../deploy/record';
import { stopDoc, statusDoc } from '../deploy/docs';
import { toDisposable } from '../util/disposable';
import { CellReferenceError } from '../util/errors';
import type { OutputDoc } from '../output/doc';

/**
 * `moebench-deploy`: the YAML is the deployment spec (no `action:` field). Running the cell plans
 * it against the named cluster, shows the exact commands, launches every rank, waits until the
 * servers and the router are healthy and a one-token generate goes through, and registers the
 * deployment under its name for bench cells.
 *
 * Re-running the cell restarts the deployment cleanly: the running one (from this session, or
 * found on disk from before a window reload) is stopped first. One exception saves a long
 * reload: a deployment found running after a reload whose commands are exactly the planned ones
 * is adopted as it is (use Restart to start it fresh).
 *
 * Closing the notebook (disposing the session) does NOT stop a deployment: a 96-GPU deployment
 * that took 20 minutes to load must not die because a window closed. Its record stays under
 * `.moebench/deployments/`, the next session re-attaches, and Stop (cell re-run, Deployments
 * tree, command palette) is the explicit way to end it. The setting `deploy.stopOnSessionEnd`
 * (true for headless runs that should leave nothing behind) changes that. A start still in
 * progress when the session ends is cancelled, which stops what it had started.
 */
export class DeployCellExecutor implements CellExecutor {
  readonly language = 'moebench-deploy';

  constructor(
    private readonly options: {
      /** supervisor directory on the nodes (default ~/.moebench/deployments) */
      remoteDir?: string;
      healthTimeoutMs?: number;
      graceMs?: number;
    } = {},
  ) {}

  async execute(source: string, ctx: CellContext): Promise<void> {
    const parsed = parseDeploySpec(source, ctx.cell.name);
    const { spec } = parsed;
    const cellName = ctx.cell.name ?? spec.name;
    const cluster = ctx.session.clusters.get(spec.cluster, cellName);
    // the allow list lives in the user's settings or on the command line, never in the notebook
    const { plan, warnings } = planParsedDeployCell(parsed, planClusterOf(cluster), cellName, { allowEnvNames: ctx.host.setting<string[]>('env.allowNames', []) });
    if (warnings.length) ctx.emit({ kind: 'doc', id: 'deploy-warnings', doc: warningsDoc(plan, warnings) });

    const recordFile = recordPath(deploymentsDir(ctx.session.notebookPath), plan.name);
    const previous = await this.previous(ctx.session, plan.name, cluster, recordFile, ctx.signal);
    if (previous && previous.origin === 'reattached' && previous.phase === 'ready' && sameCommands(previous.plan, plan) && previous.view().processes.every((p) => p.phase === 'healthy' || (p.phase === 'running' && p.nodeRank > 0))) {
      previous.adopt();
      ctx.session.deployments.set(plan.name, previous, cellName);
      // adopted by this run's deploy cell: stopped at the end like one it started (headless runs without --keep-deployments)
      this.stopOnSessionEnd(previous, ctx);
      const endpoint = await previous.endpoint();
      ctx.emit({ kind: 'doc', id: 'deploy-status', doc: statusDoc(previous.view(), { endpoint, note: 'already running with exactly these commands (found after a reload): adopted without a restart. Use Restart to start it fresh.' }) });
      return;
    }
    if (previous) {
      ctx.emit({ kind: 'status', text: `${plan.name}: stopping the previous deployment` });
      const report = await previous.stop({ graceMs: this.graceMs(ctx) });
      ctx.emit({ kind: 'doc', id: 'deploy-previous-stop', doc: { ...stopDoc(previous.view(), report), title: `Previous ${plan.name} stopped before the restart` }, persist: false });
    }

    const deployment = new Deployment(plan, cluster, { recordFile, baseDir: this.remoteDir(ctx), cell: cellName });
    ctx.session.deployments.set(plan.name, deployment, cellName);
    this.stopOnSessionEnd(deployment, ctx);
    await deployment.start({
      emit: ctx.emit,
      signal: ctx.signal,
      healthTimeoutMs: this.options.healthTimeoutMs ?? ctx.host.setting('deploy.healthTimeoutSec', 1800) * 1000,
      graceMs: this.graceMs(ctx),
    });
  }

  private stopOnSessionEnd(deployment: Deployment, ctx: CellContext): void {
    if (ctx.host.setting('deploy.stopOnSessionEnd', false)) {
      ctx.session.store.add(toDisposable(async () => void (await deployment.stop({ graceMs: this.graceMs(ctx) }))));
    }
  }

  private graceMs(ctx: CellContext): number {
    return this.options.graceMs ?? ctx.host.setting('deploy.stopGraceSec', 10) * 1000;
  }

  private remoteDir(ctx: CellContext): string | undefined {
    return this.options.remoteDir ?? (ctx.host.setting<string>('deploy.remoteDir', '') || undefined);
  }

  /** the deployment of this name: registered in the session, or recorded on disk before a reload */
  private async previous(session: Session, name: string, cluster: Cluster, recordFile: string, signal: AbortSignal): Promise<Deployment | undefined> {
    const registered = asLaunched(session.deployments.tryGet(name));
    if (registered) return registered;
    const { records } = await listDeploymentRecords(deploymentsDir(session.notebookPath));
    const found = records.find((r) => r.file === recordFile);
    if (!found) return undefined;
    if (found.record.cluster !== cluster.name) {
      throw new CellReferenceError(
        `Deployment ${name} is still recorded as running on cluster ${found.record.cluster}, not ${cluster.name}`,
        { cell: name, file: recordFile },
        `Stop it from the Deployments tree after running the ${found.record.cluster} cluster cell, or delete ${recordFile} if it is gone.`,
      );
    }
    const d = Deployment.fromRecord(found.record, cluster, { recordFile, cell: name });
    await d.refresh({ signal, probeHealth: true });
    return d;
  }
}

/** What the planner needs from a live cluster: names, addresses and GPU counts. */
export function planClusterOf(cluster: Cluster): PlanCluster {
  return { name: cluster.name, kind: cluster.kind, nodes: cluster.nodes.map((n) => ({ name: n.name, address: n.address, gpus: n.gpus })) };
}

function sameCommands(a: Plan, b: Plan): boolean {
  const key = (p: Plan) => JSON.stringify(p.processes.map((x) => [x.id, x.node, x.argv, Object.entries(x.env).sort()]));
  return key(a) === key(b);
}

function warningsDoc(plan: Plan, warnings: LocatedIssue[]): OutputDoc {
  return {
    title: `Deployment ${plan.name}: ${warnings.length} warning${warnings.length === 1 ? '' : 's'}`,
    blocks: [
      { type: 'badges', items: [{ level: 'warn', text: `${warnings.length} warning${warnings.length === 1 ? '' : 's'}` }] },
      { type: 'table', columns: ['line', 'field', 'warning'], rows: warnings.map((w) => [w.line, w.path.join('.'), w.hint ? `${w.message}. ${w.hint}` : w.message]) },
    ],
  };
}

/** The deployments of a session, for the Deployments tree and the command palette. */
export function listDeployments(session: Session): Deployment[] {
  return sessionDeployments(session);
}

function deploymentNamed(session: Session, name: string): Deployment {
  return launchedDeployment(session.deployments.get(name), { why: 'Run its moebench-deploy cell first.' });
}

/** Stop every process of a deployment and check the GPUs (Deployments tree, command palette). */
export async function stopDeployment(session: Session, name: string, options: { graceMs?: number; signal?: AbortSignal } = {}): Promise<StopReport> {
  return deploymentNamed(session, name).stop(options);
}

/**
 * Stop and start again with the same plan. `emit` receives the launch's log lines and docs (an
 * output channel, when not run from the cell).
 */
export async function restartDeployment(session: Session, name: string, options: { emit?: CellEventSink; signal?: AbortSignal; healthTimeoutMs?: number; graceMs?: number } = {}): Promise<StartResult> {
  const d = deploymentNamed(session, name);
  return d.restart({ emit: options.emit ?? (() => undefined), signal: options.signal, healthTimeoutMs: options.healthTimeoutMs, graceMs: options.graceMs });
}
