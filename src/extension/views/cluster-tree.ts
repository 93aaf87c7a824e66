import * as vscode from 'vscode';
import type { Cluster, ClusterNodeInfo, ConnectionState } from '../../core/cluster/types';
import type { MoeBenchController } from '../controller';

export type ClusterTreeItem = { kind: 'cluster'; cluster: Cluster } | { kind: 'node'; cluster: Cluster; node: ClusterNodeInfo };
type Item = ClusterTreeItem;

/** Cluster view: clusters of every open notebook -> nodes with connection state. */
export class ClusterTreeProvider implements vscode.TreeDataProvider<Item> {
  private readonly emitter = new vscode.EventEmitter<Item | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  /** clusters whose connection-state events we listen to (reconnecting/failed shows live) */
  private readonly watched = new WeakSet<Cluster>();
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(private readonly controller: MoeBenchController) {}

  refresh(): void {
    // bounded refresh rate: a flapping link must not repaint the tree hundreds of times a second
    this.refreshTimer ??= setTimeout(() => {
      this.refreshTimer = undefined;
      this.emitter.fire(undefined);
    }, 250);
  }

  getChildren(item?: Item): Item[] {
    if (!item) {
      const clusters = this.controller.sessions().flatMap((s) => s.session.clusters.values());
      for (const c of clusters) {
        if (!this.watched.has(c) && c.onStateChange) {
          this.watched.add(c);
          c.onStateChange(() => this.refresh());
        }
      }
      return clusters.map((cluster) => ({ kind: 'cluster' as const, cluster }));
    }
    if (item.kind === 'cluster') return item.cluster.nodes.map((node) => ({ kind: 'node' as const, cluster: item.cluster, node }));
    return [];
  }

  getTreeItem(item: Item): vscode.TreeItem {
    if (item.kind === 'cluster') {
      const t = new vscode.TreeItem(item.cluster.name, vscode.TreeItemCollapsibleState.Expanded);
      const gpus = item.cluster.nodes.reduce((a, n) => a + n.gpus, 0);
      t.description = `${item.cluster.kind} · ${item.cluster.nodes.length} nodes · ${gpus} GPUs`;
      t.iconPath = new vscode.ThemeIcon('server-environment');
      t.contextValue = `cluster.${item.cluster.kind}`;
      return t;
    }
    const state = item.cluster.connectionState(item.node.name);
    const t = new vscode.TreeItem(item.node.name, vscode.TreeItemCollapsibleState.None);
    t.description = `${item.node.gpus} GPUs · ${describe(state)}`;
    t.tooltip = `${item.node.name} (${item.node.address})\n${describe(state)}`;
    t.iconPath = new vscode.ThemeIcon(
      state.state === 'connected' ? 'vm-active' : state.state === 'failed' ? 'error' : 'vm-connect',
      state.state === 'failed' ? new vscode.ThemeColor('errorForeground') : undefined,
    );
    t.contextValue = `node.${state.state}${item.cluster.reconnect ? '.reconnectable' : ''}${item.cluster.terminal ? '.terminal' : ''}`;
    return t;
  }
}

function describe(s: ConnectionState): string {
  switch (s.state) {
    case 'reconnecting':
      return `reconnecting (attempt ${s.attempt}: ${s.reason})`;
    case 'failed':
      return `failed: ${s.reason}`;
    default:
      return s.state;
  }
}

/** Tree actions on a node: reconnect now, open a terminal on it. */
export function clusterNodeCommands(tree: ClusterTreeProvider): Record<string, (item?: ClusterTreeItem) => Promise<void>> {
  return {
    'moebench.cluster.reconnect': async (item) => {
      if (item?.kind !== 'node' || !item.cluster.reconnect) return;
      try {
        await item.cluster.reconnect(item.node.name);
      } catch (err) {
        void vscode.window.showErrorMessage(`Reconnecting to ${item.node.name} failed: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        tree.refresh();
      }
    },
    'moebench.cluster.openTerminal': async (item) => {
      if (item?.kind !== 'node' || !item.cluster.terminal) return;
      const { argv, env } = item.cluster.terminal(item.node.name);
      const terminal = vscode.window.createTerminal({ name: `${item.cluster.name}/${item.node.name}`, shellPath: argv[0], shellArgs: argv.slice(1), env });
      terminal.show();
    },
  };
}
