import { TailText } from '../../util/tail-text';
import type { ClientChannel } from 'ssh2';
import { CancelledError } from '../../util/errors';
import { buildExecCommand, buildKillGroupCommand, PgidMarkerFilter, type RemoteExecSpec } from '../shell/remote-command';
import type { SshConnection } from './ssh-connection';
import { SshConnectionLostError } from './ssh-errors';
import type { ExecResult } from '../types';
import type { ExecOptions } from '../types';

const DEFAULT_CAPTURE_BYTES = 1024 * 1024;

interface Collector {
  attach(channel: ClientChannel, release: () => void): void;
  done: Promise<ExecResult>;
  channel(): ClientChannel | undefined;
}

/** Output and exit status of one exec channel; rejects when the connection died under it. */
function collector(conn: SshConnection, options: ExecOptions, stderrSink: (chunk: string) => void, onClosed: () => void): Collector {
  const limit = options.captureLimitBytes ?? DEFAULT_CAPTURE_BYTES;
  const out = new TailText(limit);
  let current: ClientChannel | undefined;
  let settle: { resolve: (r: ExecResult) => void; reject: (e: unknown) => void } | undefined;
  const done = new Promise<ExecResult>((resolve, reject) => {
    settle = { resolve, reject };
  });
  return {
    done,
    channel: () => current,
    attach(channel, release) {
      current = channel;
      const generation = conn.generation;
      let exitCode: number | null = null;
      let exitSignal: string | null = null;
      let sawExit = false;
      channel.setEncoding('utf8');
      channel.stderr.setEncoding('utf8');
      channel.on('data', (chunk: string) => {
        out.push(chunk);
        options.onStdout?.(chunk);
      });
      channel.stderr.on('data', stderrSink);
      channel.on('exit', (code: number | null, signal?: string) => {
        sawExit = true;
        exitCode = typeof code === 'number' ? code : null;
        exitSignal = signal ?? null;
      });
      channel.on('close', () => {
        release();
        onClosed();
        if (!sawExit && conn.generation !== generation) {
          settle?.reject(
            new SshConnectionLostError(`Connection to ${conn.endpoint.alias} was lost while the command ran`, { node: conn.endpoint.alias }, 'The command may still be running on the node; check the node before running it again.'),
          );
          return;
        }
        settle?.resolve({ exitCode, signal: exitSignal, stdout: out.value(), stderr: '' });
      });
      // no stdin: a command that reads it must see EOF, not hang
      channel.end();
    },
  };
}

/** Runs a raw command string and collects its output (internal helpers: kill, probes). */
export async function runRaw(conn: SshConnection, command: string, priority = false): Promise<ExecResult> {
  const err = new TailText(DEFAULT_CAPTURE_BYTES);
  const c = collector(conn, {}, (chunk) => err.push(chunk), () => undefined);
  await conn.exec(command, c.attach, undefined, priority);
  const r = await c.done;
  return { ...r, stderr: err.value() };
}

/**
 * `Cluster.exec` over SSH: argv wrapped by `buildExecCommand`, output streamed, and on abort the
 * remote process group killed from a second channel (TERM, then KILL after `killGraceMs`).
 */
export async function sshExec(conn: SshConnection, spec: RemoteExecSpec, options: ExecOptions, killGraceMs: number): Promise<ExecResult> {
  const signal = options.signal;
  if (signal?.aborted) throw new CancelledError();
  const command = buildExecCommand(spec);
  let pgid: number | undefined;
  let aborted = false;
  let killing: Promise<unknown> | undefined;
  const stderrOut = new TailText(options.captureLimitBytes ?? DEFAULT_CAPTURE_BYTES);
  const filter = new PgidMarkerFilter(
    (id) => {
      pgid = id;
      if (aborted) kill();
    },
    (chunk) => {
      stderrOut.push(chunk);
      options.onStderr?.(chunk);
    },
  );
  const c = collector(conn, options, (chunk) => filter.push(chunk), () => filter.flush());
  const kill = (): void => {
    if (killing || pgid === undefined) return;
    killing = runRaw(conn, buildKillGroupCommand(pgid, killGraceMs), true).catch(() => undefined);
    // the channel closes when the group's leader exits; if the kill could not run, close it ourselves
    void killing.then(() => c.channel()?.close());
  };
  /**
   * An exec belongs to its caller (detached processes go through remote/): when the connection
   * drops under it, its process group would run on unseen, so it is stopped once the node can be
   * reached again.
   */
  const afterConnectionLost = async (err: unknown): Promise<unknown> => {
    if (!(err instanceof SshConnectionLostError) || pgid === undefined) return err;
    const stopped = await runRaw(conn, buildKillGroupCommand(pgid, killGraceMs), true).then(
      (r) => r.exitCode === 0,
      () => false,
    );
    return stopped ? new SshConnectionLostError(err.message, err.where, 'Its processes on the node were stopped after reconnecting; run it again.') : err;
  };
  const onAbort = (): void => {
    aborted = true;
    kill(); // without a pgid yet, the filter kills as soon as it arrives
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await conn.exec(command, c.attach, signal);
    let result: ExecResult;
    try {
      result = await c.done;
    } catch (err) {
      throw await afterConnectionLost(err);
    }
    if (aborted) {
      await killing;
      throw new CancelledError();
    }
    return { ...result, stderr: stderrOut.value() };
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
