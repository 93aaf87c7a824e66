import { mkdtemp, mkdir, rm, readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Cluster, ClusterNodeInfo, ConnectionState, ExecOptions, ExecResult, Launcher } from '../launch/types';
import { ShellLauncher } from '../launch/shell/launcher';
import { specificHost, urlHostOf } from '../launch/endpoint-host';
import { execLocal } from '../launch/local/local-exec';
import { CommandFailedError, MoeBenchError } from '../util/errors';
import { writeSimShims } from './shims';

export interface SimClusterSpec {
  name: string;
  nodes: string[];
  gpusPerNode: number;
  /** the bundled CLI the shims call; default out/cli.js (beside this bundle, or at the repo root) */
  cliPath?: string;
  /** passed to every emulated server (MOEBENCH_SIM_* variables) */
  seed?: number;
  zeroCost?: boolean;
  timeScale?: number;
  /**
   * per-node differences, to rehearse what the preflight doctor catches: a node that sees fewer
   * GPUs, or one with another SGLang release (its servers then export that release's metrics)
   */
  nodeOverrides?: Readonly<Record<string, { gpus?: number; sglangVersion?: string }>>;
}

/** the release an emulated node has installed (what the emulator claims by default) */
export const SIM_NODE_SGLANG_VERSION = '0.5.15';

/** the port on 127.A.B.254 whose listener claims the subnet 127.A.B.0/24 for one live sim cluster */
export const SUBNET_CLAIM_PORT = 64999;
const SUBNETS = 200 * 240;

function listenOn(host: string, port: number): Promise<Server | undefined> {
  return new Promise((resolveListen) => {
    const srv = createServer();
    srv.once('error', () => resolveListen(undefined));
    srv.listen({ host, port, exclusive: true }, () => resolveListen(srv));
  });
}

/**
 * A /24 of loopback addresses no other live sim cluster (in any process) uses. Claimed by binding
 * a listener on its .254 address and held until dispose (or process exit), so two test processes
 * can never hand out the same node addresses, as a pid-derived choice could.
 */
export async function claimSubnet(start = Math.floor(Math.random() * SUBNETS)): Promise<{ second: number; third: number; claim: Server }> {
  // the default random start means concurrent processes rarely even try the same subnet
  for (let i = 0; i < SUBNETS; i++) {
    const k = (start + i) % SUBNETS;
    const second = 1 + Math.floor(k / 240);
    const third = 10 + (k % 240);
    const claim = await listenOn(`127.${second}.${third}.254`, SUBNET_CLAIM_PORT);
    if (claim) {
      claim.unref();
      return { second, third, claim };
    }
  }
  throw new MoeBenchError('No free loopback subnet for a sim cluster', {}, 'Too many sim clusters are running on this machine; stop some.');
}

/** candidate locations of out/cli.js: the bundle's own folder, then the repo root from src/ */
export function defaultCliPath(): string {
  const candidates = [process.env.MOEBENCH_CLI_PATH, join(__dirname, 'cli.js'), resolve(__dirname, '../../../out/cli.js'), resolve(process.cwd(), 'out/cli.js')];
  for (const c of candidates) if (c && existsSync(c)) return c;
  return resolve(__dirname, '../../../out/cli.js');
}

/** Processes whose environment carries this cluster's marker: everything its nodes started. */
async function markedPids(marker: string): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const pids: number[] = [];
  const needle = `MOEBENCH_SIM_CLUSTER_ID=${marker}`;
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const env = await readFile(`/proc/${e}/environ`, 'latin1');
      if (env.split('\0').includes(needle)) pids.push(Number(e));
    } catch {
      // gone, or not ours
    }
  }
  return pids;
}

/**
 * Emulated GPU nodes on this machine: each node is a distinct loopback address (so several
 * nodes can serve the same port, like real nodes), `exec` runs locally in the node's own
 * environment (NODE_NAME, MOEBENCH_SIM_STATE_DIR, shims first on PATH), and the shims turn
 * `python3 -m sglang.launch_server`, the router and `nvidia-smi` into the emulator.
 */
