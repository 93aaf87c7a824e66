import type { Disposable } from '../util/disposable';

/** a cluster kind of launch/registry.ts ('local', 'ssh', 'sim', ...) */
export type ClusterKind = string;

/** What the planner needs of a cluster: its nodes' names, addresses and GPU counts. */
export interface PlanCluster {
  name: string;
  kind: string;
  nodes: readonly { name: string; address: string; gpus: number }[];
}

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

/**
 * One rank's lifecycle on a node: the seam between the deployment and how a cluster kind starts
 * processes. The shell supervisor (launch/shell, setsid + process group + a directory per rank
 * on the node) serves ssh, local and sim; a scheduler-backed kind (Slurm) brings its own. Nothing
 * outside a launcher knows where a rank's pid, log or exit code live.
 */
export interface Launcher {
  /** 'shell', 'slurm', ... (recorded with each rank's state) */
  readonly kind: string;
  start(rank: RankSpec): Promise<RankState>;
  status(rank: RankState, signal?: AbortSignal): Promise<RankStatus>;
  /** TERM, wait `graceMs`, KILL, and verify nothing of the rank is left */
  stop(rank: RankState, options?: { graceMs?: number; signal?: AbortSignal }): Promise<StopOutcome>;
  /** one signal to the rank's processes, only while they provably are the ones started (fault injection) */
  signal(rank: RankState, signal: string): Promise<void>;
  /** the last `maxBytes` of the rank's output */
  tail(rank: RankState, maxBytes: number, signal?: AbortSignal): Promise<string>;
  /** bytes of output written so far */
  logSize(rank: RankState, signal?: AbortSignal): Promise<number>;
  /** streams the rank's output from a byte offset until it exits (reconnecting underneath) */
  follow(rank: RankState, options: FollowOptions): Promise<FollowResult>;
  /** pids of every live process of these ranks on `node` (the GPU leak check after a stop) */
  processIds(node: string, ranks: readonly RankState[], signal?: AbortSignal): Promise<number[]>;
  /** validates persisted state (it comes from a file a user could edit) before it reaches a node */
  parseState(data: unknown): RankState;
}

export interface RankSpec {
  /** the deployment (or bench run) the rank belongs to */
  deploymentId: string;
  /** the rank's name within it, e.g. `prefill-0` */
  name: string;
  node: string;
  argv: readonly string[];
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  /** where a supervisor that keeps per-rank directories puts them (shell: default ~/.moebench/deployments) */
  baseDir?: string;
  signal?: AbortSignal;
}

/** What a reload needs to find a rank again; plain JSON, its launcher's own fields besides these. */
export interface RankState {
  /** the launcher that started it (absent in records written before launchers had kinds: shell) */
  launcher?: string;
  cluster: string;
  node: string;
  deploymentId: string;
  name: string;
  startedAt: string;
  argv: string[];
  /** the rank's process group on the node, when the launcher knows it (shown in status tables) */
  pgid?: number;
}

export type RankStatus =
  | { state: 'running'; logBytes: number }
  | { state: 'exited'; exitCode: number; logBytes: number }
  /** no live process and no exit code: killed, node rebooted, or its output was removed */
  | { state: 'gone'; logBytes: number; reason?: string };

export type StopOutcome = 'not-running' | 'terminated' | 'killed';

export interface FollowOptions {
  /** bytes of the log already consumed (persist the last `offset` you were given) */
  fromOffset?: number;
  /** text in order; `offset` is the byte offset just after it */
  onData: (text: string, offset: number) => void;
  signal?: AbortSignal;
  /** keep retrying a broken stream for this long (reconnects happen underneath); default 120 s */
  retryForMs?: number;
  retryDelayMs?: number;
  /** told about each interruption (for a "reconnecting" badge) */
  onInterrupted?: (err: unknown) => void;
}

export interface FollowResult {
  /** byte offset after the last delivered text */
  offset: number;
  /** true when the process exited and the whole log was read; false when aborted */
  complete: boolean;
}

export interface Cluster extends Disposable {
  readonly name: string;
  readonly kind: ClusterKind;
  /** starts, watches and stops the ranks of deployments on this cluster's nodes */
  readonly launcher: Launcher;
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
  /**
   * What the cluster holds beyond its nodes, for the Cluster view: a scheduler's job (its id and
   * state in `summary`, the rest in `tooltip`) and, per node, the scheduler's name for it.
   */
  describe?(): ClusterDescription;
}

export interface ClusterDescription {
  /** one line next to the cluster's name ("Slurm job 42 · RUNNING") */
  summary: string;
  /** more lines on hover (partition, time limit, where the scheduler's commands run) */
  tooltip: string[];
  /** cluster node name -> how the scheduler names that node ("node1" -> "c01") */
  hosts?: Record<string, string>;
}
