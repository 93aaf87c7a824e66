import * as path from 'node:path';
import * as vscode from 'vscode';
import { listRuns, readRunMeta, readRunResult, type RunMeta } from '../../core/results';
import type { MoeBenchController } from '../controller';

interface RunItem {
  dir: string;
  meta?: RunMeta;
  outputTokS?: number;
  ttftP99Ms?: number;
  completed?: number;
  failed?: number;
  error?: string;
}

/** Runs view: the run store of every open notebook, newest first, with headline numbers. */
export class RunsTreeProvider implements vscode.TreeDataProvider<RunItem> {
  private readonly emitter = new vscode.EventEmitter<RunItem | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;

  constructor(private readonly controller: MoeBenchController) {}

  refresh(): void {
    this.emitter.fire(undefined);
  }

  async getChildren(item?: RunItem): Promise<RunItem[]> {
    if (item) return [];
    const stores = new Set(this.controller.sessions().map((s) => s.session.runStoreDir));
    const out: RunItem[] = [];
    for (const store of stores) {
      for (const id of (await listRuns(store)).reverse().slice(0, 200)) {
        const dir = path.join(store, id);
        const run: RunItem = { dir };
        try {
          run.meta = await readRunMeta(dir);
          const result = await readRunResult(dir).catch(() => undefined);
          if (result) {
            run.outputTokS = result.summary.outputThroughput;
            run.ttftP99Ms = result.summary.ttftMs.p.p99 ?? undefined;
            run.completed = result.summary.completed;
            run.failed = result.summary.failed;
          }
        } catch (err) {
          run.error = err instanceof Error ? err.message : String(err);
        }
        out.push(run);
      }
    }
    return out;
  }

  getTreeItem(run: RunItem): vscode.TreeItem {
    const label = run.meta ? `${run.meta.name}${run.meta.step ? ` · ${run.meta.step.label}` : ''}` : path.basename(run.dir);
    const t = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
    const parts: string[] = [];
    if (run.meta?.target.simulated) parts.push('simulated');
    if (run.meta && run.meta.status !== 'completed') parts.push(run.meta.status);
    if (run.outputTokS !== undefined) parts.push(`${Math.round(run.outputTokS).toLocaleString('en-US')} out tok/s`);
    if (run.ttftP99Ms !== undefined) parts.push(`TTFT p99 ${run.ttftP99Ms.toFixed(0)} ms`);
    t.description = parts.join(' · ');
    t.tooltip = run.error ? `Unreadable run: ${run.error}` : `${run.dir}\n${run.completed ?? 0} completed, ${run.failed ?? 0} failed\n${run.meta?.createdAt ?? ''}`;
    t.iconPath = new vscode.ThemeIcon(run.error || run.meta?.status === 'failed' ? 'error' : run.meta?.status === 'running' ? 'loading~spin' : 'graph');
    t.contextValue = 'run';
    t.resourceUri = vscode.Uri.file(run.dir);
    t.command = { command: 'revealFileInOS', title: 'Reveal', arguments: [vscode.Uri.file(path.join(run.dir, 'summary.json'))] };
    return t;
  }
}
