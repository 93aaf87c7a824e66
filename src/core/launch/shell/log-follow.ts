import type { Cluster, FollowOptions, FollowResult } from '../types';
import { CommandFailedError, isAbortError } from '../../util/errors';
import type { RemoteProcessState } from './process';
import { FOLLOW_SCRIPT } from './scripts';

/**
 * Streams a remote process's log from a byte offset, like `tail -c +N -f`, until the process
 * has exited and everything was read. When the stream breaks (connection lost), it starts again
 * at the offset of the last byte it delivered, so no byte is lost or repeated.
 *
 * Offsets count the UTF-8 bytes of delivered text; a split multi-byte character is held back by
 * the decoder and re-read. Bytes that are not valid UTF-8 would be counted as U+FFFD (3 bytes).
 */
export async function followRemoteLog(cluster: Cluster, state: RemoteProcessState, options: FollowOptions): Promise<FollowResult> {
  let offset = options.fromOffset ?? 0;
  const retryForMs = options.retryForMs ?? 120_000;
  const retryDelayMs = options.retryDelayMs ?? 500;
  let brokenSince: number | undefined;
  for (;;) {
    if (options.signal?.aborted) return { offset, complete: false };
    try {
      const r = await cluster.exec(state.node, ['bash', '-c', FOLLOW_SCRIPT, 'moebench-follow', state.dir, String(offset + 1)], {
        signal: options.signal,
        captureLimitBytes: 64 * 1024,
        onStdout: (chunk) => {
          offset += Buffer.byteLength(chunk, 'utf8');
          brokenSince = undefined;
          options.onData(chunk, offset);
        },
      });
      if (r.exitCode === 0) return { offset, complete: true };
      throw new CommandFailedError(`Following the log of ${state.name} on ${state.node} failed: ${r.stderr.trim() || `exit ${r.exitCode ?? r.signal}`}`, { node: state.node, file: `${state.dir}/log` });
    } catch (err) {
      if (isAbortError(err) || options.signal?.aborted) return { offset, complete: false };
      if (err instanceof CommandFailedError) throw err;
      options.onInterrupted?.(err);
      brokenSince ??= Date.now();
      if (Date.now() - brokenSince > retryForMs) throw err;
      await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
    }
  }
}
