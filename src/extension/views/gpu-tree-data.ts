/**
 * Live GPU rows for the Cluster view (nodes -> GPUs), kept free of `vscode` so it runs and is
 * tested in plain Node; the tree provider renders it and subscribes to `onChange`.
 *
 * Subscribes to the node's ONE long-lived `nvidia-smi -lms` stream (the session's
 * GpuStreamRegistry, shared with monitor cells and bench `collect: [gpus]`, through GpuCollector)
 * while the view is visible, and leaves it while it is hidden (the stream stops when nobody else
 * watches); change events are coalesced to at most one per second however many nodes tick.
 *
 * Use:
 *   const data = new GpuTreeData({ cluster, streams: session.gpuStreams });
 *   data.onChange((nodes) => treeEmitter.fire(...));   // at most 1/s
 *   treeView.onDidChangeVisibility((e) => data.setVisible(e.visible));
 *   data.rows('gpu-001')  -> GpuRow[] for the node's children; data.status('gpu-001') for its description
 *   after a deployment stop: await data.checkHeldMemory(nodes)
 *   dispose() when the cluster goes away.
 */
import type { Cluster } from '../../core/launch/types';
import { GpuCollector } from '../../core/telemetry/gpu/collector';
import type { GpuStreamRegistry } from '../../core/telemetry/gpu/shared-stream';
import { checkGpuLeaks, readGpuInventory } from '../../core/telemetry/gpu/node-queries';
import type { GpuInventory } from '../../core/telemetry/gpu/inventory';
import type { GpuMemoryLeak } from '../../core/telemetry/gpu/compute-apps';
import { readingWarnings, type GpuWarning } from '../../core/telemetry/gpu-warnings';
import { Throttle } from '../../core/util/timing';
import type { GpuSample } from '../../core/telemetry/schema';
import type { Disposable } from '../../core/util/disposable';

export type { GpuWarning };

export interface GpuRow {
  index: number;
  /** "NVIDIA H200" from the inventory; "GPU" until it is read */
  name: string;
  utilPct?: number;
  memUsedMiB?: number;
  memTotalMiB?: number;
  tempC?: number;
  powerW?: number;
  warnings: GpuWarning[];
  /** processes holding memory after a deployment stopped (for the tooltip) */
  heldBy?: { pid: number; processName: string; usedMemMiB?: number }[];
}

export type NodeGpuState =
  /** visible, no sample yet */
  | { state: 'waiting' }
  | { state: 'live'; updatedAtMs: number }
  /** the view is hidden (or the stream stopped): rows are the last known values */
  | { state: 'stale'; updatedAtMs?: number }
  | { state: 'unavailable'; message: string };

export interface GpuTreeDataOptions {
  cluster: Cluster;
  /** the session's shared streams (the view then adds no nvidia-smi of its own); default: streams of its own */
  streams?: GpuStreamRegistry;
  /** default: every node of the cluster */
  nodes?: readonly string[];
  /** nvidia-smi sampling interval (default 1000) */
  intervalMs?: number;
  /** at most one onChange per this long (default 1000) */
  minEmitIntervalMs?: number;
  /** a stopped deployment's GPU still using this much is "held" (default 1024 MiB) */
  heldMemMiB?: number;
  now?: () => number;
}

type Listener = (nodes: readonly string[]) => void;

export class GpuTreeData implements Disposable {
  private readonly nodeNames: string[];
  private readonly latest = new Map<string, GpuSample>();
  private readonly states = new Map<string, NodeGpuState>();
  private readonly inventories = new Map<string, GpuInventory>();
  private readonly inventoryAsked = new Set<string>();
  /** node -> GPU index -> processes still holding memory after a stop */
  private readonly held = new Map<string, Map<number, GpuMemoryLeak[]>>();
  private readonly listeners = new Set<Listener>();
  private readonly dirty = new Set<string>();
  private readonly throttle: Throttle;
  private collector: GpuCollector | undefined;
  private stopping: Promise<void> = Promise.resolve();
  private disposed = false;
  private readonly now: () => number;

  constructor(private readonly o: GpuTreeDataOptions) {
    this.nodeNames = o.nodes ? [...o.nodes] : o.cluster.nodes.map((n) => n.name);
    this.now = o.now ?? Date.now;
    this.throttle = new Throttle(o.minEmitIntervalMs ?? 1000, () => this.emit(), this.now);
    for (const n of this.nodeNames) this.states.set(n, { state: 'stale' });
  }

  get visible(): boolean {
    return this.collector !== undefined;
  }

  nodes(): readonly string[] {
    return this.nodeNames;
  }

  /** Start the streams when the view shows, stop them when it hides. */
  setVisible(visible: boolean): void {
    if (this.disposed || visible === this.visible) return;
    if (visible) {
      for (const n of this.nodeNames) {
        const s = this.states.get(n);
        if (s?.state !== 'unavailable') this.states.set(n, this.latest.has(n) ? { state: 'live', updatedAtMs: this.latest.get(n)?.tsMs ?? this.now() } : { state: 'waiting' });
      }
      const collector = new GpuCollector({
        cluster: this.o.cluster,
        nodes: this.nodeNames.filter((n) => this.states.get(n)?.state !== 'unavailable'),
        intervalMs: this.o.intervalMs ?? 1000,
        streams: this.o.streams,
        now: this.now,
        onSample: (s) => this.onSample(s),
        onNotice: (n) => {
          if (!n.node) return;
          if (n.level === 'error') {
            this.states.set(n.node, { state: 'unavailable', message: n.message });
            this.markDirty(n.node);
          }
        },
      });
      this.collector = collector;
      // wait for a previous hide to finish so a node never has two streams
      void this.stopping.then(() => {
        if (this.collector === collector) collector.start();
      });
      for (const n of this.nodeNames) void this.readInventory(n);
    } else {
      const c = this.collector;
      this.collector = undefined;
      for (const n of this.nodeNames) {
        const s = this.states.get(n);
        if (s?.state === 'live' || s?.state === 'waiting') this.states.set(n, { state: 'stale', updatedAtMs: s.state === 'live' ? s.updatedAtMs : undefined });
      }
      if (c) this.stopping = this.stopping.then(() => c.dispose());
    }
  }

