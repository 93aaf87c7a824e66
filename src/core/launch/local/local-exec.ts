import { spawn } from 'node:child_process';
import { TailText } from '../../util/tail-text';
import type { ExecOptions, ExecResult } from '../types';
import { assertEnvName, quoteArg } from '../shell/shell-quote';
import { CancelledError, CommandFailedError } from '../../util/errors';

const DEFAULT_CAPTURE_BYTES = 1024 * 1024;
/** after TERM, how long the group gets before KILL */
const KILL_GRACE_MS = 1500;

/**
 * Runs argv on this machine in its own process group (detached), so cancelling kills the whole
 * tree — a shell cell's `sleep 1000 &` children included. No shell is involved: argv goes to exec.
 */
export function execLocal(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  if (argv.length === 0) return Promise.reject(new CommandFailedError('Empty command'));
  const env = { ...process.env };
  try {
    // the same refusals as the ssh path's quoting, as typed errors rather than spawn's TypeError
    for (const a of argv) quoteArg(a);
    for (const [k, v] of Object.entries(options.env ?? {})) {
      assertEnvName(k);
      quoteArg(v);
      env[k] = v;
    }
  } catch (err) {
    return Promise.reject(err);
  }
  const limit = options.captureLimitBytes ?? DEFAULT_CAPTURE_BYTES;
  return new Promise<ExecResult>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new CancelledError());
      return;
    }
    const child = spawn(argv[0], argv.slice(1), { cwd: options.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = new TailText(limit);
    const err = new TailText(limit);
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (sig: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // the group is already gone
      }
    };
    const onAbort = (): void => {
      aborted = true;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out.push(chunk);
      options.onStdout?.(chunk);
    });
    child.stderr.on('data', (chunk: string) => {
      err.push(chunk);
      options.onStderr?.(chunk);
    });
    child.on('error', (e) => {
      options.signal?.removeEventListener('abort', onAbort);
      reject(new CommandFailedError(`Could not start ${argv[0]}: ${e.message}`, {}, 'Check that the program is installed and on PATH.', { cause: e }));
    });
    child.on('close', (code, signal) => {
      options.signal?.removeEventListener('abort', onAbort);
      // the leader exited; make sure no straggler of its group survives a cancel
      if (aborted) {
        killGroup('SIGKILL');
        if (killTimer) clearTimeout(killTimer);
        reject(new CancelledError());
        return;
      }
      resolve({ exitCode: code, signal, stdout: out.value(), stderr: err.value() });
    });
  });
}
