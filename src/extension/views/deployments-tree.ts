import * as vscode from 'vscode';
import { restartDeployment, stopDeployment } from '../../core/cells/deploy';
import { summarizeStop, type Deployment } from '../../core/deploy';
import { deploymentRow, processRow, roleRow, rolesOf, type TreeRow } from '../../core/deploy/tree-model';
import type { Session } from '../../core/exec/session';
import type { ProcessRole } from '../../core/plan/planner';
import { describeError } from '../../core/util/errors';
import { Disposable } from '../disposable';
import { logChannel, logger } from '../log';

const log = logger('deployments');

/** A deployment registered in an open notebook's session. */
export interface LiveDeployment {
  session: Session;
  deployment: Deployment;
}

export type DeploymentTreeNode =
  | { kind: 'deployment'; live: LiveDeployment }
  | { kind: 'role'; live: LiveDeployment; role: ProcessRole }
  | { kind: 'process'; live: LiveDeployment; processId: string };

export const LOG_SCHEME = 'moebench-deployment-log';

/** Command ids the lead registers (see the report for the package.json entries). */
export const DEPLOYMENT_COMMANDS = {
  showLog: 'moebench.deployments.showLog',
  stop: 'moebench.deployments.stop',
  restart: 'moebench.deployments.restart',
  refresh: 'moebench.deployments.refresh',
} as const;

function treeItem(row: TreeRow, collapsible: vscode.TreeItemCollapsibleState): vscode.TreeItem {
  const t = new vscode.TreeItem(row.label, collapsible);
  t.description = row.description;
  t.tooltip = row.tooltip;
  t.iconPath = new vscode.ThemeIcon(row.icon, row.iconColor ? new vscode.ThemeColor(row.iconColor) : undefined);
  t.contextValue = row.contextValue;
  return t;
}

/**
 * Deployments view: deployment -> role -> rank processes with live status, and the show log /
 * stop / restart actions. It lists what `list` returns (the deployments of every open notebook),
 * re-draws when a deployment changes, and asks the nodes for fresh status every
 * `pollIntervalMs` while there is something live to watch. Log tails open as read-only
 * documents (`moebench-deployment-log:` URIs) that this provider serves.
 */
export class DeploymentsTreeProvider extends Disposable implements vscode.TreeDataProvider<DeploymentTreeNode>, vscode.TextDocumentContentProvider {
  private readonly treeChanged = this._register(new vscode.EventEmitter<DeploymentTreeNode | undefined>());
  readonly onDidChangeTreeData = this.treeChanged.event;
  private readonly docChanged = this._register(new vscode.EventEmitter<vscode.Uri>());
  readonly onDidChange = this.docChanged.event;
  private readonly watched = new Map<Deployment, { dispose(): void }>();
  private readonly timer: NodeJS.Timeout;
  private polling = false;

  constructor(
    private readonly list: () => LiveDeployment[],
    options: { pollIntervalMs?: number } = {},
  ) {
    super();
    this._register(vscode.workspace.registerTextDocumentContentProvider(LOG_SCHEME, this));
    this.timer = setInterval(() => void this.poll(), options.pollIntervalMs ?? 10_000);
    this._register({ dispose: () => clearInterval(this.timer) });
    this._register({ dispose: () => this.unwatchAll() });
  }

  /** re-read the list (a cell ran, a notebook closed) and re-draw */
  refresh(): void {
    this.syncWatches();
    this.treeChanged.fire(undefined);
  }

  private syncWatches(): void {
    const now = new Set(this.list().map((l) => l.deployment));
    for (const [d, sub] of this.watched) {
      if (!now.has(d)) {
        sub.dispose();
        this.watched.delete(d);
      }
    }
    for (const d of now) {
      if (!this.watched.has(d)) this.watched.set(d, d.onDidChange(() => this.treeChanged.fire(undefined)));
    }
  }

  private unwatchAll(): void {
    for (const sub of this.watched.values()) sub.dispose();
    this.watched.clear();
  }

  /** fresh status from the nodes for every live deployment (one poll at a time) */
  async poll(): Promise<void> {
    if (this.polling || this.isDisposed) return;
    const live = this.list().filter((l) => ['ready', 'degraded'].includes(l.deployment.phase));
    if (live.length === 0) return;
    this.polling = true;
    try {
      await Promise.all(live.map((l) => l.deployment.refresh({ probeHealth: true }).catch((err: unknown) => log.warn(`status of ${l.deployment.name}: ${describeError(err).title}`))));
    } finally {
      this.polling = false;
    }
  }

