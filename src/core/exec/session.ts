import * as path from 'node:path';
import type { Cluster } from '../launch/types';
import type { DeploymentHandle } from './handles';
import { GpuStreamRegistry } from '../telemetry/gpu/shared-stream';
import { CellReferenceError } from '../util/errors';
import { DisposableStore, type Disposable } from '../util/disposable';

/** Named things cells define and other cells refer to (by name, never by position). */
export class NameRegistry<T> {
  private readonly items = new Map<string, { value: T; definedBy: string }>();
  /** `onRemove`: a value was deleted or replaced by another under its name */
  constructor(
    private readonly what: string,
    private readonly onRemove?: (value: T) => void,
  ) {}

  set(name: string, value: T, definedBy: string): void {
    const old = this.items.get(name)?.value;
    this.items.set(name, { value, definedBy });
    if (old !== undefined && old !== value) this.onRemove?.(old);
  }
  has(name: string): boolean {
    return this.items.has(name);
  }
  tryGet(name: string): T | undefined {
    return this.items.get(name)?.value;
  }
  get(name: string, from?: string): T {
    const item = this.items.get(name);
    if (!item) {
      const known = [...this.items.keys()];
      throw new CellReferenceError(
        `No ${this.what} named "${name}" has run in this notebook`,
        { cell: from },
        known.length
          ? `Known ${this.what}s: ${known.join(', ')}. Run the cell that defines "${name}" first.`
          : `Run the ${this.what} cell that defines "${name}" first.`,
      );
    }
    return item.value;
  }
  delete(name: string): void {
    const old = this.items.get(name)?.value;
    this.items.delete(name);
    if (old !== undefined) this.onRemove?.(old);
  }
  names(): string[] {
    return [...this.items.keys()];
  }
  values(): T[] {
    return [...this.items.values()].map((i) => i.value);
  }
}

export interface SessionOptions {
  /** absolute path of the .moebench file (or a virtual path for untitled notebooks) */
  notebookPath: string;
  /** where runs are stored; defaults to <notebook dir>/.moebench/runs */
  runStoreDir?: string;
  /** tool version for provenance */
  toolVersion: string;
}

/**
 * Everything alive for one open notebook: clusters, deployments, runs. Owned by the notebook's
 * controller (or the CLI run); disposing it tears down whatever the cells started.
 */
export class Session implements Disposable {
  /**
   * One nvidia-smi stream per node of each cluster, shared by the Cluster view and the cells
   * (monitor, bench `collect: [gpus]`); a cluster removed or replaced stops its streams.
   */
  readonly gpuStreams = new GpuStreamRegistry();
  readonly clusters = new NameRegistry<Cluster>('cluster', (c) => void this.gpuStreams.dropCluster(c));
  /** what deploy cells (and re-attach) registered; cells that need the launched Deployment itself ask deploy/launchedDeployment */
  readonly deployments = new NameRegistry<DeploymentHandle>('deployment');
  readonly runs = new NameRegistry<{ runIds: string[]; cell: string }>('run');
  readonly store = new DisposableStore();
  readonly notebookPath: string;
  readonly runStoreDir: string;
  readonly toolVersion: string;

  constructor(options: SessionOptions) {
    this.notebookPath = options.notebookPath;
    this.runStoreDir = options.runStoreDir ?? path.join(path.dirname(options.notebookPath), '.moebench', 'runs');
    this.toolVersion = options.toolVersion;
  }

  /** the cluster a cell means when it names none: the only one, or an error naming the choices */
  defaultCluster(from?: string): Cluster {
    const all = this.clusters.names();
    if (all.length === 1) return this.clusters.get(all[0], from);
    throw new CellReferenceError(
      all.length === 0 ? 'No cluster has been set up in this notebook' : `Several clusters exist (${all.join(', ')}); say which one`,
      { cell: from },
      all.length === 0 ? 'Run a moebench-cluster cell first.' : 'Add `cluster: <name>` to the cell.',
    );
  }

  async dispose(): Promise<void> {
    // streams first: their commands run through the clusters the store disposes
    await this.gpuStreams.dispose();
    await this.store.dispose();
  }
}
