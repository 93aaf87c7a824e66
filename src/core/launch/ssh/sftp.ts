import type { SFTPWrapper } from 'ssh2';
import { CommandFailedError } from '../../util/errors';
import type { SshConnection } from './ssh-connection';

/** SFTP paths are relative to the login directory; accept the `~/` users write. */
function sftpPath(p: string): string {
  if (p === '~') return '.';
  return p.startsWith('~/') ? p.slice(2) : p;
}

/** Runs `fn` on an SFTP session (one MaxSessions slot), closing it afterwards. */
async function withSftp<T>(conn: SshConnection, signal: AbortSignal | undefined, fn: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
  const { channel } = await conn.sftp(signal);
  try {
    return await fn(channel);
  } finally {
    channel.end();
  }
}

function fail(op: string, conn: SshConnection, remotePath: string, err: unknown): CommandFailedError {
  return new CommandFailedError(
    `SFTP ${op} of ${remotePath} on ${conn.endpoint.alias} failed: ${err instanceof Error ? err.message : String(err)}`,
    { node: conn.endpoint.alias, file: remotePath },
    'Check that the path exists and that the ssh user may access it.',
    { cause: err },
  );
}

export function sftpReadFile(conn: SshConnection, remotePath: string, signal?: AbortSignal): Promise<Buffer> {
  return withSftp(
    conn,
    signal,
    (sftp) =>
      new Promise<Buffer>((resolve, reject) => {
        sftp.readFile(sftpPath(remotePath), (err, data) => (err ? reject(fail('read', conn, remotePath, err)) : resolve(data)));
      }),
  );
}

export function sftpWriteFile(conn: SshConnection, remotePath: string, data: Buffer | string, options: { mode?: number; signal?: AbortSignal } = {}): Promise<void> {
  return withSftp(
    conn,
    options.signal,
    (sftp) =>
      new Promise<void>((resolve, reject) => {
        sftp.writeFile(sftpPath(remotePath), data, { mode: options.mode ?? 0o644 }, (err) => (err ? reject(fail('write', conn, remotePath, err)) : resolve()));
      }),
  );
}