  getChildren(node?: DeploymentTreeNode): DeploymentTreeNode[] {
    if (!node) {
      this.syncWatches();
      return this.list().map((live) => ({ kind: 'deployment', live }));
    }
    if (node.kind === 'deployment') return rolesOf(node.live.deployment.view()).map((r) => ({ kind: 'role', live: node.live, role: r.role }));
    if (node.kind === 'role') {
      return node.live.deployment
        .view()
        .processes.filter((p) => p.role === node.role)
        .map((p) => ({ kind: 'process', live: node.live, processId: p.id }));
    }
    return [];
  }

  getTreeItem(node: DeploymentTreeNode): vscode.TreeItem {
    const view = node.live.deployment.view();
    if (node.kind === 'deployment') {
      const t = treeItem(deploymentRow(view), vscode.TreeItemCollapsibleState.Expanded);
      t.id = `${node.live.session.notebookPath}#${view.name}`;
      return t;
    }
    if (node.kind === 'role') {
      const processes = view.processes.filter((p) => p.role === node.role);
      const t = treeItem(roleRow(node.role, processes), vscode.TreeItemCollapsibleState.Expanded);
      t.id = `${node.live.session.notebookPath}#${view.name}/${node.role}`;
      return t;
    }
    const p = view.processes.find((x) => x.id === node.processId);
    if (!p) return new vscode.TreeItem(node.processId);
    const t = treeItem(processRow(p), vscode.TreeItemCollapsibleState.None);
    t.id = `${node.live.session.notebookPath}#${view.name}/${p.id}`;
    t.command = { command: DEPLOYMENT_COMMANDS.showLog, title: 'Show Log', arguments: [node] };
    return t;
  }

  // ---- log documents ----

  logUri(live: LiveDeployment, processId: string): vscode.Uri {
    const query = new URLSearchParams({ notebook: live.session.notebookPath, deployment: live.deployment.name, process: processId }).toString();
    return vscode.Uri.from({ scheme: LOG_SCHEME, path: `/${live.deployment.name}/${processId.replace(/\//g, '.')}.log`, query });
  }

  async provideTextDocumentContent(uri: vscode.Uri, token: vscode.CancellationToken): Promise<string> {
    const q = new URLSearchParams(uri.query);
    const live = this.list().find((l) => l.session.notebookPath === q.get('notebook') && l.deployment.name === q.get('deployment'));
    const processId = q.get('process') ?? '';
    if (!live) return `The deployment ${q.get('deployment') ?? ''} is no longer open in any notebook.\n`;
    const ac = new AbortController();
    const sub = token.onCancellationRequested(() => ac.abort());
    try {
      const tail = await live.deployment.logTail(processId, 256 * 1024, ac.signal);
      const p = live.deployment.view().processes.find((x) => x.id === processId);
      return `# ${live.deployment.name} ${processId} on ${p?.node ?? '?'} (last 256 KiB, as of ${new Date().toLocaleTimeString()}; run Show Log again to refresh)\n${tail}`;
    } catch (err) {
      return `Could not read the log of ${processId}: ${describeError(err).title}\n`;
    } finally {
      sub.dispose();
    }
  }

  // ---- commands ----

  /** Show Log on a process (or the first process of a role / deployment) */
  async showLog(node?: DeploymentTreeNode): Promise<void> {
    const target = node ?? (await this.pick('Show the log of which deployment?'));
    if (!target) return;
    let processId: string | undefined;
    const view = target.live.deployment.view();
    if (target.kind === 'process') processId = target.processId;
    else {
      const candidates = view.processes.filter((p) => (target.kind === 'role' ? p.role === target.role : true));
      const chosen = candidates.length === 1 ? candidates[0] : await vscode.window.showQuickPick(candidates.map((p) => ({ label: p.id, description: `${p.node} · ${p.phase}`, id: p.id })), { placeHolder: 'Which process?' });
      processId = chosen?.id;
    }
    if (!processId) return;
    const uri = this.logUri(target.live, processId);
    this.docChanged.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.languages.setTextDocumentLanguage(doc, 'log');
    await vscode.window.showTextDocument(doc, { preview: true });
  }

