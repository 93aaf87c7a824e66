import * as vscode from 'vscode';
import type { Cluster, ClusterNodeInfo, ConnectionState } from '../../core/launch/types';
import type { Session } from '../../core/exec/session';
import type { MoeBenchController } from '../controller';
import { GpuTreeData, type GpuRow } from './gpu-tree-data';

export type ClusterTreeItem =
  | { kind: 'cluster'; cluster: Cluster }
  | { kind: 'node'; cluster: Cluster; node: ClusterNodeInfo }
  | { kind: 'gpu'; cluster: Cluster; node: string; row: GpuRow }
  | { kind: 'gpu-status'; cluster: Cluster; node: string; text: string };
type Item = ClusterTreeItem;

/** Cluster view: clusters of every open notebook -> nodes with connection state. */
export class ClusterTreeProvider implements vscode.TreeDataProvider<Item> {
  private readonly emitter = new vscode.EventEmitter<Item | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  /** clusters whose connection-state events we listen to (reconnecting/failed shows live) */
  private readonly watched = new WeakSet<Cluster>();
  private refreshTimer: NodeJS.Timeout | undefined;
  /** GPU rows per cluster, subscribed to the session's shared nvidia-smi stream of each node while the view is visible */
  private readonly gpuData = new Map<Cluster, GpuTreeData>();
  /** the session each listed cluster belongs to: its GPU streams are the session's shared ones */
  private readonly owners = new WeakMap<Cluster, Session>();
  private visible = false;

  constructor(private readonly controller: MoeBenchController) {}

  setVisible(visible: boolean): void {
    this.visible = visible;
    for (const d of this.gpuData.values()) d.setVisible(visible);
  }

  private gpusOf(cluster: Cluster): GpuTreeData {
    let d = this.gpuData.get(cluster);
    if (!d) {
      d = new GpuTreeData({ cluster, streams: this.owners.get(cluster)?.gpuStreams });
      d.onChange(() => this.refresh());
      d.setVisible(this.visible);
      this.gpuData.set(cluster, d);
    }
    return d;
  }

  dispose(): void {
    for (const d of this.gpuData.values()) void d.dispose();
    this.gpuData.clear();
    this.emitter.dispose();
  }

  refresh(): void {
    // bounded refresh rate: a flapping link must not repaint the tree hundreds of times a second
    this.refreshTimer ??= setTimeout(() => {
      this.refreshTimer = undefined;
      this.emitter.fire(undefined);
    }, 250);
  }

  getChildren(item?: Item): Item[] {
    if (!item) {
      const clusters: Cluster[] = [];
      for (const { session } of this.controller.sessions()) {
        for (const c of session.clusters.values()) {
          this.owners.set(c, session);
          clusters.push(c);
        }
      }
      for (const c of clusters) {
        if (!this.watched.has(c) && c.onStateChange) {
          this.watched.add(c);
          c.onStateChange(() => this.refresh());
        }
      }
      // clusters that went away (cell re-run, notebook closed) stop their GPU streams
      for (const [c, d] of this.gpuData) {
        if (!clusters.includes(c)) {
          void d.dispose();
          this.gpuData.delete(c);
        }
      }
      return clusters.map((cluster) => ({ kind: 'cluster' as const, cluster }));
    }
    if (item.kind === 'cluster') return item.cluster.nodes.map((node) => ({ kind: 'node' as const, cluster: item.cluster, node }));
    if (item.kind === 'node') {
      if (item.node.gpus === 0) return [];
      const data = this.gpusOf(item.cluster);
      const rows = data.rows(item.node.name);
      const st = data.status(item.node.name);
      if (st.state === 'unavailable') return [{ kind: 'gpu-status', cluster: item.cluster, node: item.node.name, text: st.message }];
      if (rows.length === 0) return [{ kind: 'gpu-status', cluster: item.cluster, node: item.node.name, text: st.state === 'waiting' ? 'waiting for nvidia-smi…' : 'no GPU data yet' }];
      return rows.map((row) => ({ kind: 'gpu' as const, cluster: item.cluster, node: item.node.name, row }));
    }
    return [];
  }

  getTreeItem(item: Item): vscode.TreeItem {
    if (item.kind === 'gpu') return gpuItem(item.row);
    if (item.kind === 'gpu-status') {
      const t = new vscode.TreeItem(item.text, vscode.TreeItemCollapsibleState.None);
      t.iconPath = new vscode.ThemeIcon('info');
      return t;
    }
    if (item.kind === 'cluster') {
      const t = new vscode.TreeItem(item.cluster.name, vscode.TreeItemCollapsibleState.Expanded);
      const gpus = item.cluster.nodes.reduce((a, n) => a + n.gpus, 0);
      const about = item.cluster.describe?.();
      t.description = `${about?.summary ?? item.cluster.kind} · ${item.cluster.nodes.length} nodes · ${gpus} GPUs`;
      if (about) t.tooltip = [`${item.cluster.name} (${item.cluster.kind})`, ...about.tooltip].join('\n');
      t.iconPath = new vscode.ThemeIcon('server-environment');
      t.contextValue = `cluster.${item.cluster.kind}`;
      return t;
    }
    const state = item.cluster.connectionState(item.node.name);
    const t = new vscode.TreeItem(item.node.name, item.node.gpus > 0 ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    t.description = `${item.node.gpus} GPUs · ${describe(state)}`;
    const host = item.cluster.describe?.().hosts?.[item.node.name];
    t.tooltip = `${item.node.name}${host && host !== item.node.name ? ` = ${host}` : ''} (${item.node.address})\n${describe(state)}`;
    t.iconPath = new vscode.ThemeIcon(
      state.state === 'connected' ? 'vm-active' : state.state === 'failed' ? 'error' : 'vm-connect',
      state.state === 'failed' ? new vscode.ThemeColor('errorForeground') : undefined,
    );
    t.contextValue = `node.${state.state}${item.cluster.reconnect ? '.reconnectable' : ''}${item.cluster.terminal ? '.terminal' : ''}`;
    return t;
  }
}

function gpuItem(row: GpuRow): vscode.TreeItem {
  const t = new vscode.TreeItem(`GPU ${row.index}`, vscode.TreeItemCollapsibleState.None);
  const parts: string[] = [];
  if (row.utilPct !== undefined) parts.push(`${Math.round(row.utilPct)}%`);
  if (row.memUsedMiB !== undefined) parts.push(`${(row.memUsedMiB / 1024).toFixed(0)}/${row.memTotalMiB !== undefined ? (row.memTotalMiB / 1024).toFixed(0) : '?'} GiB`);
  if (row.tempC !== undefined) parts.push(`${Math.round(row.tempC)}°C`);
  if (row.powerW !== undefined) parts.push(`${Math.round(row.powerW)} W`);
  t.description = parts.join(' · ');
  const warn = row.warnings.length > 0;
  t.tooltip = `${row.name}${warn ? `\nWarnings: ${row.warnings.join(', ')}` : ''}${row.heldBy?.length ? `\nMemory still held by: ${row.heldBy.map((p) => `${p.processName} (pid ${p.pid})`).join(', ')}` : ''}`;
  t.iconPath = new vscode.ThemeIcon(warn ? 'warning' : 'circuit-board', warn ? new vscode.ThemeColor('list.warningForeground') : undefined);
  t.contextValue = warn ? 'gpu.warning' : 'gpu';
  return t;
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
