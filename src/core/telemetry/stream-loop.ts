import type { Cluster } from '../../launch/types';
import { isAbortError } from '../../util/errors';
import { LineBuffer } from '../line-buffer';
import { sleep } from '../sleep';

/** How one run of a long-lived command ended. */
export interface StreamEnd {
  exitCode: number | null;
  /** stderr (and the captured stdout tail when the cluster does not stream stderr), capped */
  said: string;
  /** lines the command printed before it ended */
  lines: number;
  failure?: unknown;
}

export interface StreamLoopOptions {
  cluster: Cluster;
  node: string;
  argv: readonly string[];
  signal: AbortSignal;
  onLine: (line: string) => void;
  /** after each end (not abort): restart (after the backoff) or stop for good */
  onEnd: (end: StreamEnd) => 'restart' | 'stop';
  /** counts every byte the command printed (overhead figures) */
  onBytes?: (n: number) => void;
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
}

const SAID_KEEP_CHARS = 4096;

/**
 * Runs one long-lived sampling command on a node through `cluster.exec`, line by line, and
 * restarts it with exponential backoff when it dies (a node reboot, a driver reload) until the
 * signal aborts. Aborting kills the remote process group (the cluster's contract).
 */
export async function runStreamLoop(o: StreamLoopOptions): Promise<void> {
  const initial = o.restartDelayMs ?? 1000;
  const max = o.maxRestartDelayMs ?? 30_000;
  let delay = initial;
  while (!o.signal.aborted) {
    const lines = new LineBuffer();
    let count = 0;
    let said = '';
    const onLine = (line: string): void => {
      count++;
      o.onLine(line);
    };
    let exitCode: number | null = null;
    let failure: unknown;
    try {
      const r = await o.cluster.exec(o.node, o.argv, {
        signal: o.signal,
        captureLimitBytes: SAID_KEEP_CHARS,
        onStdout: (chunk) => {
          o.onBytes?.(Buffer.byteLength(chunk));
          lines.push(chunk, onLine);
        },
        onStderr: (chunk) => {
          o.onBytes?.(Buffer.byteLength(chunk));
          if (said.length < SAID_KEEP_CHARS) said += chunk;
        },
      });
      exitCode = r.exitCode;
      // clusters that do not stream stderr report it only in the result; stdout errors count too
      if (!said) said = `${r.stderr}\n${count === 0 ? r.stdout : ''}`;
    } catch (err) {
      failure = err;
    }
    lines.flush(onLine);
    if (o.signal.aborted || (failure !== undefined && isAbortError(failure))) return;
    if (count > 0) delay = initial;
    const end: StreamEnd = { exitCode, said: said.slice(0, SAID_KEEP_CHARS), lines: count, failure };
    if (o.onEnd(end) === 'stop') return;
    await sleep(delay, o.signal);
    delay = Math.min(delay * 2, max);
  }
}

export function lastLine(text: string): string {
  return (text.trim().split('\n').pop() ?? '').trim().slice(0, 300);
}
