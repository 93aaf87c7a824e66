import { describeError } from '../util/errors';
import type { Cluster } from './types';

export interface NodeCheck {
  node: string;
  ok: boolean;
  /** `uname -n` on the node when it answered */
  hostname?: string;
  /** round trip of the probe command, connection set-up included on first use */
  elapsedMs: number;
  /** why the node is not usable */
  error?: string;
  hint?: string;
}

/**
 * The cluster cell's check: every node runs `uname -n` in parallel; one slow or broken node
 * does not hide the others' results.
 */
export async function checkConnectivity(cluster: Cluster, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<NodeCheck[]> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return Promise.all(
    cluster.nodes.map(async ({ name }): Promise<NodeCheck> => {
      const started = Date.now();
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
      try {
        const r = await cluster.exec(name, ['uname', '-n'], { signal, captureLimitBytes: 4096 });
        const elapsedMs = Date.now() - started;
        if (r.exitCode !== 0) return { node: name, ok: false, elapsedMs, error: `probe exited with ${r.exitCode ?? r.signal}: ${r.stderr.trim()}` };
        return { node: name, ok: true, hostname: r.stdout.trim(), elapsedMs };
      } catch (err) {
        const d = describeError(err);
        const timedOut = timeout.aborted && !options.signal?.aborted;
        return { node: name, ok: false, elapsedMs: Date.now() - started, error: timedOut ? `no answer within ${timeoutMs} ms` : d.title, hint: d.hint };
      }
    }),
  );
}
