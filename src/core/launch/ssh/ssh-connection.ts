import * as path from 'node:path';
import { Client, type ClientChannel, type ConnectConfig, type ServerHostKeyAlgorithm, type SFTPWrapper } from 'ssh2';
import type { HostServices } from '../../host';
import { toDisposable, type Disposable } from '../../util/disposable';
import { appendKnownHost, checkHostKey, fingerprintSha256, keyTypeOf, knownHostsName, knownKeyTypes, readKnownHosts } from './known-hosts';
import { makeAuthHandler, type KeyStore } from './ssh-auth';
import { LOGIN_SHELL_COMMAND } from '../shell/remote-command';
import type { SshEndpoint } from './ssh-config-file';
import {
  isPermanentSshError,
  SshAuthError,
  SshConnectError,
  SshConnectionLostError,
  SshHostKeyChangedError,
  SshHostKeyRevokedError,
  SshHostKeyUnknownError,
} from './ssh-errors';
import { isChannelOpenFailure, SessionPool } from './session-pool';
import type { ConnectionState } from '../types';

export interface ReconnectPolicy {
  /** attempts after a dropped connection before the state becomes `failed` */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface ConnectionOptions {
  host: HostServices;
  keys: KeyStore;
  homeDir: string;
  /** SSH_AUTH_SOCK unless ssh_config's IdentityAgent says otherwise; undefined = no agent */
  agentSocket?: string;
  /**
   * The user's own known_hosts (a machine setting, or the spec's `knownHostsPath`), replacing the
   * endpoint's. New keys are only ever appended to the first of these.
   */
  knownHostsFiles?: string[];
  /**
   * Trust files a notebook named (with the user's consent): read only, never written, and
   * consulted only for hosts the user's own files do not list, so they can add trust for a new
   * host but never override a key the user has (a changed or revoked key stays refused).
   */
  extraKnownHostsFiles?: string[];
  /**
   * The ssh_config in use came from a notebook: its UserKnownHostsFile entries count as extra
   * (read-only) files, and the user's own ~/.ssh/known_hosts is checked and written instead.
   */
  configFromNotebook?: boolean;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  /** first guess of the server's MaxSessions; lowered when the server refuses */
  maxSessions: number;
  reconnect: ReconnectPolicy;
}

type AnyOpen = ClientChannel | SFTPWrapper;

/**
 * One SSH connection to one host, shared by everything that talks to that host (exec, sftp,
 * forwards, the hosts behind it when it is a ProxyJump bastion). Connects lazily, keeps alive,
 * and after a drop reconnects with exponential backoff and jitter; the state is observable.
 */
/** The user's own known_hosts files (checked and written) and the read-only extra ones. */
export function trustFilesFor(ep: SshEndpoint, options: Pick<ConnectionOptions, 'knownHostsFiles' | 'extraKnownHostsFiles' | 'configFromNotebook' | 'homeDir'>): { userFiles: string[]; extraFiles: string[] } {
  const defaults = [path.join(options.homeDir, '.ssh', 'known_hosts'), path.join(options.homeDir, '.ssh', 'known_hosts2')];
  const userFiles = options.knownHostsFiles ?? (options.configFromNotebook ? defaults : ep.knownHostsFiles);
  const extraFiles = [...(options.extraKnownHostsFiles ?? []), ...(options.configFromNotebook ? ep.knownHostsFiles : [])].filter((f) => !userFiles.includes(f));
  return { userFiles, extraFiles };
}

export class SshConnection implements Disposable {
  readonly pool: SessionPool;
  private client: Client | undefined;
  private pending: Promise<Client> | undefined;
  private stateValue: ConnectionState = { state: 'idle' };
  private readonly listeners = new Set<(state: ConnectionState) => void>();
  private disposed = false;
  private sleeping: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  /** bumps each time an established connection is lost: channels opened before know they died */
  private generationValue = 0;

