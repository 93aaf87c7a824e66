import { MoeBenchError, type ErrorLocation } from '../../util/errors';

/** Typed failures of the SSH layer; each names the node and says what to do next. */
export class SshError extends MoeBenchError {}

/** The server's host key is not in known_hosts and the host (user or CLI flag) did not accept it. */
export class SshHostKeyUnknownError extends SshError {
  constructor(
    readonly hostName: string,
    readonly fingerprint: string,
    where: ErrorLocation,
    hint = 'Connect once with `ssh` to add the key to known_hosts after checking it, or run the CLI with --accept-new-host-keys.',
  ) {
    super(`The host key of ${hostName} is not known (${fingerprint}) and was not accepted`, where, hint);
  }
}

/** The server presents a different key than known_hosts records: possibly an attack. Never accepted. */
export class SshHostKeyChangedError extends SshError {
  constructor(
    readonly hostName: string,
    readonly expectedFingerprints: readonly string[],
    readonly actualFingerprint: string,
    where: ErrorLocation,
  ) {
    super(
      `The host key of ${hostName} has CHANGED: known_hosts has ${expectedFingerprints.join(', ')} but the server offered ${actualFingerprint}. The connection was refused.`,
      where,
      'If the node was reinstalled, verify the new key with its administrator and remove the old entry (`ssh-keygen -R host`); otherwise someone may be intercepting the connection.',
    );
  }
}

/** The host key is listed under @revoked in known_hosts. */
export class SshHostKeyRevokedError extends SshError {}

export class SshAuthError extends SshError {}

/** Could not reach the node (DNS, refused, timeout, bastion failure). */
export class SshConnectError extends SshError {}

/** The connection dropped while a command or transfer was using it. */
export class SshConnectionLostError extends SshError {}

/** ssh_config uses something this client does not do (ProxyCommand, ...). */
export class SshConfigError extends SshError {}

/** True for failures that retrying cannot fix (bad host key, no usable credentials, bad config). */
export function isPermanentSshError(err: unknown): boolean {
  return (
    err instanceof SshHostKeyUnknownError ||
    err instanceof SshHostKeyChangedError ||
    err instanceof SshHostKeyRevokedError ||
    err instanceof SshAuthError ||
    err instanceof SshConfigError
  );
}
