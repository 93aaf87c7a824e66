import type { Cluster, RankState } from '../../../launch/types';
import type { Disposable } from '../../../util/disposable';
import type { TelemetryNotice } from '../../notice';
import type { SchedulerLogConsumer } from './consumer';

/** What a deployment exposes about its processes (Deployment.remoteStates()). */
export interface LogProcess {
  /** process id in the plan, e.g. "decode-0/rank-0"; the chart label */
  id: string;
  remote: RankState;
}


/**
 * Follows the logs of a deployment's server processes for the length of a bench run, from
 * their current end (older lines are not part of this run), into a SchedulerLogConsumer.
 * One follow stream per process (the launcher's `tail -f` equivalent); dispose stops
 * them. Routers are skipped: they print no scheduler lines.
 */
export class SchedulerLogFollower implements Disposable {
  private readonly abort = new AbortController();
  private readonly running: Promise<void>[] = [];

  constructor(
    private readonly cluster: Cluster,
    private readonly consumer: SchedulerLogConsumer,
    private readonly onNotice?: (n: TelemetryNotice) => void,
    /** bytes of log text read per node (overhead figures) */
    private readonly onBytes?: (node: string, n: number) => void,
  ) {}

  async follow(processes: readonly LogProcess[]): Promise<void> {
    await Promise.all(processes.filter((p) => !/router/i.test(p.id)).map((p) => this.followOne(p)));
  }

  private async followOne(p: LogProcess): Promise<void> {
    let from = 0;
    try {
      from = await this.cluster.launcher.logSize(p.remote, this.abort.signal);
    } catch {
      from = 0;
    }
    const source = { endpoint: p.id, node: p.remote.node };
    const run = this.cluster.launcher.follow(p.remote, { fromOffset: from, signal: this.abort.signal, onData: (text) => {
      this.onBytes?.(p.remote.node, Buffer.byteLength(text));
      this.consumer.chunk(source, text);
    } }).then(
      () => undefined,
      (err: unknown) => this.onNotice?.({ node: p.remote.node, endpoint: p.id, level: 'warn', message: `cannot follow the log of ${p.id} on ${p.remote.node}: ${err instanceof Error ? err.message : String(err)}` }),
    );
    this.running.push(run);
  }

  async dispose(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.running);
    this.consumer.flush();
  }
}
