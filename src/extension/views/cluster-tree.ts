import * as vscode from 'vscode';
import type { Cluster, ClusterNodeInfo, ConnectionState } from '../../core/cluster/types';
import type { MoeBenchController } from '../controller';

type Item = { kind: 'cluster'; cluster: Cluster } | { kind: 'node'; cluster: Cluster; node: ClusterNodeInfo };

/** Cluster view: clusters of every open notebook -> nodes with connection state. */
export class ClusterTreeProvider implements vscode.TreeDataProvider<Item> {
  private readonly emitter = new vscode.EventEmitter<Item | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;

  constructor(private readonly controller: MoeBenchController) {}

  refresh(): void {
    this.emitter.fire(undefined);
  }

  getChildren(item?: Item): Item[] {
    if (!item) {
      return this.controller.sessions().flatMap((s) => s.session.clusters.values().map((cluster) => ({ kind: 'cluster' as const, cluster })));
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
    t.contextValue = `node.${state.state}`;
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