  async stop(node?: DeploymentTreeNode): Promise<void> {
    const target = node ?? (await this.pick('Stop which deployment?'));
    if (!target) return;
    const d = target.live.deployment;
    const view = d.view();
    const nodes = new Set(view.processes.map((p) => p.node)).size;
    const gpus = view.processes.reduce((n, p) => n + p.gpuIds.length, 0);
    const ok = await vscode.window.showWarningMessage(`Stop deployment ${d.name}?`, { modal: true, detail: `${view.processes.length} processes on ${nodes} node${nodes === 1 ? '' : 's'} (${gpus} GPUs) will be terminated.` }, 'Stop');
    if (ok !== 'Stop') return;
    try {
      const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Stopping ${d.name}…` }, () => stopDeployment(target.live.session, d.name));
      const summary = summarizeStop(report);
      log.info(`${d.name}: ${summary}`);
      const leftover = report.gpuChecks.some((c) => c.result === 'leftover') || report.errors.length > 0;
      if (leftover) void vscode.window.showErrorMessage(`${d.name}: ${summary}`);
      else void vscode.window.showInformationMessage(`${d.name} stopped: ${summary}`);
    } catch (err) {
      const e = describeError(err);
      log.error(`stopping ${d.name}: ${e.title}`);
      void vscode.window.showErrorMessage(`Stopping ${d.name} failed: ${e.title}${e.hint ? ` ${e.hint}` : ''}`);
    } finally {
      this.refresh();
    }
  }

  async restart(node?: DeploymentTreeNode): Promise<void> {
    const target = node ?? (await this.pick('Restart which deployment?'));
    if (!target) return;
    const d = target.live.deployment;
    const ok = await vscode.window.showWarningMessage(`Restart deployment ${d.name}?`, { modal: true, detail: 'Every process is stopped and started again with the same commands; requests in flight fail.' }, 'Restart');
    if (ok !== 'Restart') return;
    const channel = logChannel();
    try {
      const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Restarting ${d.name}…`, cancellable: true }, (progress, token) => {
        const ac = new AbortController();
        token.onCancellationRequested(() => ac.abort());
        return restartDeployment(target.live.session, d.name, {
          signal: ac.signal,
          emit: (e) => {
            if (e.kind === 'log') channel.append(e.text);
            else if (e.kind === 'status') progress.report({ message: e.text });
          },
        });
      });
      void vscode.window.showInformationMessage(`${d.name} is ready at ${result.endpoint} (${(result.readyInMs / 1000).toFixed(1)} s)`);
    } catch (err) {
      const e = describeError(err);
      log.error(`restarting ${d.name}: ${e.title}`);
      void vscode.window.showErrorMessage(`Restarting ${d.name} failed: ${e.title.split('\n')[0]}`, 'Show Log').then((choice) => {
        if (choice) channel.show(true);
      });
    } finally {
      this.refresh();
    }
  }

  private async pick(placeHolder: string): Promise<DeploymentTreeNode | undefined> {
    const all = this.list();
    if (all.length === 0) {
      void vscode.window.showInformationMessage('No deployment is running in an open notebook.');
      return undefined;
    }
    if (all.length === 1) return { kind: 'deployment', live: all[0] };
    const chosen = await vscode.window.showQuickPick(
      all.map((live) => ({ label: live.deployment.name, description: `${live.deployment.phase} · ${live.deployment.clusterName}`, live })),
      { placeHolder },
    );
    return chosen && { kind: 'deployment', live: chosen.live };
  }
}

/** Command id -> handler, for `vscode.commands.registerCommand` in extension.ts. */
export function deploymentCommandHandlers(provider: DeploymentsTreeProvider): Record<string, (node?: DeploymentTreeNode) => Promise<void>> {
  return {
    [DEPLOYMENT_COMMANDS.showLog]: (node) => provider.showLog(node),
    [DEPLOYMENT_COMMANDS.stop]: (node) => provider.stop(node),
    [DEPLOYMENT_COMMANDS.restart]: (node) => provider.restart(node),
    [DEPLOYMENT_COMMANDS.refresh]: async () => {
      await provider.poll();
      provider.refresh();
    },
  };
}