  /** Listen for nodes whose rows changed; at most one call per second. */
  onChange(listener: Listener): Disposable {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  status(node: string): NodeGpuState {
    return this.states.get(node) ?? { state: 'stale' };
  }

  /** One row per GPU of the node's newest sample ([] before the first one). */
  rows(node: string): GpuRow[] {
    const sample = this.latest.get(node);
    if (!sample) return [];
    const inv = this.inventories.get(node);
    const held = this.held.get(node);
    return sample.gpus.map((g) => {
      const row: GpuRow = { index: g.index, name: inv?.gpus.find((x) => x.index === g.index)?.name ?? 'GPU', warnings: readingWarnings(g) };
      if (g.utilGpuPct !== undefined) row.utilPct = g.utilGpuPct;
      if (g.memUsedMiB !== undefined) row.memUsedMiB = g.memUsedMiB;
      const total = g.memTotalMiB ?? inv?.gpus.find((x) => x.index === g.index)?.memTotalMiB;
      if (total !== undefined) row.memTotalMiB = total;
      if (g.tempC !== undefined) row.tempC = g.tempC;
      if (g.powerW !== undefined) row.powerW = g.powerW;
      const leaks = held?.get(g.index);
      if (leaks && leaks.length > 0) {
        row.warnings.push('memory-held-after-stop');
        row.heldBy = leaks.map((l) => ({ pid: l.pid, processName: l.processName, usedMemMiB: l.usedMemMiB }));
      }
      return row;
    });
  }

  /**
   * After a deployment on these nodes stopped: any process still holding GPU memory marks its
   * GPUs "memory-held-after-stop" until the memory is freed (or markDeploymentStarted). Returns
   * what was found. Without `--query-compute-apps` (old drivers, containers) GPUs still using
   * more than heldMemMiB are marked instead.
   */
  async checkHeldMemory(nodes: readonly string[], signal?: AbortSignal): Promise<Map<string, GpuMemoryLeak[]>> {
    const found = new Map<string, GpuMemoryLeak[]>();
    await Promise.all(
      nodes.map(async (node) => {
        let leaks: GpuMemoryLeak[];
        try {
          leaks = await checkGpuLeaks(this.o.cluster, node, { inventory: this.inventories.get(node), signal });
        } catch {
          const limit = this.o.heldMemMiB ?? 1024;
          leaks = (this.latest.get(node)?.gpus ?? []).filter((g) => (g.memUsedMiB ?? 0) >= limit).map((g) => ({ gpuUuid: g.uuid ?? '', gpuIndex: g.index, pid: 0, processName: 'unknown process', usedMemMiB: g.memUsedMiB }));
        }
        this.setHeld(node, leaks);
        found.set(node, leaks);
      }),
    );
    return found;
  }

  /** Mark what the deploy module found itself (it checks compute apps when it stops). */
  setHeld(node: string, leaks: readonly GpuMemoryLeak[]): void {
    const byIndex = new Map<number, GpuMemoryLeak[]>();
    const latest = this.latest.get(node);
    for (const l of leaks) {
      const index = l.gpuIndex ?? latest?.gpus.find((g) => g.uuid !== undefined && g.uuid === l.gpuUuid)?.index;
      if (index === undefined) continue;
      byIndex.set(index, [...(byIndex.get(index) ?? []), l]);
    }
    if (byIndex.size > 0) this.held.set(node, byIndex);
    else this.held.delete(node);
    this.markDirty(node);
  }

  /** A deployment (re)started on these nodes: memory in use is expected again. */
  markDeploymentStarted(nodes: readonly string[]): void {
    for (const n of nodes) {
      if (this.held.delete(n)) this.markDirty(n);
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.throttle.dispose();
    this.listeners.clear();
    const c = this.collector;
    this.collector = undefined;
    await this.stopping;
    await c?.dispose();
  }

  private onSample(s: GpuSample): void {
    if (this.disposed) return;
    this.latest.set(s.node, s);
    this.states.set(s.node, { state: 'live', updatedAtMs: s.tsMs });
    const held = this.held.get(s.node);
    if (held) {
      // memory freed: the warning has done its job
      const limit = this.o.heldMemMiB ?? 1024;
      for (const g of s.gpus) if (held.has(g.index) && g.memUsedMiB !== undefined && g.memUsedMiB < limit) held.delete(g.index);
      if (held.size === 0) this.held.delete(s.node);
    }
    this.markDirty(s.node);
  }

  private async readInventory(node: string): Promise<void> {
    if (this.inventoryAsked.has(node)) return;
    this.inventoryAsked.add(node);
    try {
      this.inventories.set(node, await readGpuInventory(this.o.cluster, node));
      this.markDirty(node);
    } catch {
      // names stay "GPU"; the stream's own notice says why nvidia-smi is missing
      this.inventoryAsked.delete(node);
    }
  }

  private markDirty(node: string): void {
    if (this.disposed) return;
    this.dirty.add(node);
    this.throttle.poke();
  }

  private emit(): void {
    if (this.dirty.size === 0) return;
    const nodes = [...this.dirty];
    this.dirty.clear();
    for (const l of this.listeners) l(nodes);
  }
}
