import * as os from 'node:os';
import * as path from 'node:path';
import type { HostServices } from '../../host';
import { DisposableStore, toDisposable, type Disposable } from '../../util/disposable';
import { CellReferenceError, SpecValidationError } from '../../util/errors';
import { specificHost } from '../endpoint-host';
import { LocalForward } from './port-forward';
import { KeyStore } from './ssh-auth';
import { defaultResolveContext, loadSshConfig, resolveEndpoint, type SshEndpoint } from './ssh-config-file';
import { SshConnection, trustFilesFor, type ConnectionOptions, type ReconnectPolicy } from './ssh-connection';
import { sshExec } from './ssh-exec';
import { sshStreamExec, type StreamExec, type StreamExecOptions } from './ssh-stream-exec';
import { sftpReadFile, sftpWriteFile } from './sftp';
import type { SshClusterSpec } from './ssh-spec';
import type { Cluster, ClusterNodeInfo, ConnectionState, ExecOptions, ExecResult, Launcher } from '../types';
import { ShellLauncher } from '../shell/launcher';

export type { SshClusterSpec, SshNodeSpec } from './ssh-spec';
export { sshClusterSpecSchema } from './ssh-spec';

/** Knobs the YAML does not carry (tests, settings). */
export interface SshClusterOptions {
  /** agent socket; default $SSH_AUTH_SOCK, `null` = no agent */
  agentSocket?: string | null;
  /** for `~` and default keys/config; default os.homedir() */
  homeDir?: string;
  /** first guess of the servers' MaxSessions (OpenSSH default 10); lowered when a server refuses */
  maxSessions?: number;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  reconnect?: Partial<ReconnectPolicy>;
  /** after TERM on cancel, how long the remote group gets before KILL */
  killGraceMs?: number;
  /**
   * Trust files named by a notebook (the user consented outside the notebook): `sshConfig` says
   * spec.sshConfigPath came from the notebook; `knownHostsPath` is a read-only extra known_hosts.
   * Neither can override or receive the user's own host keys (see ConnectionOptions).
   */
  notebookFiles?: { sshConfig?: boolean; knownHostsPath?: string };
}

const DEFAULTS = {
  connectTimeoutMs: 20_000,
  maxSessions: 10,
  keepaliveIntervalMs: 15_000,
  keepaliveCountMax: 3,
  killGraceMs: 3_000,
  reconnect: { maxAttempts: 8, baseDelayMs: 250, maxDelayMs: 30_000 },
};

interface NodeEntry {
  info: ClusterNodeInfo;
  conn: SshConnection;
}

export class SshCluster implements Cluster {
  readonly kind = 'ssh' as const;
  readonly launcher: Launcher = new ShellLauncher(this);
  readonly nodes: readonly ClusterNodeInfo[];
  private readonly byName = new Map<string, NodeEntry>();
  private readonly forwards = new Map<string, Promise<LocalForward>>();
  private readonly store = new DisposableStore();

  constructor(
    private readonly spec: SshClusterSpec,
    entries: NodeEntry[],
    /** every connection, hops included, parents before children */
    connections: SshConnection[],
    private readonly killGraceMs: number,
  ) {
    this.nodes = entries.map((e) => e.info);
    for (const e of entries) this.byName.set(e.info.name, e);
    for (const c of connections) this.store.add(c);
  }

  get name(): string {
    return this.spec.name;
  }

  node(name: string): ClusterNodeInfo {
    return this.entry(name).info;
  }

  /** The resolved ssh_config view of a node (host, port, user, jump chain), for the tree and errors. */
  endpoint(name: string): SshEndpoint {
    return this.entry(name).conn.endpoint;
  }

  exec(node: string, argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const { conn } = this.entry(node);
    return sshExec(conn, { argv, env: options.env, cwd: options.cwd ?? this.spec.workDir, preamble: this.spec.preamble }, options, this.killGraceMs);
  }

  /** argv on a node with its stdin kept open for the caller (client-node load shards; see ssh-stream-exec.ts) */
  execStream(node: string, argv: readonly string[], options: StreamExecOptions): Promise<StreamExec> {
    const { conn } = this.entry(node);
    return sshStreamExec(conn, { argv, cwd: this.spec.workDir, preamble: this.spec.preamble }, options, this.killGraceMs);
  }

  httpEndpoint(node: string, port: number, host?: string): Promise<string> {
    const { conn } = this.entry(node);
    // sshd on the node connects to this address: a server bound to one interface is only there
    const target = specificHost(host) ?? '127.0.0.1';
    const key = `${node}|${target}|${port}`;
    let fwd = this.forwards.get(key);
    if (!fwd) {
      fwd = LocalForward.open(conn, target, port);
      this.forwards.set(key, fwd);
      fwd.then(
        (f) => this.store.add(f),
        () => this.forwards.delete(key),
      );
    }
    return fwd.then((f) => f.url);
  }

  /** Reads a file on the node over SFTP (`~/` is the login directory). */
  readFile(node: string, remotePath: string, signal?: AbortSignal): Promise<Buffer> {
    return sftpReadFile(this.entry(node).conn, remotePath, signal);
  }

  /** Writes a file on the node over SFTP, replacing it. */
  writeFile(node: string, remotePath: string, data: Buffer | string, options: { mode?: number; signal?: AbortSignal } = {}): Promise<void> {
    return sftpWriteFile(this.entry(node).conn, remotePath, data, options);
  }

  /** Tree-view action: connect again now (skipping the backoff wait). */
  reconnect(node: string): Promise<void> {
    return this.entry(node).conn.reconnect();
  }

