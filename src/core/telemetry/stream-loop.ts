import type { Cluster } from '../launch/types';
import { isAbortError } from '../util/errors';
import { sleep } from '../util/timing';
import { LineBuffer } from './line-buffer';

/** How one run of a long-lived command ended. */
export interface StreamEnd {
  exitCode: number | null;
  /** the signal that ended it, when the cluster reports one */
  signal: string | null;
  /** stderr (and the captured stdout tail when the cluster does not stream stderr), capped */
  said: string;
  /** lines the command printed before it ended */
  lines: number;
  failure?: unknown;
  /** how long the loop waits before the next run when the verdict is 'restart' */
  restartDelayMs: number;
}

/**
 * What to do after a run ended on its own: 'restart' after the backoff, 'restart-now' without
 * waiting (the command changed, e.g. a field the driver refused was dropped), 'stop' for good.
 */
export type StreamVerdict = 'restart' | 'restart-now' | 'stop';

export interface StreamLoopOptions {
  cluster: Cluster;
  node: string;
  /** the command; a function is asked again before every run (its arguments may change) */
  argv: readonly string[] | (() => readonly string[]);
  signal: AbortSignal;
  onLine: (line: string) => void;
  /** after each end (not abort) */
  onEnd: (end: StreamEnd) => StreamVerdict;
  /** whether the run that ended did useful work, which resets the backoff (default: it printed a line) */
  healthy?: (end: Omit<StreamEnd, 'restartDelayMs'>) => boolean;
  /** counts every byte the command printed (overhead figures) */
  onBytes?: (n: number) => void;
  /** first restart delay; doubles after every unhealthy run up to maxRestartDelayMs */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
}

const SAID_KEEP_CHARS = 4096;

/**
 * The one restart/backoff loop of every telemetry collector (the nvidia-smi GPU stream, dcgmi,
 * the NVLink / PCIe / IB loops): runs one long-lived sampling command on a node through
 * `cluster.exec`, line by line, and restarts it with exponential backoff when it dies (a node
 * reboot, a driver reload) until the signal aborts. Aborting kills the remote process group
 * (the cluster's contract); the promise resolves once the command has ended, so a caller that
 * awaits it before starting another never has two on the node.
 */
export async function runStreamLoop(o: StreamLoopOptions): Promise<void> {
  const initial = o.restartDelayMs ?? 1000;
  const max = o.maxRestartDelayMs ?? 30_000;
  const healthy = o.healthy ?? ((e: { lines: number }) => e.lines > 0);
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
    let signal: string | null = null;
    let failure: unknown;
    try {
      const r = await o.cluster.exec(o.node, typeof o.argv === 'function' ? o.argv() : o.argv, {
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
      signal = r.signal;
      // clusters that do not stream stderr report it only in the result; stdout errors count too
      if (!said) said = `${r.stderr}\n${count === 0 ? r.stdout : ''}`;
    } catch (err) {
      failure = err;
    }
    lines.flush(onLine);
    if (o.signal.aborted || (failure !== undefined && isAbortError(failure))) return;
    const ended = { exitCode, signal, said: said.slice(0, SAID_KEEP_CHARS), lines: count, failure };
    if (healthy(ended)) delay = initial;
    const verdict = o.onEnd({ ...ended, restartDelayMs: delay });
    if (verdict === 'stop') return;
    if (verdict === 'restart-now') continue;
    await sleep(delay, o.signal);
    delay = Math.min(delay * 2, max);
  }
}

export function lastLine(text: string): string {
  return (text.trim().split('\n').pop() ?? '').trim().slice(0, 300);
}
