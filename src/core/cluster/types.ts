import type { Disposable } from '../util/disposable';

export type ClusterKind = 'local' | 'ssh' | 'sim';

export interface ClusterNodeInfo {
  /** the name cells use (ssh_config alias, "local", "node1"...) */
  name: string;
  /** address the node's servers are reachable at from the node itself (for dist-init-addr etc.) */
  address: string;
  gpus: number;
}

export type ConnectionState =
  | { state: 'idle' }
  | { state: 'connecting' }
  | { state: 'connected' }
  | { state: 'reconnecting'; attempt: number; reason: string }
  | { state: 'failed'; reason: string };

export interface ExecOptions {
  /** extra environment; names are validated, values quoted */
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  /** abort kills the whole (remote or local) process group */
  signal?: AbortSignal;
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  /** keep at most this many bytes of stdout/stderr in the result (default 1 MiB each) */
  captureLimitBytes?: number;
}

export interface ExecResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** A long-lived streaming command (e.g. `nvidia-smi -lms 1000`). */
export interface StreamingCommand extends Disposable {
  readonly done: Promise<ExecResult>;
}

export interface Cluster extends Disposable {
  readonly name: string;
  readonly kind: ClusterKind;
  readonly nodes: readonly ClusterNodeInfo[];
  node(name: string): ClusterNodeInfo;
  /** run argv on a node; argv is quoted by the one quoting function, never concatenated */
  exec(node: string, argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /**
   * An http://127.0.0.1:PORT base URL on this machine that reaches `port` on the node
   * (an SSH local forward for ssh clusters; the address itself for local and sim).
   * `host` is the address to reach on/from the node: the one the server listens on when it was
   * given a specific `--host` (a node IP). Omitted, a wildcard or loopback: the node's own loopback.
   */
  httpEndpoint(node: string, port: number, host?: string): Promise<string>;
  connectionState(node: string): ConnectionState;
  onStateChange?(listener: (node: string, state: ConnectionState) => void): Disposable;
  /** connect again now (tree-view action); clusters without connections omit it */
  reconnect?(node: string): Promise<void>;
  /** how to open an interactive shell on the node from this machine (tree-view "Open Terminal") */
  terminal?(node: string): { argv: string[]; env?: Record<string, string> };
}