  /**
   * The user's own OpenSSH client, built from the endpoint already resolved (host, port, user,
   * keys, jumps), with `-F none`: a notebook's ssh_config never reaches OpenSSH, whose `Match exec`
   * and `ProxyCommand` would run local commands. Host keys are checked against the user's own
   * known_hosts only; extra files a notebook named are not passed on.
   */
  terminal(node: string): { argv: string[] } {
    const ep = this.endpoint(node);
    const entry = this.entry(node);
    const { userFiles } = trustFilesFor(ep, entry.conn.trustOptions());
    const argv = ['ssh', '-F', 'none'];
    argv.push('-o', `UserKnownHostsFile=${userFiles.map(sshOptionWord).join(' ')}`, '-o', 'StrictHostKeyChecking=ask');
    if (ep.hostKeyAlias && /^[A-Za-z0-9._:%-]+$/.test(ep.hostKeyAlias)) argv.push('-o', `HostKeyAlias=${ep.hostKeyAlias}`);
    for (const id of ep.identityFiles) argv.push('-i', id);
    if (ep.identitiesOnly) argv.push('-o', 'IdentitiesOnly=yes');
    const jumps: string[] = [];
    for (let hop = ep.via; hop; hop = hop.via) jumps.unshift(`${hop.user}@${hop.hostName}:${hop.port}`);
    if (jumps.length) argv.push('-J', jumps.join(','));
    // `--` ends options: a host or user can never be read as one
    argv.push('-p', String(ep.port), '-l', ep.user, '--', ep.hostName);
    return { argv };
  }

  connectionState(node: string): ConnectionState {
    return this.entry(node).conn.state;
  }

  onStateChange(listener: (node: string, state: ConnectionState) => void): Disposable {
    const subs = [...this.byName.values()].map((e) => e.conn.onState((s) => listener(e.info.name, s)));
    return toDisposable(() => subs.forEach((s) => void s.dispose()));
  }

  dispose(): Promise<void> {
    return this.store.dispose();
  }

  private entry(name: string): NodeEntry {
    const e = this.byName.get(name);
    if (!e) {
      throw new CellReferenceError(`Cluster "${this.spec.name}" has no node "${name}"`, { node: name }, `Known nodes: ${[...this.byName.keys()].join(', ')}.`);
    }
    return e;
  }
}

/** one word of an ssh -o value: OpenSSH splits on spaces and honours double quotes */
function sshOptionWord(value: string): string {
  return /^[^\s"]+$/.test(value) ? value : `"${value.replace(/"/g, '')}"`;
}

function connectionKey(ep: SshEndpoint): string {
  const own = `${ep.user}@${ep.hostName}:${ep.port}`;
  return ep.via ? `${own}<${connectionKey(ep.via)}` : own;
}

/**
 * An ssh cluster from a cluster cell's values. Resolves every node through ssh_config now (bad
 * config fails here, with the node named) but connects lazily, on first use.
 */
export async function createSshCluster(spec: SshClusterSpec, host: HostServices, options: SshClusterOptions = {}): Promise<SshCluster> {
  const homeDir = options.homeDir ?? os.homedir();
  const expand = (p: string): string => (p.startsWith('~/') ? path.join(homeDir, p.slice(2)) : p);
  const config = await loadSshConfig(spec.sshConfigPath ? expand(spec.sshConfigPath) : undefined, homeDir);
  const ctx = defaultResolveContext(config, homeDir);
  const keys = new KeyStore(host);
  const agentSocket = options.agentSocket === null ? undefined : (options.agentSocket ?? process.env.SSH_AUTH_SOCK);
  const connOptions: ConnectionOptions = {
    host,
    keys,
    homeDir,
    agentSocket: agentSocket || undefined,
    knownHostsFiles: spec.knownHostsPath ? [expand(spec.knownHostsPath)] : undefined,
    extraKnownHostsFiles: options.notebookFiles?.knownHostsPath ? [expand(options.notebookFiles.knownHostsPath)] : undefined,
    configFromNotebook: options.notebookFiles?.sshConfig ?? false,
    connectTimeoutMs: spec.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    keepaliveIntervalMs: options.keepaliveIntervalMs ?? DEFAULTS.keepaliveIntervalMs,
    keepaliveCountMax: options.keepaliveCountMax ?? DEFAULTS.keepaliveCountMax,
    maxSessions: options.maxSessions ?? DEFAULTS.maxSessions,
    reconnect: { ...DEFAULTS.reconnect, ...options.reconnect },
  };
  // one connection per host: nodes behind the same bastion share the bastion's connection
  const connections = new Map<string, SshConnection>();
  const connectionFor = (ep: SshEndpoint): SshConnection => {
    const key = connectionKey(ep);
    let c = connections.get(key);
    if (!c) {
      const parent = ep.via ? connectionFor(ep.via) : undefined;
      c = new SshConnection(ep, connOptions, parent);
      connections.set(key, c);
    }
    return c;
  };
  const entries: NodeEntry[] = [];
  const seen = new Set<string>();
  spec.nodes.forEach((n, i) => {
    const alias = typeof n === 'string' ? n : n.host;
    const name = typeof n === 'string' ? n : (n.name ?? n.host);
    if (seen.has(name)) {
      throw new SpecValidationError(`Node "${name}" is listed twice`, { field: `nodes.${i}`, node: name }, 'Give each node a distinct name.');
    }
    seen.add(name);
    const ep = resolveEndpoint(
      alias,
      typeof n === 'string' ? {} : { user: n.user, port: n.port, identityFile: n.identityFile ? expand(n.identityFile) : undefined, proxyJump: n.proxyJump },
      ctx,
    );
    entries.push({ info: { name, address: ep.hostName, gpus: spec.gpusPerNode }, conn: connectionFor(ep) });
  });
  return new SshCluster(spec, entries, [...connections.values()], options.killGraceMs ?? DEFAULTS.killGraceMs);
}
