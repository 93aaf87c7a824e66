import * as vscode from 'vscode';

/**
 * In an untrusted workspace VS Code asks for trust before running any cell, and MoE Bench's
 * controller refuses too. This provider makes every code cell say why it will not run, before
 * anyone tries.
 */
export class UntrustedCellStatus implements vscode.NotebookCellStatusBarItemProvider {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCellStatusBarItems = this.emitter.event;

  constructor(subscriptions: vscode.Disposable[]) {
    subscriptions.push(this.emitter, vscode.workspace.onDidGrantWorkspaceTrust(() => this.emitter.fire()));
  }

  provideCellStatusBarItems(cell: vscode.NotebookCell): vscode.NotebookCellStatusBarItem[] {
    if (vscode.workspace.isTrusted || cell.kind !== vscode.NotebookCellKind.Code) return [];
    const item = new vscode.NotebookCellStatusBarItem('$(workspace-untrusted) Not run: workspace not trusted', vscode.NotebookCellStatusBarAlignment.Left);
    item.tooltip = 'MoE Bench runs commands on your machine and cluster, so it runs no cell and opens no connection until you trust this workspace.';
    item.command = 'workbench.trust.manage';
    return [item];
  }
}
