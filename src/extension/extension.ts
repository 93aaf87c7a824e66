import * as vscode from 'vscode';
import { MoeBenchSerializer } from './serializer';
import { MoeBenchController } from './controller';
import { vscodeHost } from './host-services';
import { cellLogLines, logChannel, logger } from './log';
import { defaultExecutors } from '../core/cells';
import { serializeNotebook } from '../core/notebook/format';
import { starterNotebook } from '../core/notebook/starter';
import { ClusterTreeProvider, clusterNodeCommands } from './views/cluster-tree';
import { RunsTreeProvider } from './views/runs-tree';
import { DeploymentsTreeProvider, deploymentCommandHandlers } from './views/deployments-tree';
import { listDeployments } from '../core/cells/deploy';
import { UntrustedCellStatus } from './trust';
import { quickBenchmarkCommand } from './quick-benchmark';
import { startLanguageClient } from './language-client';
import type { LanguageClient } from 'vscode-languageclient/node';

declare const __MOEBENCH_VERSION__: string | undefined;
const VERSION = typeof __MOEBENCH_VERSION__ === 'string' ? __MOEBENCH_VERSION__ : '0.0.0-dev';

export interface MoeBenchApi {
  controller: MoeBenchController;
  /** activation time as measured inside activate(), for the closing figures */
  activationMs: number;
  untrustedStatus: UntrustedCellStatus;
  /** resolves when the language server is up (started after activation, off the critical path) */
  languageClient: Promise<LanguageClient | undefined>;
  /** lines written to the output channel by cells (the full log behind capped cell outputs) */
  cellLogLines(): number;
}

/** Wiring only: every behaviour lives in core or in the adapter classes. */
export function activate(context: vscode.ExtensionContext): MoeBenchApi {
  const t0 = performance.now();
  const log = logger('activate');
  context.subscriptions.push(logChannel());
  context.subscriptions.push(vscode.workspace.registerNotebookSerializer('moebench', new MoeBenchSerializer(), { transientOutputs: false }));
  const controller = new MoeBenchController(defaultExecutors(), vscodeHost(context.secrets, context.workspaceState), VERSION);
  context.subscriptions.push(controller);

  const untrustedStatus = new UntrustedCellStatus(context.subscriptions);
  context.subscriptions.push(vscode.notebooks.registerNotebookCellStatusBarItemProvider('moebench', untrustedStatus));

  const clusterTree = new ClusterTreeProvider(controller);
  const clusterView = vscode.window.createTreeView('moebench.cluster', { treeDataProvider: clusterTree, showCollapseAll: true });
  // GPU streams run only while someone can see them
  clusterTree.setVisible(clusterView.visible);
  context.subscriptions.push(clusterView, clusterTree, clusterView.onDidChangeVisibility((e) => clusterTree.setVisible(e.visible)));
  const runsTree = new RunsTreeProvider(controller);
  context.subscriptions.push(vscode.window.createTreeView('moebench.runs', { treeDataProvider: runsTree }));
  const deploymentsTree = new DeploymentsTreeProvider(() => controller.sessions().flatMap(({ session }) => listDeployments(session).map((deployment) => ({ session, deployment }))));
  context.subscriptions.push(deploymentsTree, vscode.window.createTreeView('moebench.deployments', { treeDataProvider: deploymentsTree }));
  for (const [id, fn] of Object.entries(clusterNodeCommands(clusterTree))) context.subscriptions.push(vscode.commands.registerCommand(id, fn));
  for (const [id, fn] of Object.entries(deploymentCommandHandlers(deploymentsTree))) context.subscriptions.push(vscode.commands.registerCommand(id, fn));
  context.subscriptions.push(
    controller.onDidChange(() => {
      clusterTree.refresh();
      runsTree.refresh();
      deploymentsTree.refresh();
    }),
  );

  context.subscriptions.push(
    vscode.commands.registerCommand('moebench.newNotebook', async () => {
      const nb = starterNotebook();
      const data = await new MoeBenchSerializer().deserializeNotebook(new TextEncoder().encode(serializeNotebook(nb)));
      const doc = await vscode.workspace.openNotebookDocument('moebench', data);
      await vscode.window.showNotebookDocument(doc);
    }),
    vscode.commands.registerCommand('moebench.runAll', () => vscode.commands.executeCommand('notebook.execute')),
    vscode.commands.registerCommand('moebench.stopAll', async () => {
      controller.stopAll();
      await vscode.commands.executeCommand('notebook.cancelExecution');
      const failed = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'MoE Bench: stopping deployments…' }, () => controller.stopAllDeployments());
      if (failed.length) void vscode.window.showErrorMessage(`MoE Bench: could not stop ${failed.map((f) => `${f.name} (${f.error})`).join('; ')}`);
    }),
    vscode.commands.registerCommand('moebench.showLog', () => logChannel().show(true)),
    vscode.commands.registerCommand('moebench.quickBenchmark', quickBenchmarkCommand),
    vscode.commands.registerCommand('moebench.refreshViews', () => {
      clusterTree.refresh();
      runsTree.refresh();
    }),
  );
  const languageClient = startLanguageClient(context).then(
    (client) => {
      context.subscriptions.push({ dispose: () => void client.stop() });
      return client;
    },
    (err: unknown) => {
      log.error(`language server failed to start: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    },
  );
  const activationMs = performance.now() - t0;
  log.info(`MoE Bench ${VERSION} activated in ${activationMs.toFixed(1)} ms`);
  return { controller, activationMs, cellLogLines, untrustedStatus, languageClient };
}

export function deactivate(): void {
  // subscriptions dispose the controller, which disposes every notebook session
}
