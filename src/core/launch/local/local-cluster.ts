import * as os from 'node:os';
import { specificHost, urlHostOf } from '../endpoint-host';
import { execLocal } from './local-exec';
import type { Cluster, ClusterNodeInfo, ConnectionState, ExecOptions, ExecResult, Launcher } from '../types';
import { ShellLauncher } from '../shell/launcher';
import { CellReferenceError } from '../../util/errors';

/**
 * Wraps argv so a user's environment preamble (e.g. `source venv/bin/activate`) runs first, then
 * the command is exec'd with its arguments passed positionally — never pasted into the script.
 */
export function withPreamble(preamble: string | undefined, argv: readonly string[]): string[] {
  if (!preamble || preamble.trim() === '') return [...argv];
  return ['bash', '-c', `${preamble}\nexec "$@"`, 'moebench-preamble', ...argv];
}

/** `kind: local`: this machine (a GPU workstation, or a head node reached with Remote-SSH). */
export class LocalCluster implements Cluster {
  readonly kind = 'local' as const;
  readonly launcher: Launcher = new ShellLauncher(this);
  readonly nodes: readonly ClusterNodeInfo[];

  constructor(
    readonly name: string,
    gpus: number,
    private readonly preamble?: string,
    private readonly workDir?: string,
  ) {
    this.nodes = [{ name: 'local', address: '127.0.0.1', gpus }];
  }

  node(name: string): ClusterNodeInfo {
    const n = this.nodes.find((x) => x.name === name || name === os.hostname());
    if (!n) throw new CellReferenceError(`Cluster "${this.name}" has no node "${name}"`, { node: name }, 'A local cluster has one node, named "local".');
    return n;
  }

  exec(node: string, argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    this.node(node);
    return execLocal(withPreamble(this.preamble, argv), { cwd: this.workDir, ...options });
  }

  async httpEndpoint(node: string, port: number, host?: string): Promise<string> {
    this.node(node);
    const specific = specificHost(host);
    return `http://${specific ? urlHostOf(specific) : '127.0.0.1'}:${port}`;
  }

  connectionState(): ConnectionState {
    return { state: 'connected' };
  }

  dispose(): void {
    // nothing held: each exec owns its process group
  }
}

/** GPUs on this machine (nvidia-smi -L), 0 when there is no driver. */
export async function detectLocalGpus(): Promise<number> {
  try {
    const r = await execLocal(['nvidia-smi', '-L'], { captureLimitBytes: 64 * 1024 });
    if (r.exitCode !== 0) return 0;
    return r.stdout.split('\n').filter((l) => /^GPU \d+:/.test(l)).length;
  } catch {
    return 0;
  }
}
