import type { ClientChannel } from 'ssh2';
import { TailText } from '../../util/tail-text';
import { buildExecCommand, buildKillGroupCommand, PgidMarkerFilter, type RemoteExecSpec } from '../shell/remote-command';
import type { SshConnection } from './ssh-connection';
import { SshConnectionLostError } from './ssh-errors';
import { runRaw } from './ssh-exec';
import type { ExecResult } from '../types';

/**
 * A remote command whose stdin stays open: the caller talks to it (client-node load shards).
 * `done` resolves with the exit status, or rejects with SshConnectionLostError when the channel
 * closed without one (the connection dropped under it).
 */
export interface StreamExec {
  write(text: string): void;
  /** EOF on the command's stdin */
  end(): void;
  /** TERM the remote process group, KILL after the grace time; closes the channel */
  kill(): Promise<void>;
  readonly done: Promise<ExecResult>;
}

export interface StreamExecOptions {
  onStdout: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  signal?: AbortSignal;
}

/**
 * The fixed login-shell command of a streaming exec. The plain exec (ssh-connection.ts) reads the
 * real command from stdin up to EOF, which would close stdin for good; here `dd` reads exactly the
 * command's byte count and leaves the rest of stdin to the command. The only variable part is a
 * number, so every login shell still parses the same fixed text (see LOGIN_SHELL_COMMAND).
 */
export function streamLoginShellCommand(commandBytes: number): string {
  if (!Number.isInteger(commandBytes) || commandBytes <= 0) throw new RangeError(`bad command length ${commandBytes}`);
  return `exec /bin/sh -c 'eval "$(dd bs=1 count=${commandBytes} 2>/dev/null)"'`;
}

export async function sshStreamExec(conn: SshConnection, spec: RemoteExecSpec, options: StreamExecOptions, killGraceMs: number): Promise<StreamExec> {
  const command = buildExecCommand(spec);
  const login = streamLoginShellCommand(Buffer.byteLength(command));
  const stderrTail = new TailText(64 * 1024);
  let pgid: number | undefined;
  let channel: ClientChannel | undefined;
  let killing: Promise<void> | undefined;
  let closed = false;
  let settle: { resolve: (r: ExecResult) => void; reject: (e: unknown) => void } | undefined;
  const done = new Promise<ExecResult>((resolve, reject) => (settle = { resolve, reject }));
  const filter = new PgidMarkerFilter(
    (id) => (pgid = id),
    (chunk) => {
      stderrTail.push(chunk);
      options.onStderr?.(chunk);
    },
  );
  const kill = (): Promise<void> => {
    killing ??= (pgid === undefined ? Promise.resolve() : runRaw(conn, buildKillGroupCommand(pgid, killGraceMs), true).then(() => undefined)).catch(() => undefined).then(() => void channel?.close());
    return killing;
  };
  await conn.openSession(
    (client, release) =>
      new Promise<ClientChannel>((resolve, reject) => {
        try {
          client.exec(login, (err, ch) => {
            if (err) return reject(err);
            channel = ch;
            let exitCode: number | null = null;
            let exitSignal: string | null = null;
            let sawExit = false;
            ch.setEncoding('utf8');
            ch.stderr.setEncoding('utf8');
            ch.on('data', (chunk: string) => options.onStdout(chunk));
            ch.stderr.on('data', (chunk: string) => filter.push(chunk));
            ch.on('exit', (code: number | null, signal?: string) => {
              sawExit = true;
              exitCode = typeof code === 'number' ? code : null;
              exitSignal = signal ?? null;
            });
            // a write racing the remote end's exit must not become an uncaught 'error' event; `close` settles `done`
            ch.on('error', (e: Error) => stderrTail.push(`\n(channel error: ${e.message})\n`));
            ch.on('close', () => {
              closed = true;
              release();
              filter.flush();
              if (!sawExit && !killing) {
                settle?.reject(new SshConnectionLostError(`Connection to ${conn.endpoint.alias} was lost while the command ran`, { node: conn.endpoint.alias }, 'Check the node and the network; the command may still be running there.'));
                return;
              }
              settle?.resolve({ exitCode, signal: exitSignal, stdout: '', stderr: stderrTail.value() });
            });
            ch.write(command);
            resolve(ch);
          });
        } catch (err) {
          reject(err);
        }
      }),
    options.signal,
  );
  options.signal?.addEventListener('abort', () => void kill(), { once: true });
  return {
    write: (text) => {
      if (!closed) channel?.write(text);
    },
    end: () => {
      if (!closed) channel?.end();
    },
    kill,
    done,
  };
}