  constructor(
    readonly endpoint: SshEndpoint,
    private readonly options: ConnectionOptions,
    private readonly parent: SshConnection | undefined,
  ) {
    this.pool = new SessionPool(options.maxSessions);
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  get generation(): number {
    return this.generationValue;
  }

  get label(): string {
    return `${this.endpoint.user}@${this.endpoint.hostName}:${this.endpoint.port}`;
  }

  onState(listener: (state: ConnectionState) => void): Disposable {
    this.listeners.add(listener);
    return toDisposable(() => {
      this.listeners.delete(listener);
    });
  }

  /** The live client; connects, or waits for the reconnect in progress. */
  getClient(): Promise<Client> {
    if (this.disposed) return Promise.reject(new SshConnectionLostError(`Connection to ${this.endpoint.alias} is closed`, { node: this.endpoint.alias }));
    if (this.client) return Promise.resolve(this.client);
    if (!this.pending) this.pending = this.connectLoop(1, undefined);
    return this.pending;
  }

  /** User action (tree view "reconnect"): drop what is there and connect again now. */
  async reconnect(): Promise<void> {
    if (this.pending) {
      this.sleeping?.wake();
      await this.pending;
      return;
    }
    this.client?.end();
    await this.getClient();
  }

  /**
   * Opens a session channel (exec/sftp) within the server's MaxSessions, queueing when full.
   * `open` gets the slot's release function; the slot is released on failure here.
   */
  async openSession<T extends AnyOpen>(open: (client: Client, release: () => void) => Promise<T>, signal?: AbortSignal, priority = false): Promise<{ channel: T; release: () => void }> {
    for (let attempt = 0; ; attempt++) {
      const release = await this.pool.acquire(signal, priority);
      let client: Client;
      try {
        client = await this.getClient();
      } catch (err) {
        release();
        throw err;
      }
      try {
        const channel = await open(client, release);
        return { channel, release };
      } catch (err) {
        const othersOpen = this.pool.inUse - 1;
        release();
        // the server's MaxSessions is lower than our guess: remember it and wait for a slot
        if (isChannelOpenFailure(err) && attempt < 1000 && this.pool.learnLimit(othersOpen)) continue;
        if (err instanceof Error && /Not connected|No response from server/.test(err.message)) {
          throw new SshConnectionLostError(`Connection to ${this.endpoint.alias} was lost`, { node: this.endpoint.alias }, undefined, { cause: err });
        }
        throw err;
      }
    }
  }

  /** what decides which known_hosts files are the user's (for the terminal) */
  trustOptions(): Pick<ConnectionOptions, 'knownHostsFiles' | 'extraKnownHostsFiles' | 'configFromNotebook' | 'homeDir'> {
    return this.options;
  }

  /**
   * Starts `command` in a new exec channel. `attach` runs synchronously when the channel opens:
   * a fast command's exit status can arrive in the same packet batch, before any later callback.
   */
  async exec(command: string, attach: (channel: ClientChannel, release: () => void) => void, signal?: AbortSignal, priority = false): Promise<void> {
    await this.openSession(
      (client, release) =>
        new Promise<ClientChannel>((resolve, reject) => {
          try {
            // the login shell only ever sees the fixed LOGIN_SHELL_COMMAND; the command goes on stdin
            client.exec(LOGIN_SHELL_COMMAND, (err, ch) => {
              if (err) return reject(err);
              ch.write(command);
              attach(ch, release);
              resolve(ch);
            });
          } catch (err) {
            reject(err);
          }
        }),
      signal,
      priority,
    );
  }

  sftp(signal?: AbortSignal): Promise<{ channel: SFTPWrapper; release: () => void }> {
    return this.openSession(
      (client, release) =>
        new Promise<SFTPWrapper>((resolve, reject) => {
          try {
            client.sftp((err, s) => {
              if (err) return reject(err);
              s.once('close', release);
              resolve(s);
            });
          } catch (err) {
            reject(err);
          }
        }),
      signal,
    );
  }

  /** A direct-tcpip channel to host:port as seen from this host (not a session: no pool slot). */
  async forwardOut(host: string, port: number): Promise<ClientChannel> {
    const client = await this.getClient();
    return new Promise((resolve, reject) => {
      try {
        client.forwardOut('127.0.0.1', 0, host, port, (err, ch) => (err ? reject(err) : resolve(ch)));
      } catch (err) {
        reject(err);
      }
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.sleeping?.wake();
    this.client?.end();
    this.client = undefined;
    this.setState({ state: 'idle' });
    this.listeners.clear();
  }

  private setState(state: ConnectionState): void {
    this.stateValue = state;
    for (const l of [...this.listeners]) l(state);
  }

  /** `attempts` tries; a lost connection gets `reconnect.maxAttempts`, a first connect one try. */
  private async connectLoop(attempts: number, lostReason: string | undefined): Promise<Client> {
    try {
      for (let attempt = 1; ; attempt++) {
        if (this.disposed) throw new SshConnectionLostError(`Connection to ${this.endpoint.alias} is closed`, { node: this.endpoint.alias });
        this.setState(lostReason === undefined && attempt === 1 ? { state: 'connecting' } : { state: 'reconnecting', attempt, reason: lostReason ?? 'retrying' });
        try {
          const client = await this.connectOnce();
          if (this.disposed) {
            client.end();
            throw new SshConnectionLostError(`Connection to ${this.endpoint.alias} is closed`, { node: this.endpoint.alias });
          }
          this.adopt(client);
          this.setState({ state: 'connected' });
          return client;
        } catch (err) {
          if (this.disposed || isPermanentSshError(err) || attempt >= attempts) {
            if (!this.disposed) this.setState({ state: 'failed', reason: err instanceof Error ? err.message : String(err) });
            throw err;
          }
          lostReason = err instanceof Error ? err.message : String(err);
          await this.sleep(this.backoffMs(attempt));
        }
      }
    } finally {
      this.pending = undefined;
    }
  }

  private backoffMs(attempt: number): number {
    const { baseDelayMs, maxDelayMs } = this.options.reconnect;
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    // full jitter in the upper half: nodes behind one bastion do not all retry at once (MaxStartups)
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleeping = undefined;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleeping = { timer, wake };
    });
  }

  private adopt(client: Client): void {
    this.client = client;
    client.on('close', () => {
      if (this.client !== client) return;
      this.client = undefined;
      this.generationValue++;
      if (this.disposed) return;
      const attempts = this.options.reconnect.maxAttempts;
      this.pending = this.connectLoop(attempts, 'connection lost');
      // nobody may be waiting; the state carries the outcome
      this.pending.catch(() => undefined);
    });
  }

  private async connectOnce(): Promise<Client> {
    const ep = this.endpoint;
    const where = { node: ep.alias };
    let sock: ClientChannel | undefined;
    if (this.parent) {
      try {
        sock = await this.parent.forwardOut(ep.hostName, ep.port);
      } catch (err) {
        if (isPermanentSshError(err)) throw err;
        throw new SshConnectError(`Cannot reach ${ep.alias} (${ep.hostName}:${ep.port}) through ${this.parent.endpoint.alias}: ${err instanceof Error ? err.message : String(err)}`, where, 'Check ProxyJump and that the jump host can reach the node.', { cause: err });
      }
    }
    const { userFiles: knownHostsFiles, extraFiles } = trustFilesFor(ep, this.options);
    const userEntries = (await Promise.all(knownHostsFiles.map(readKnownHosts))).flat();
    const extraEntries = (await Promise.all(extraFiles.map(readKnownHosts))).flat();
    const entries = [...userEntries, ...extraEntries];
    const khName = knownHostsName(ep.hostKeyAlias ?? ep.hostName, ep.port);
    const agentSocket = ep.identityAgent === undefined ? this.options.agentSocket : ep.identityAgent.toLowerCase() === 'none' ? undefined : ep.identityAgent;
    const auth = makeAuthHandler({ user: ep.user, agentSocket, identityFiles: ep.identityFiles, identitiesOnly: ep.identitiesOnly, homeDir: this.options.homeDir }, this.options.keys);

    let hostKeyError: unknown;
    /** a question to the user is open: the connect timeout must not fire under them */
    let prompting = 0;
    const hostVerifier = (key: Buffer, verify: (ok: boolean) => void): void => {
      // the user's own files decide whenever they know the host; extra files only fill gaps
      const own = checkHostKey(userEntries, khName, key);
      const verdict = own.verdict === 'unknown' ? checkHostKey(entries, khName, key) : own;
      const fp = fingerprintSha256(key);
      if (verdict.verdict === 'trusted') return verify(true);
      if (verdict.verdict === 'revoked') {
        hostKeyError = new SshHostKeyRevokedError(`The host key of ${ep.alias} (${fp}) is marked @revoked in known_hosts`, where, 'Ask the administrator for the node’s new key.');
        return verify(false);
      }
      if (verdict.verdict === 'changed') {
        hostKeyError = new SshHostKeyChangedError(ep.alias, verdict.expected, fp, where);
        return verify(false);
      }
      prompting++;
      const file = knownHostsFiles[0];
      this.options.host
        .confirm(
          `The authenticity of host '${ep.alias}' (${ep.hostName}:${ep.port}) can't be established. Trust it?`,
          `${keyTypeOf(key)} key fingerprint is ${fp}. Accepting adds it to ${file}.`,
        )
        .then(async (yes) => {
          if (!yes) throw new SshHostKeyUnknownError(ep.alias, fp, where);
          await appendKnownHost(file, khName, key);
        })
        .then(
          () => verify(true),
          (err: unknown) => {
            hostKeyError = err;
            verify(false);
          },
        )
        .finally(() => prompting--);
    };

    const client = new Client();
    const config: ConnectConfig = {
      host: ep.hostName,
      port: ep.port,
      username: ep.user,
      sock,
      authHandler: auth.handler,
      hostVerifier,
      // our own timer below; ssh2's would fire while the user reads a host key question
      readyTimeout: 0,
      keepaliveInterval: this.options.keepaliveIntervalMs,
      keepaliveCountMax: this.options.keepaliveCountMax,
    };
    const preferred = knownKeyTypes(entries, khName).flatMap(hostKeyAlgorithms);
    // offer the key types known_hosts has for this host first, so the server presents one of them
    if (preferred.length > 0) config.algorithms = { serverHostKey: { prepend: preferred, append: [], remove: [] } };

    return new Promise<Client>((resolve, reject) => {
      let settled = false;
      const started = Date.now();
      let paused = 0;
      const tick = setInterval(() => {
        if (prompting > 0) paused += 250;
        if (Date.now() - started - paused > this.options.connectTimeoutMs) {
          fail(new SshConnectError(`Timed out connecting to ${ep.alias} (${ep.hostName}:${ep.port}) after ${this.options.connectTimeoutMs} ms`, where, 'Check that the node is up and reachable, or raise connectTimeoutMs.'));
        }
      }, 250);
      const fail = (err: unknown): void => {
        if (settled) return;
        settled = true;
        clearInterval(tick);
        client.end();
        client.destroy();
        sock?.destroy();
        reject(err);
      };
      // ssh2 emits 'error' at any time; without a listener Node would throw
      client.on('error', (err: Error & { level?: string }) => {
        if (settled) return;
        if (hostKeyError) return fail(hostKeyError);
        if (err.level === 'client-authentication') {
          if (auth.failure.error) return fail(auth.failure.error);
          return fail(
            new SshAuthError(
              `Permission denied for ${ep.user}@${ep.alias}; tried: ${auth.tried.length > 0 ? auth.tried.join(', ') : 'no usable key or agent'}`,
              where,
              'Load your key into ssh-agent, or set IdentityFile in ~/.ssh/config or identityFile in the cluster cell.',
            ),
          );
        }
        fail(new SshConnectError(`Cannot connect to ${ep.alias} (${ep.hostName}:${ep.port}): ${err.message}`, where, 'Check the host name, port and network, and that sshd is running.', { cause: err }));
      });
      client.once('close', () => fail(hostKeyError ?? new SshConnectError(`Connection to ${ep.alias} closed during login`, where, 'Check the server’s sshd log (MaxStartups, AllowUsers).')));
      client.once('ready', () => {
        if (settled) return;
        settled = true;
        clearInterval(tick);
        resolve(client);
      });
      try {
        client.connect(config);
        // small request/response packets (exec, window adjusts, hops' traffic) must not wait
        // for delayed ACKs: Nagle cost ~80 ms per command through a ProxyJump hop
        client.setNoDelay(true);
      } catch (err) {
        fail(new SshConnectError(`Cannot connect to ${ep.alias}: ${err instanceof Error ? err.message : String(err)}`, where, undefined, { cause: err }));
      }
    });
  }
}

/** known_hosts key types -> the host key algorithms that make the server present that key. */
function hostKeyAlgorithms(keyType: string): ServerHostKeyAlgorithm[] {
  switch (keyType) {
    case 'ssh-rsa':
      return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
    case 'ssh-ed25519':
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521':
      return [keyType];
    default:
      return [];
  }
}
