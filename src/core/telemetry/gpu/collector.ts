import type { Cluster } from '../../launch/types';
import type { Disposable } from '../../util/disposable';
import type { TelemetryNotice } from '../notice';
import type { GpuSample } from '../schema';
import { GpuStreamRegistry, type GpuStreamSubscription } from './shared-stream';

export interface GpuCollectorOptions {
  cluster: Cluster;
  nodes: readonly string[];
  intervalMs: number;
  fields?: readonly string[];
  onSample: (sample: GpuSample) => void;
  onNotice?: (notice: TelemetryNotice) => void;
  /**
   * the Session's shared streams (`session.gpuStreams`): the collector joins the node's stream
   * that the Cluster view or another cell may already run. Without it the collector has streams
   * of its own, stopped by dispose.
   */
  streams?: GpuStreamRegistry;
  /** for streams of its own: first restart delay after nvidia-smi dies; doubles up to maxRestartDelayMs */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  /** for streams of its own: tick timestamps */
  now?: () => number;
}

export type { TelemetryNotice };

/**
 * The GPUs of some nodes, one tick per node per interval, from the node's one long-lived
 * `nvidia-smi --query-gpu ... -lms N` stream (gpu/shared-stream.ts: shared, reference counted,
 * restarted with backoff by the one stream loop; a field the driver refuses is dropped).
 * `dispose()` leaves the streams; it resolves once those this collector was the last to watch
 * have ended.
 */
export class GpuCollector implements Disposable {
  private readonly streams: GpuStreamRegistry;
  private readonly ownStreams: boolean;
  private readonly subscriptions: GpuStreamSubscription[] = [];
  private readonly latestByNode = new Map<string, GpuSample>();
  private started = false;
  private disposed = false;

  constructor(private readonly opts: GpuCollectorOptions) {
    this.ownStreams = !opts.streams;
    this.streams = opts.streams ?? new GpuStreamRegistry({ restartDelayMs: opts.restartDelayMs, maxRestartDelayMs: opts.maxRestartDelayMs, now: opts.now });
  }

  start(): void {
    if (this.started || this.disposed) return;
    this.started = true;
    for (const node of this.opts.nodes) {
      this.subscriptions.push(
        this.streams.subscribe(this.opts.cluster, node, {
          intervalMs: this.opts.intervalMs,
          fields: this.opts.fields,
          onSample: (s) => {
            this.latestByNode.set(node, s);
            this.opts.onSample(s);
          },
          onNotice: this.opts.onNotice,
        }),
      );
    }
  }

  /** the newest tick of a node (cluster tree, first paint of a monitor) */
  latest(node: string): GpuSample | undefined {
    return this.latestByNode.get(node);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await Promise.all(this.subscriptions.map((s) => s.dispose()));
    if (this.ownStreams) await this.streams.dispose();
  }
}