export async function createSimCluster(spec: SimClusterSpec): Promise<Cluster> {
  if (spec.nodes.length === 0) throw new MoeBenchError('A sim cluster needs at least one node', { field: 'nodes' }, 'List node names, e.g. nodes: [node1, node2].');
  if (new Set(spec.nodes).size !== spec.nodes.length) throw new MoeBenchError('Node names must be unique', { field: 'nodes' });
  if (spec.nodes.length > 250) throw new MoeBenchError('A sim cluster holds at most 250 nodes', { field: 'nodes' });
  // a distinct 127.x.y.0/24 per live cluster, claimed across processes (claimSubnet)
  const { second, third, claim } = await claimSubnet();
  const id = `${process.pid}-${second}-${third}`;
  const root = await mkdtemp(join(tmpdir(), `moebench-sim-${spec.name.replace(/[^A-Za-z0-9_-]/g, '_')}-`));
  const stateDir = join(root, 'state');
  const binDir = join(root, 'bin');
  await mkdir(stateDir, { recursive: true });
  await writeSimShims(binDir, { cliPath: spec.cliPath ?? defaultCliPath() });
  for (const o of Object.keys(spec.nodeOverrides ?? {})) {
    if (!spec.nodes.includes(o)) throw new MoeBenchError(`nodeOverrides names "${o}", which is not a node of sim cluster "${spec.name}"`, { field: 'nodeOverrides' }, `Nodes: ${spec.nodes.join(', ')}.`);
  }
  const nodes: ClusterNodeInfo[] = spec.nodes.map((name, i) => ({ name, address: `127.${second}.${third}.${i + 1}`, gpus: spec.gpusPerNode }));
  for (const n of nodes) await mkdir(join(root, 'home', n.name), { recursive: true });
  // each node's "installed" sglang: a dist-info that importlib.metadata finds (pip show, the doctor)
  const versionOf = (node: string): string => spec.nodeOverrides?.[node]?.sglangVersion ?? SIM_NODE_SGLANG_VERSION;
  const siteOf = (version: string): string => join(root, 'site', version.replace(/[^A-Za-z0-9._-]/g, '_'));
  for (const v of new Set(spec.nodes.map(versionOf))) {
    const dist = join(siteOf(v), `sglang-${v.replace(/[^A-Za-z0-9._]/g, '_')}.dist-info`);
    await mkdir(dist, { recursive: true });
    await writeFile(join(dist, 'METADATA'), `Metadata-Version: 2.1\nName: sglang\nVersion: ${v}\nSummary: MoE Bench emulated node (no real package)\n`);
  }
  const controllers = new Set<AbortController>();
  let disposed = false;

  const node = (name: string): ClusterNodeInfo => {
    const n = nodes.find((x) => x.name === name);
    if (!n) throw new MoeBenchError(`Unknown node "${name}" in sim cluster "${spec.name}"`, { node: name }, `Known nodes: ${spec.nodes.join(', ')}.`);
    return n;
  };

  const nodeEnv = (n: ClusterNodeInfo, extra: Readonly<Record<string, string>> = {}): Record<string, string> => {
    const basePath = extra.PATH ?? process.env.PATH ?? '/usr/bin:/bin';
    const env: Record<string, string> = {
      ...extra,
      NODE_NAME: n.name,
      // each emulated node has its own home, as real nodes do: pid/log dirs under ~ never collide
      HOME: join(root, 'home', n.name),
      MOEBENCH_SIM_STATE_DIR: stateDir,
      MOEBENCH_SIM_NODE_ADDRESS: n.address,
      // the cluster cell's count is what the deployment plans for; an override is what the node really has
      MOEBENCH_SIM_GPUS: String(spec.nodeOverrides?.[n.name]?.gpus ?? n.gpus),
      MOEBENCH_SIM_SGLANG_VERSION: versionOf(n.name),
      PYTHONPATH: [siteOf(versionOf(n.name)), extra.PYTHONPATH ?? process.env.PYTHONPATH].filter((x): x is string => !!x).join(':'),
      MOEBENCH_SIM_CLUSTER_ID: id,
      MOEBENCH_SIM_OWNER_PID: String(process.pid),
      PATH: `${binDir}:${basePath}`,
    };
    if (spec.seed !== undefined && extra.MOEBENCH_SIM_SEED === undefined) env.MOEBENCH_SIM_SEED = String(spec.seed);
    if (spec.zeroCost && extra.MOEBENCH_SIM_ZERO_COST === undefined) env.MOEBENCH_SIM_ZERO_COST = '1';
    if (spec.timeScale !== undefined && extra.MOEBENCH_SIM_TIME_SCALE === undefined) env.MOEBENCH_SIM_TIME_SCALE = String(spec.timeScale);
    return env;
  };

  let launcher: Launcher | undefined;
  const cluster: Cluster & { readonly stateDir: string; readonly binDir: string } = {
    name: spec.name,
    kind: 'sim',
    get launcher(): Launcher {
      return (launcher ??= new ShellLauncher(cluster));
    },
    nodes,
    stateDir,
    binDir,
    node,
    async exec(nodeName: string, argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
      if (disposed) throw new CommandFailedError(`Sim cluster "${spec.name}" is shut down`, { node: nodeName });
      const n = node(nodeName);
      // one controller per exec so dispose can stop commands still running
      const ac = new AbortController();
      controllers.add(ac);
      const onAbort = (): void => ac.abort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.signal?.aborted) ac.abort();
      try {
        return await execLocal(argv, { ...options, cwd: options.cwd ?? join(root, 'home', n.name), env: nodeEnv(n, options.env), signal: ac.signal });
      } finally {
        options.signal?.removeEventListener('abort', onAbort);
        controllers.delete(ac);
      }
    },
    async httpEndpoint(nodeName: string, port: number, host?: string): Promise<string> {
      // the emulator binds wildcards and 127.0.0.1 to the node's own address (launch/node-env.ts)
      const n = node(nodeName);
      return `http://${urlHostOf(specificHost(host) ?? n.address)}:${port}`;
    },
    terminal(nodeName: string): { argv: string[]; env: Record<string, string> } {
      const n = node(nodeName);
      return { argv: ['bash', '-i'], env: nodeEnv(n) };
    },
    connectionState(nodeName: string): ConnectionState {
      node(nodeName);
      return disposed ? { state: 'idle' } : { state: 'connected' };
    },
    async dispose(): Promise<void> {
      if (disposed) return;
      disposed = true;
      for (const ac of controllers) ac.abort();
      // detached servers (setsid nohup ...) outlive their exec: find them by the cluster marker
      for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
        const pids = await markedPids(id);
        if (pids.length === 0) break;
        for (const pid of pids) {
          try {
            process.kill(pid, sig);
          } catch {
            // already gone
          }
        }
        if (sig === 'SIGTERM') {
          for (let i = 0; i < 30 && (await markedPids(id)).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
        }
      }
      await rm(root, { recursive: true, force: true });
      await new Promise<void>((r) => claim.close(() => r()));
    },
  };
  return cluster;
}
